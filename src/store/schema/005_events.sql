-- The event log: every interaction with a doctor on every channel, in the
-- order medreach accepted it (seq, the global sequence number the change
-- feed and every projection follow). Rows are only added; a PIPL erasure
-- clears props and keeps the facts. An event belongs to the HCP record it
-- arrived for (hcp_id); when that record is merged into another, the
-- projections read it as the survivor's, and an unmerge gives it back.
--
-- eid is the sender's event id, unique: on PostgreSQL the unique index
-- below enforces it for every node; SQLite's single writer keeps the ids in
-- memory instead (engine/evindex.c), because a random-key index on a table
-- that grows by hundreds of thousands of rows a second would rewrite most
-- of its pages at every commit. For the same reason SQLite holds no index
-- by doctor: the timeline comes from the in-memory projection.
CREATE TABLE events (
  seq @SEQ@,
  eid TEXT NOT NULL,
  ts BIGINT NOT NULL,
  hcp_id BIGINT NOT NULL,
  channel SMALLINT NOT NULL,
  type TEXT NOT NULL,
  outcome SMALLINT NOT NULL,
  rep_id BIGINT,
  content TEXT,
  campaign TEXT,
  meeting TEXT,
  duration_s INTEGER,
  props TEXT,
  source TEXT NOT NULL,
  received_at BIGINT NOT NULL
);
@PG@ CREATE UNIQUE INDEX events_eid ON events(eid);
