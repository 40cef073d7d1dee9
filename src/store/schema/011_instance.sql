-- The store's identity: a random id drawn once, when this migration runs.
-- A snapshot of the in-memory event index (engine/evsnap.c) names the
-- store it was taken of, so that a snapshot of another database (a test's,
-- a copy's) is never applied to this one.
CREATE TABLE store_instance (id TEXT NOT NULL);
@SQLITE@ INSERT INTO store_instance (id) VALUES (lower(hex(randomblob(16))));
@PG@ INSERT INTO store_instance (id) VALUES (md5(random()::text || clock_timestamp()::text || pg_backend_pid()::text));
