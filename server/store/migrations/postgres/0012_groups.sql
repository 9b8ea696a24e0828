-- Device groups: static (a list of devices: query empty) or dynamic (a
-- query in muster's device language, evaluated in SQL when asked).
CREATE TABLE device_groups (
    name    TEXT   PRIMARY KEY,
    query   TEXT   NOT NULL DEFAULT '',
    created BIGINT NOT NULL,
    who     TEXT   NOT NULL DEFAULT ''
);
CREATE TABLE device_group_members (
    group_name TEXT NOT NULL REFERENCES device_groups(name) ON DELETE CASCADE,
    deviceid   TEXT NOT NULL,
    PRIMARY KEY (group_name, deviceid)
);
-- Packages may target a group; a state made for a group's member says
-- which group (via), so that it is withdrawn when the device leaves the
-- group before it ran the package.
ALTER TABLE package_rules DROP CONSTRAINT IF EXISTS package_rules_kind_check;
ALTER TABLE package_rules ADD CONSTRAINT package_rules_kind_check CHECK (kind IN ('all', 'client', 'tag', 'group'));
ALTER TABLE package_states ADD COLUMN via TEXT NOT NULL DEFAULT '';
