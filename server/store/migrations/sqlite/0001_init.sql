-- Devices: one row per DEVICEID, with the columns lists and decisions need.
-- Times are UNIX seconds (UTC).
CREATE TABLE devices (
    id          INTEGER PRIMARY KEY,
    deviceid    TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL DEFAULT '',
    osname      TEXT    NOT NULL DEFAULT '',
    osversion   TEXT    NOT NULL DEFAULT '',
    arch        TEXT    NOT NULL DEFAULT '',
    ipaddr      TEXT    NOT NULL DEFAULT '',
    ipsrc       TEXT    NOT NULL DEFAULT '',
    memory_mb   INTEGER NOT NULL DEFAULT 0,
    cpus        INTEGER NOT NULL DEFAULT 0,
    useragent   TEXT    NOT NULL DEFAULT '',
    checksum    INTEGER NOT NULL DEFAULT 0,
    fidelity    INTEGER NOT NULL DEFAULT 1,
    quality     REAL    NOT NULL DEFAULT 0,
    first_seen  INTEGER NOT NULL,
    lastdate    INTEGER NOT NULL DEFAULT 0,
    lastcome    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX devices_lastdate ON devices(lastdate);

-- One row per device and section: the section's elements as a JSON array
-- (or object for HARDWARE and BIOS), rewritten when its CHECKSUM bit says so.
CREATE TABLE sections (
    device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    section   TEXT    NOT NULL,
    data      TEXT    NOT NULL,
    PRIMARY KEY (device_id, section)
) WITHOUT ROWID;

-- Administrative keys (TAG, custom fields) owned by the server.
CREATE TABLE accountinfo (
    device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    keyname   TEXT    NOT NULL,
    keyvalue  TEXT    NOT NULL,
    PRIMARY KEY (device_id, keyname)
) WITHOUT ROWID;

-- NOTIFY, DOWNLOAD and SNMP messages, kept for the issues that act on them.
CREATE TABLE events (
    id       INTEGER PRIMARY KEY,
    at       INTEGER NOT NULL,
    deviceid TEXT    NOT NULL,
    query    TEXT    NOT NULL,
    fields   TEXT    NOT NULL
);
CREATE INDEX events_deviceid ON events(deviceid, query);

-- API bearer tokens, SHA-256 hex of the token; never the token itself.
CREATE TABLE api_tokens (
    hash    TEXT PRIMARY KEY,
    created INTEGER NOT NULL
);
