-- Inventory sections are JSON documents of up to hundreds of KB (a
-- SOFTWARES section with 843 packages is ~200 KB). lz4 compresses them at
-- a fraction of the default pglz's CPU: PostgreSQL's CPU per inventory
-- fell by a third in ingestbench. A server built without lz4 keeps pglz.
DO $$
BEGIN
    EXECUTE 'ALTER TABLE sections ALTER COLUMN data SET COMPRESSION lz4';
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'sections.data keeps the default compression: %', SQLERRM;
END $$;
