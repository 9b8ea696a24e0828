-- Server options (IPDISCOVER, IPDISCOVER_LATENCY, …); absent = OCS default.
CREATE TABLE options (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Who runs IPDISCOVER where: mode 0 never, 1 elected automatically,
-- 2 elected by an admin (OCS's devices.IVALUE for IPDISCOVER).
CREATE TABLE ipdiscover (
    device_id  INTEGER PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
    mode       INTEGER NOT NULL,
    subnet     TEXT    NOT NULL DEFAULT '',
    since      INTEGER NOT NULL
);
CREATE INDEX ipdiscover_subnet ON ipdiscover(subnet);

-- The network map: every device an elected agent saw, by MAC.
CREATE TABLE netmap (
    mac        TEXT PRIMARY KEY,
    ip         TEXT    NOT NULL,
    mask       TEXT    NOT NULL DEFAULT '',
    subnet     TEXT    NOT NULL,
    name       TEXT    NOT NULL DEFAULT '',
    vendor     TEXT    NOT NULL DEFAULT '',
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    seen_by    INTEGER REFERENCES devices(id) ON DELETE SET NULL
);
CREATE INDEX netmap_subnet ON netmap(subnet);
CREATE INDEX netmap_ip ON netmap(ip);

-- Per-subnet rescans and the last scan reported.
CREATE TABLE subnets (
    subnet    TEXT PRIMARY KEY,
    interval  INTEGER NOT NULL DEFAULT 0,
    last_scan INTEGER NOT NULL DEFAULT 0
);
