-- Deployment packages: who should get which package, and what came of it.
-- A rule assigns a package to every device of a client, of a tag, or to
-- all devices, including those that appear later; it is materialised as a
-- package_states row for a device at its next PROLOG.
CREATE TABLE package_rules (
    package_id TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('all', 'client', 'tag')),
    value      TEXT NOT NULL DEFAULT '',
    force      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (package_id, kind, value)
) WITHOUT ROWID;

-- One row per (package, device). state is NULL (assigned), NOTIFIED (a
-- PROLOG reply offered it) or the agent's result (SUCCESS, ERR_...).
-- Packages are offered while state is NULL or NOTIFIED, never after a
-- result: a stock agent 2.10 offered a package in its history breaks.
CREATE TABLE package_states (
    package_id TEXT NOT NULL,
    deviceid   TEXT NOT NULL,
    force      INTEGER NOT NULL DEFAULT 0,
    state      TEXT,
    updated    INTEGER NOT NULL,
    PRIMARY KEY (package_id, deviceid)
) WITHOUT ROWID;
CREATE INDEX package_states_device ON package_states(deviceid);
