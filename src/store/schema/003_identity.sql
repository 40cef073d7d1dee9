-- Identity resolution: merges with their lineage and what undoing them
-- needs, and the queue of probable duplicates a person decides on.

-- One row per merge of an HCP record into another. lineage says why
-- (the rule or the Fellegi-Sunter score and its per-field weights) and which
-- fields the survivor took from the merged record; undo holds the rows the
-- merge moved or changed, so unmerge restores them exactly.
CREATE TABLE hcp_merges (
  id @ID@,
  survivor_id BIGINT NOT NULL REFERENCES hcps(id),
  merged_id BIGINT NOT NULL REFERENCES hcps(id),
  rule TEXT NOT NULL,
  score REAL,
  lineage TEXT NOT NULL,
  undo TEXT NOT NULL,
  merged_at BIGINT NOT NULL,
  merged_by TEXT,
  undone_at BIGINT,
  undone_by TEXT
);
CREATE INDEX hcp_merges_survivor ON hcp_merges(survivor_id, id);
CREATE INDEX hcp_merges_merged ON hcp_merges(merged_id, id);

-- Pairs between the thresholds: probably the same doctor, for a person to
-- accept (merge) or reject (keep apart, and never propose again).
CREATE TABLE match_reviews (
  id @ID@,
  a_id BIGINT NOT NULL REFERENCES hcps(id),
  b_id BIGINT NOT NULL REFERENCES hcps(id),
  score REAL NOT NULL,
  detail TEXT NOT NULL,
  status TEXT NOT NULL,
  reason TEXT,
  created_at BIGINT NOT NULL,
  decided_at BIGINT,
  decided_by TEXT,
  UNIQUE (a_id, b_id)
);
CREATE INDEX match_reviews_status ON match_reviews(status, score);
