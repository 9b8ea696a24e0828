-- Console users: a name, a role (admin: everything; viewer: read only) and
-- a bcrypt hash of the password, never the password itself.
CREATE TABLE users (
    name    TEXT    PRIMARY KEY,
    role    TEXT    NOT NULL CHECK (role IN ('admin', 'viewer')),
    hash    TEXT    NOT NULL,
    created INTEGER NOT NULL
);
-- Console sessions: the SHA-256 (hex) of the cookie's value, never the
-- value; the CSRF token changes go with; UNIX-seconds expiry.
CREATE TABLE sessions (
    hash    TEXT    PRIMARY KEY,
    name    TEXT    NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    csrf    TEXT    NOT NULL,
    expires INTEGER NOT NULL
);
CREATE INDEX sessions_expires ON sessions(expires);
-- Every change made through the API or the console: who, what, when.
CREATE TABLE audit (
    id     INTEGER PRIMARY KEY,
    at     INTEGER NOT NULL,
    who    TEXT    NOT NULL,
    action TEXT    NOT NULL,
    detail TEXT    NOT NULL DEFAULT ''
);
