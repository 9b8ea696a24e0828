-- Push runs reported by muster push --server: one row a run (its id is
-- the pusher's run id), and every host outcome of the run in order, which
-- the console follows live.
CREATE TABLE push_runs (
    id       TEXT    PRIMARY KEY,
    started  INTEGER NOT NULL,
    who      TEXT    NOT NULL,
    hosts    INTEGER NOT NULL,
    label    TEXT    NOT NULL DEFAULT '',
    finished INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE push_events (
    id        INTEGER PRIMARY KEY,
    run_id    TEXT    NOT NULL REFERENCES push_runs(id) ON DELETE CASCADE,
    host      TEXT    NOT NULL,
    outcome   TEXT    NOT NULL,
    attempts  INTEGER NOT NULL,
    exit_code INTEGER,
    error     TEXT    NOT NULL DEFAULT '',
    at        INTEGER NOT NULL
);
CREATE INDEX push_events_run ON push_events(run_id, id);
