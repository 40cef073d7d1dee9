-- Indexes a bulk load dropped and has yet to build again. Loading many rows
-- into an empty table is several times faster without its non-unique
-- indexes, which are then built once, sorted (see mr_conn_defer_indexes).
-- The definitions are kept here, in the database, so that a load that dies
-- half way leaves no index lost: every start (mr_store_migrate) rebuilds
-- whatever is listed.
CREATE TABLE deferred_indexes (
  name TEXT PRIMARY KEY,
  tbl TEXT NOT NULL,
  ddl TEXT NOT NULL,
  deferred_at BIGINT NOT NULL
);
