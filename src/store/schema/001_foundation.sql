-- The foundation: accounts, API tokens, browser sessions and the
-- hash-chained audit trail. Written once for both backends: @ID@ becomes an
-- auto-assigned 64-bit primary key and @BLOB@ a byte string in each dialect.

CREATE TABLE users (
  id @ID@,
  login TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  rep_id TEXT,
  status TEXT NOT NULL DEFAULT 'active',
  password_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  last_login_at BIGINT
);

CREATE TABLE api_tokens (
  id @ID@,
  user_id BIGINT NOT NULL REFERENCES users(id),
  name TEXT NOT NULL,
  token_hash @BLOB@ NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  expires_at BIGINT,
  revoked_at BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens(user_id, id);

CREATE TABLE sessions (
  id @ID@,
  user_id BIGINT NOT NULL REFERENCES users(id),
  token_hash @BLOB@ NOT NULL UNIQUE,
  csrf TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  ip TEXT
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expires ON sessions(expires_at);

-- One row per audited act. seq is dense from 1; hash = keyed BLAKE2b over
-- prev_hash and every other column, so any edit, deletion, insertion or
-- reordering breaks the chain (see src/audit/audit.c).
CREATE TABLE audit_log (
  seq BIGINT PRIMARY KEY,
  ts BIGINT NOT NULL,
  user_id BIGINT,
  login TEXT,
  role TEXT,
  action TEXT NOT NULL,
  entity TEXT,
  entity_id TEXT,
  request_id TEXT,
  ip TEXT,
  status INTEGER NOT NULL,
  before_digest @BLOB@,
  after_digest @BLOB@,
  prev_hash @BLOB@ NOT NULL,
  hash @BLOB@ NOT NULL
);
CREATE INDEX audit_log_ts ON audit_log(ts);
CREATE INDEX audit_log_login ON audit_log(login, seq);
CREATE INDEX audit_log_entity ON audit_log(entity, entity_id, seq);
CREATE INDEX audit_log_action ON audit_log(action, seq);

-- The chain's head, sealed with a MAC, so that cutting records off the end
-- is detected too.
CREATE TABLE audit_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq BIGINT NOT NULL,
  hash @BLOB@ NOT NULL,
  mac @BLOB@ NOT NULL
);
