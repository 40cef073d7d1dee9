-- Experiments (A/B tests) of the next-best-action engine
-- (experiments/experiments.h, docs/experiments.md): a name, the unit that
-- is randomised ('hcp' or 'rep'), an optional population (a boolean
-- expression of the query language over doctors; NULL: everyone), the
-- primary metric (effective_rate, response_rate or participation_rate),
-- and its arms in order. status goes draft → running → stopped →
-- archived; the times are µs since the epoch (NULL: not yet).
--
-- salt (32 hex digits) is drawn when the experiment is created and never
-- changes: a unit's arm is a function of it and the unit's external id, so
-- no assignment is stored. A draft is edited in place and deleted outright;
-- once started, the definition is fixed.
CREATE TABLE experiments (
  id @ID@,
  name @KEY@ NOT NULL UNIQUE,
  description TEXT,
  unit TEXT NOT NULL,
  population TEXT,
  metric TEXT NOT NULL,
  salt TEXT NOT NULL,
  status TEXT NOT NULL,
  started_at BIGINT,
  stopped_at BIGINT,
  archived_at BIGINT,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_by TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX experiments_status ON experiments(status);

-- An experiment's arms in their order (pos from 0): the kind of policy
-- (rules, learned, holdout, custom) and its share of the 10,000 buckets
-- (an allocation of 25% is 2,500); the arms take consecutive ranges.
CREATE TABLE experiment_arms (
  experiment_id BIGINT NOT NULL REFERENCES experiments(id),
  pos INTEGER NOT NULL,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  buckets INTEGER NOT NULL,
  PRIMARY KEY (experiment_id, pos)
);
