-- The channel adapters' state (src/channels/settings.c).
--
-- channel_settings: one row per channel (wecom, tencent_meeting, cdr), as an
-- admin last saved it. What is secret (WeCom's Token and EncodingAESKey,
-- Tencent Meeting's Token) is sealed together in secrets_enc (libsodium
-- secretbox under the PII key, as crypto/pii.h seals personal data), so a
-- copy of the database alone cannot forge or read a callback; the rest
-- (WeCom's corp id, the CDR disposition rules) is plain JSON in config.
--
-- meeting_joins: when a participant last joined a Tencent Meeting, written
-- when the join arrives and removed by the leave, which needs it to say how
-- long the doctor stayed (the leave event does not carry it). The user is
-- kept as the blind index of the identity (meeting_user_id, app
-- tencent_meeting), never in the clear; rows older than two days are
-- dropped as new joins come in.
CREATE TABLE channel_settings (
  channel @KEY@ PRIMARY KEY,
  config TEXT NOT NULL,
  secrets_enc @BLOB@,
  updated_at BIGINT NOT NULL,
  updated_by TEXT NOT NULL
);

CREATE TABLE meeting_joins (
  meeting_id TEXT NOT NULL,
  user_bidx @BLOB@ NOT NULL,
  joined_at BIGINT NOT NULL,
  PRIMARY KEY (meeting_id, user_bidx)
);
CREATE INDEX meeting_joins_at ON meeting_joins(joined_at);
