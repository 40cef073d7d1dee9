-- Saved segments: a name for a boolean expression of the query language
-- (docs/expressions.md), evaluated on demand over the engine's projections,
-- and its size once a day (Asia/Shanghai days, 'YYYY-MM-DD'), so marketing
-- sees how a target group grows or shrinks. A deleted segment keeps its
-- sizes; saving its name again revives it. Times are µs since the epoch.
CREATE TABLE segments (
  id @ID@,
  name @KEY@ NOT NULL UNIQUE,
  expr TEXT NOT NULL,
  description TEXT,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_by TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  deleted_at BIGINT
);
CREATE TABLE segment_sizes (
  segment_id BIGINT NOT NULL REFERENCES segments(id),
  day TEXT NOT NULL,
  size BIGINT NOT NULL,
  measured_at BIGINT NOT NULL,
  PRIMARY KEY (segment_id, day)
);
