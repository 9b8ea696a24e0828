-- Devices of the network map an admin identified (a printer, a switch):
-- no longer unknown, though no agent inventories them. By MAC, as OCS.
CREATE TABLE identified (
    mac         TEXT    PRIMARY KEY,
    type        TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    who         TEXT    NOT NULL,
    at          INTEGER NOT NULL
);
