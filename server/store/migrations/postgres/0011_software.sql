-- Installed software, one row per package of a device's SOFTWARES section,
-- rewritten with it: what groups and searches query in SQL. name is
-- lower-cased; vkey orders versions (digit runs zero-padded, see
-- VersionKey), so that "< 23" is a string comparison on both engines.
CREATE TABLE software (
    device_id BIGINT  NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    name      TEXT    NOT NULL,
    version   TEXT    NOT NULL DEFAULT '',
    vkey      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX software_device ON software(device_id);
CREATE INDEX software_name ON software(name);
-- Devices inventoried before this table are filled in at the next start
-- (store.backfillSoftware), in batches.
