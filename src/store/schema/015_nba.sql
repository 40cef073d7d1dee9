-- The next-best-action engine's stage 1 (nba/rules.h, docs/nba.md).
--
-- nba_rules: an expert rule. condition is a boolean expression of the
-- query language; action is the action template as JSON text
-- ({action, channel, content: {id | product | topic | tag}, window:
-- {days, weekdays, hours: [from, to]}, repeat_days}); priority 1 (first)
-- .. 5; valid_from / valid_to µs (NULL: open); owner_role field, inside or
-- msl (NULL: by channel: visits the field owner, the rest the inside
-- owner); enabled 0/1.
CREATE TABLE nba_rules (
  id @ID@,
  name @KEY@ NOT NULL UNIQUE,
  description TEXT,
  condition TEXT NOT NULL,
  action TEXT NOT NULL,
  priority INTEGER NOT NULL,
  valid_from BIGINT,
  valid_to BIGINT,
  owner_role TEXT,
  enabled INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_by TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);

-- The contact policy (one row, id 1): budgets, channel caps, quiet hours,
-- consent channels and the nightly run, as JSON text (nba/guard.h's
-- struct mr_nba_settings); no row: the defaults.
CREATE TABLE nba_settings (
  id INTEGER PRIMARY KEY,
  body TEXT NOT NULL,
  updated_by TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);

-- Every served recommendation, for the off-policy estimators
-- (engine/nba/ope.h): the doctor (internal id), what was suggested by which
-- rule or model, its window, its score, the probability the policy gave
-- this action (propensity: 1.0 for a deterministic rule choice), the
-- experiment and arm the doctor was in, the moment it was computed for
-- (as_of) and when it was served; via is 'serve' (the recommendations
-- route) or 'run' (a task run). task_id and outcome are filled later (the
-- task made from it, and what became of it).
CREATE TABLE nba_recommendations (
  id @ID@,
  hcp_id BIGINT NOT NULL,
  source TEXT NOT NULL,
  rule TEXT,
  model_version TEXT,
  action TEXT NOT NULL,
  channel TEXT,
  content TEXT,
  topic TEXT,
  window_start BIGINT NOT NULL,
  window_end BIGINT NOT NULL,
  score DOUBLE PRECISION NOT NULL,
  propensity DOUBLE PRECISION NOT NULL,
  experiment TEXT,
  arm TEXT,
  as_of BIGINT NOT NULL,
  served_at BIGINT NOT NULL,
  via TEXT NOT NULL,
  task_id BIGINT,
  outcome TEXT,
  outcome_at BIGINT
);
CREATE INDEX nba_recommendations_hcp ON nba_recommendations(hcp_id, served_at);
CREATE INDEX nba_recommendations_task ON nba_recommendations(task_id);

-- The nightly runs, one row per Asia/Shanghai day (night: YYYY-MM-DD): the
-- node that inserts it runs that night's run, so that several nodes on one
-- database run it once.
CREATE TABLE nba_nights (
  night TEXT PRIMARY KEY,
  started_at BIGINT NOT NULL
);
