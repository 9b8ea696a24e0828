-- What pushes did to each host, as recorded by muster push --server, and
-- the queue of hosts left unreachable.
CREATE TABLE push_hosts (
    host      TEXT PRIMARY KEY,  -- as in the host list: scheme://host:port
    name      TEXT NOT NULL,     -- the host name or address alone
    transport TEXT NOT NULL,
    outcome   TEXT NOT NULL,
    attempts  INTEGER NOT NULL,
    exit_code INTEGER,
    error     TEXT NOT NULL DEFAULT '',
    at        INTEGER NOT NULL,  -- when the outcome was recorded
    queued    INTEGER NOT NULL   -- 1 while unreachable
);
CREATE INDEX push_hosts_name ON push_hosts(name);
