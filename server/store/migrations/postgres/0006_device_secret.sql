-- A device bound to a client holds a secret issued at activation (its
-- SHA-256 here): only a request that presents it moves or unbinds the
-- device. NULL while unbound (and for devices bound before secrets).
ALTER TABLE devices ADD COLUMN secret_hash TEXT;
