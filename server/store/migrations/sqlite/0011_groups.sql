-- Device groups: static (a list of devices: query empty) or dynamic (a
-- query in muster's device language, evaluated in SQL when asked).
CREATE TABLE device_groups (
    name    TEXT    PRIMARY KEY,
    query   TEXT    NOT NULL DEFAULT '',
    created INTEGER NOT NULL,
    who     TEXT    NOT NULL DEFAULT ''
);
CREATE TABLE device_group_members (
    group_name TEXT NOT NULL REFERENCES device_groups(name) ON DELETE CASCADE,
    deviceid   TEXT NOT NULL,
    PRIMARY KEY (group_name, deviceid)
) WITHOUT ROWID;
-- Packages may target a group; a state made for a group's member says
-- which group (via), so that it is withdrawn when the device leaves the
-- group before it ran the package.
CREATE TABLE package_rules_new (
    package_id TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('all', 'client', 'tag', 'group')),
    value      TEXT NOT NULL DEFAULT '',
    force      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (package_id, kind, value)
) WITHOUT ROWID;
INSERT INTO package_rules_new SELECT package_id, kind, value, force FROM package_rules;
DROP TABLE package_rules;
ALTER TABLE package_rules_new RENAME TO package_rules;
ALTER TABLE package_states ADD COLUMN via TEXT NOT NULL DEFAULT '';
