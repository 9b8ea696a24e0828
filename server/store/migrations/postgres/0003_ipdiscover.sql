CREATE TABLE options (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE ipdiscover (
    device_id  BIGINT PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
    mode       BIGINT NOT NULL,
    subnet     TEXT   NOT NULL DEFAULT '',
    since      BIGINT NOT NULL
);
CREATE INDEX ipdiscover_subnet ON ipdiscover(subnet);

CREATE TABLE netmap (
    mac        TEXT PRIMARY KEY,
    ip         TEXT   NOT NULL,
    mask       TEXT   NOT NULL DEFAULT '',
    subnet     TEXT   NOT NULL,
    name       TEXT   NOT NULL DEFAULT '',
    vendor     TEXT   NOT NULL DEFAULT '',
    first_seen BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL,
    seen_by    BIGINT REFERENCES devices(id) ON DELETE SET NULL
);
CREATE INDEX netmap_subnet ON netmap(subnet);
CREATE INDEX netmap_ip ON netmap(ip);

CREATE TABLE subnets (
    subnet     TEXT PRIMARY KEY,
    "interval" BIGINT NOT NULL DEFAULT 0,
    last_scan  BIGINT NOT NULL DEFAULT 0
);
