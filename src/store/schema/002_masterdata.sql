-- Master data: territories, hospitals (HCOs), reps, doctors (HCPs), their
-- channel identities, alignments and consents, and the change history of
-- all of them. Every entity carries the customer's external id (ext_id, a
-- string, what the API and CSV files call "id") and an internal numeric id
-- that only joins use. @KEY@ columns sort bytewise in both dialects, so a
-- search by prefix is an index range scan.
--
-- Contact data (phones, emails, licence numbers, WeChat / WeCom ids) lives
-- only in hcp_identities: sealed with libsodium (value_enc), found through a
-- keyed blind index (bidx), shown masked (masked).

CREATE TABLE territories (
  id @ID@,
  ext_id @KEY@ NOT NULL UNIQUE,
  name TEXT NOT NULL,
  parent_id BIGINT REFERENCES territories(id),
  attrs TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  deleted_at BIGINT
);
CREATE INDEX territories_parent ON territories(parent_id);

CREATE TABLE hcos (
  id @ID@,
  ext_id @KEY@ NOT NULL UNIQUE,
  name TEXT NOT NULL,
  name_key @KEY@ NOT NULL,
  level INTEGER,
  grade TEXT,
  type TEXT,
  province TEXT,
  city TEXT,
  city_tier INTEGER,
  region TEXT,
  address TEXT,
  departments TEXT,
  attrs TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  deleted_at BIGINT
);
CREATE INDEX hcos_name ON hcos(name_key);
CREATE INDEX hcos_city ON hcos(city_tier, city);

CREATE TABLE reps (
  id @ID@,
  ext_id @KEY@ NOT NULL UNIQUE,
  name TEXT NOT NULL,
  type TEXT NOT NULL,
  manager_id BIGINT REFERENCES reps(id),
  territory_id BIGINT REFERENCES territories(id),
  user_login TEXT,
  attrs TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  deleted_at BIGINT
);
CREATE INDEX reps_manager ON reps(manager_id);
CREATE INDEX reps_territory ON reps(territory_id);
CREATE INDEX reps_user ON reps(user_login);

CREATE TABLE hcps (
  id @ID@,
  ext_id @KEY@ NOT NULL UNIQUE,
  name TEXT NOT NULL,
  name_key @KEY@ NOT NULL,
  pinyin TEXT,
  pinyin_key @KEY@,
  initials @KEY@,
  gender TEXT,
  title TEXT,
  specialty TEXT,
  department TEXT,
  hco_id BIGINT REFERENCES hcos(id),
  status TEXT NOT NULL,
  attrs TEXT,
  merged_into BIGINT REFERENCES hcps(id),
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  deleted_at BIGINT,
  erased_at BIGINT
);
CREATE INDEX hcps_name ON hcps(name_key);
CREATE INDEX hcps_pinyin ON hcps(pinyin_key);
CREATE INDEX hcps_initials ON hcps(initials);
CREATE INDEX hcps_hco ON hcps(hco_id);
CREATE INDEX hcps_specialty ON hcps(specialty);
CREATE INDEX hcps_merged ON hcps(merged_into);

CREATE TABLE hcp_affiliations (
  id @ID@,
  hcp_id BIGINT NOT NULL REFERENCES hcps(id),
  hco_id BIGINT NOT NULL REFERENCES hcos(id),
  department TEXT,
  role TEXT,
  created_at BIGINT NOT NULL,
  UNIQUE (hcp_id, hco_id)
);
CREATE INDEX hcp_affiliations_hco ON hcp_affiliations(hco_id);

-- One identity belongs to one HCP: the unique (kind, app, bidx) is what
-- makes deterministic identity resolution a single index lookup.
CREATE TABLE hcp_identities (
  id @ID@,
  hcp_id BIGINT NOT NULL REFERENCES hcps(id),
  kind TEXT NOT NULL,
  app TEXT NOT NULL,
  value_enc @BLOB@ NOT NULL,
  bidx @BLOB@ NOT NULL,
  masked TEXT NOT NULL,
  is_primary INTEGER NOT NULL,
  verified INTEGER NOT NULL,
  source TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (kind, app, bidx)
);
CREATE INDEX hcp_identities_hcp ON hcp_identities(hcp_id, kind);

CREATE TABLE alignments (
  id @ID@,
  hcp_id BIGINT NOT NULL REFERENCES hcps(id),
  rep_id BIGINT NOT NULL REFERENCES reps(id),
  role TEXT NOT NULL,
  product TEXT NOT NULL,
  valid_from BIGINT NOT NULL,
  valid_to BIGINT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  deleted_at BIGINT
);
CREATE INDEX alignments_hcp ON alignments(hcp_id, role, product);
CREATE INDEX alignments_rep ON alignments(rep_id, hcp_id);

-- Consent history: rows are only added; the newest captured_at per
-- (hcp, channel, purpose) is the consent in force.
CREATE TABLE consents (
  id @ID@,
  hcp_id BIGINT NOT NULL REFERENCES hcps(id),
  channel TEXT NOT NULL,
  purpose TEXT NOT NULL,
  status TEXT NOT NULL,
  captured_at BIGINT NOT NULL,
  source TEXT,
  evidence TEXT,
  version TEXT,
  recorded_at BIGINT NOT NULL,
  recorded_by TEXT,
  UNIQUE (hcp_id, channel, purpose, captured_at)
);

-- Who changed which field of which record, from what to what. Personal
-- values appear here only masked.
CREATE TABLE md_changes (
  id @ID@,
  entity TEXT NOT NULL,
  entity_id BIGINT NOT NULL,
  at BIGINT NOT NULL,
  login TEXT,
  request_id TEXT,
  source TEXT NOT NULL,
  field TEXT NOT NULL,
  old_value TEXT,
  new_value TEXT
);
CREATE INDEX md_changes_entity ON md_changes(entity, entity_id, id);
