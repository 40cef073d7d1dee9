-- The next-best-action engine's learned response models (models/models.h,
-- docs/models.md).
--
-- nba_models: one trained model version. channel is phone, wechat, wecom,
-- email or meeting_online; split_by and category name the profile
-- attribute and its value of a category model (both NULL: the global
-- model); run is the training run (the version number, shared by the
-- models one run trained); the window (window_from, window_to µs) is the
-- attempts it learned from, the last fifth of it held out for the metrics
-- (auc, log_loss, brier; calibration as JSON [{pred, obs, n}] by decile),
-- examples / positives the training rows, sampled the share of the
-- window's attempts kept; global_log_loss and beats_global compare a
-- category model with the global one on the category's held-out rows.
-- body is the model as JSON text (feature names, coefficients, training
-- means, vocabularies). active: the version serving its (channel,
-- category); at most one each.
CREATE TABLE nba_models (
  id @ID@,
  channel TEXT NOT NULL,
  split_by TEXT,
  category TEXT,
  run INTEGER NOT NULL,
  version TEXT NOT NULL,
  trained_at BIGINT NOT NULL,
  trained_by TEXT,
  window_from BIGINT NOT NULL,
  window_to BIGINT NOT NULL,
  examples BIGINT NOT NULL,
  positives BIGINT NOT NULL,
  sampled DOUBLE PRECISION NOT NULL,
  holdout_n BIGINT NOT NULL,
  auc DOUBLE PRECISION,
  log_loss DOUBLE PRECISION,
  brier DOUBLE PRECISION,
  calibration TEXT NOT NULL,
  global_log_loss DOUBLE PRECISION,
  beats_global INTEGER NOT NULL,
  body TEXT NOT NULL,
  active INTEGER NOT NULL
);
CREATE INDEX nba_models_active ON nba_models(active, channel);

-- The models' settings (one row, id 1, JSON text: the scheduled retrain,
-- its window, the split attribute, the category thresholds); no row: the
-- defaults (no schedule).
CREATE TABLE nba_model_settings (
  id INTEGER PRIMARY KEY,
  body TEXT NOT NULL,
  updated_by TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);
