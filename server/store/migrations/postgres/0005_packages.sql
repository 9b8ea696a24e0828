CREATE TABLE package_rules (
    package_id TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('all', 'client', 'tag')),
    value      TEXT NOT NULL DEFAULT '',
    force      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (package_id, kind, value)
);

CREATE TABLE package_states (
    package_id TEXT   NOT NULL,
    deviceid   TEXT   NOT NULL,
    force      BIGINT NOT NULL DEFAULT 0,
    state      TEXT,
    updated    BIGINT NOT NULL,
    PRIMARY KEY (package_id, deviceid)
);
CREATE INDEX package_states_device ON package_states(deviceid);
