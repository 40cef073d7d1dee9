-- Reps' call and visit reports. A submitted report is never changed: a
-- correction is an amendment, a new row pointing at the report it amends
-- (amends_id), so the original stays as it was written and both are in the
-- audit trail. What the doctor said and the next steps are personal data:
-- they are sealed together (notes_enc, libsodium secretbox under the PII
-- key) and cleared by a PIPL erasure. Each report puts one event in the log
-- (event_id), which is what the timeline and the KPIs count.
CREATE TABLE interactions (
  id @ID@,
  ext_id @KEY@ NOT NULL UNIQUE,
  hcp_id BIGINT NOT NULL REFERENCES hcps(id),
  rep_id BIGINT REFERENCES reps(id),
  author TEXT NOT NULL,
  channel TEXT NOT NULL,
  outcome TEXT NOT NULL,
  happened_at BIGINT NOT NULL,
  duration_min INTEGER,
  products TEXT,
  messages TEXT,
  notes_enc @BLOB@,
  follow_up_at BIGINT,
  follow_up_channel TEXT,
  amends_id BIGINT REFERENCES interactions(id),
  reason TEXT,
  event_id TEXT,
  created_at BIGINT NOT NULL
);
CREATE INDEX interactions_hcp ON interactions(hcp_id, happened_at);
CREATE INDEX interactions_amends ON interactions(amends_id);
