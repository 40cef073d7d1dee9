-- The content library's master data: the articles, videos and leaflets that
-- reps and campaigns send and that events name (an event's "content" is an
-- item's ext_id). Like the other entities (002_masterdata.sql) an item has
-- the customer's external id, custom attributes, a soft delete and its
-- change history in md_changes (entity 'content'). name_key is the title
-- normalised as names are, sorting bytewise (@KEY@), so a search by title
-- prefix (q=) is an index range scan. expires_at is µs since the epoch,
-- UTC, like every time.
CREATE TABLE content (
  id @ID@,
  ext_id @KEY@ NOT NULL UNIQUE,
  title TEXT NOT NULL,
  name_key @KEY@ NOT NULL,
  topic TEXT,
  product TEXT,
  status TEXT NOT NULL,
  expires_at BIGINT,
  attrs TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  deleted_at BIGINT
);
CREATE INDEX content_name ON content(name_key);
CREATE INDEX content_topic ON content(topic);
CREATE INDEX content_product ON content(product);
CREATE INDEX content_status ON content(status);
