-- Tags: named expressions of the query language over each doctor
-- (engine/tags.h), and manual tags a person sets per doctor. Only the
-- definitions and the manual values are stored: a computed tag's values
-- are rebuilt from the projections at start and kept current in memory.
--
-- A tag's type is its value's: boolean, number or text; kind says whether
-- its expression computes it ('computed') or people set it ('manual', expr
-- NULL). A name is unique among the live tags; a deleted tag keeps its row
-- (deleted_at), so the change log and the manual history still name it.
CREATE TABLE tags (
  id @ID@,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  type TEXT NOT NULL,
  expr TEXT,
  description TEXT,
  category TEXT,
  created_by TEXT,
  created_at BIGINT NOT NULL,
  updated_by TEXT,
  updated_at BIGINT NOT NULL,
  deleted_at BIGINT
);
CREATE UNIQUE INDEX tags_name ON tags(name) WHERE deleted_at IS NULL;

-- Manual values, as history: rows are only added, the newest (largest id)
-- per (hcp_id, tag_id) is the value in force, and a NULL value clears it.
-- value is the text of the value: true/false, a number, or the text.
CREATE TABLE hcp_tags (
  id @ID@,
  hcp_id BIGINT NOT NULL REFERENCES hcps(id),
  tag_id BIGINT NOT NULL REFERENCES tags(id),
  value TEXT,
  set_by TEXT,
  set_at BIGINT NOT NULL,
  request_id TEXT
);
CREATE INDEX hcp_tags_hcp ON hcp_tags(hcp_id, tag_id, id);

-- The tag-change log that GET /api/v1/tags/feed serves in seq order: a
-- doctor's (hcp_id, the live record) value of a tag (of type type) went
-- from old_value to new_value (their text; NULL: no value) at µs time at.
-- cause says why: event, expiry, masterdata, manual or recompute. Written
-- asynchronously and in batches by the server that saw the change; the
-- initial computation at start and a definition's values are not logged.
CREATE TABLE tag_changes (
  seq @SEQ@,
  at BIGINT NOT NULL,
  hcp_id BIGINT NOT NULL,
  tag TEXT NOT NULL,
  type TEXT NOT NULL,
  old_value TEXT,
  new_value TEXT,
  cause TEXT NOT NULL
);
