-- Clients own devices through an activation code: 10 letters A-Z, unique
-- across the server, never changed.
CREATE TABLE clients (
    id      INTEGER PRIMARY KEY,
    name    TEXT    NOT NULL UNIQUE,
    code    TEXT    NOT NULL UNIQUE CHECK (length(code) = 10 AND code NOT GLOB '*[^A-Z]*'),
    created INTEGER NOT NULL
);
ALTER TABLE devices ADD COLUMN client_id INTEGER REFERENCES clients(id);
ALTER TABLE devices ADD COLUMN activated INTEGER NOT NULL DEFAULT 0;
