-- Installed software, one row per package of a device's SOFTWARES section,
-- rewritten with it: what groups and searches query in SQL. name is
-- lower-cased; vkey orders versions (digit runs zero-padded, see
-- VersionKey), so that "< 23" is a string comparison on both engines.
CREATE TABLE software (
    device_id BIGINT  NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    name      TEXT    NOT NULL,
    vkey      TEXT    COLLATE "C" NOT NULL DEFAULT '',
    version   TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (device_id, name, vkey)
);
-- vkey compares byte by byte (COLLATE "C"): a database in a language's
-- collation would skip the dots and put 9.20 after 23.
-- One B-tree by device: queries look for a part of a name (LIKE %x%) among
-- a device's rows; a package listed twice (two architectures) is one row.
-- Devices inventoried before this table are filled in at the next start
-- (store.backfillSoftware), in batches.
