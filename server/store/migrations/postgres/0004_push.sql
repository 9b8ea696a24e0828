CREATE TABLE push_hosts (
    host      TEXT PRIMARY KEY,
    name      TEXT   NOT NULL,
    transport TEXT   NOT NULL,
    outcome   TEXT   NOT NULL,
    attempts  BIGINT NOT NULL,
    exit_code BIGINT,
    error     TEXT   NOT NULL DEFAULT '',
    at        BIGINT NOT NULL,
    queued    BIGINT NOT NULL
);
CREATE INDEX push_hosts_name ON push_hosts(name);
