/*
 * What the registry's files (registry.c: training, scoring, evaluation;
 * mstore.c: the versions and settings in the store) share: the registry
 * itself and a training run's result.
 */
#ifndef MR_MODELS_MODELS_INT_H
#define MR_MODELS_MODELS_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "engine/engine.h"
#include "models/models.h"

struct mr_models {
	struct mr_models_src src;
	struct mr_tagsrc tags;        /* a copy of *src.tags; find NULL when none */
	struct mr_writer *writer;
	pthread_rwlock_t lock;        /* guards act / nact */
	struct mr_model **act;        /* the active versions */
	int nact;
	int loaded;
	pthread_mutex_t train_mu;     /* one training run at a time */
	int last_run;                 /* the newest run number handed out (under train_mu) */
	pthread_mutex_t tick_mu;
	char last_day[11];            /* the Asia/Shanghai day of the newest run (the schedule) */
	_Atomic int64_t settings_read_at; /* µs; the tick re-reads the settings once a minute (0: now) */
	int64_t stamp;                /* Σ ids of the active versions when loaded: another node changed them when it moves */
	int64_t stamp_read_at;        /* µs; the tick looks every 5 seconds */
	struct mr_models_settings settings;
};

struct mr_models_run {
	int run;
	int64_t from, to, trained_at;
	int64_t took_ms;
	struct mr_model **models;
	int n;
	json_t *info;                 /* {examples: {channel: n}, sampled: {...}, skipped: {channel: why}} */
};

/* The model of the version's stored row body (JSON text), into m (coefficients, means, vocabularies). */
int mr_models_body_parse(const char *text, struct mr_model *m, struct mr_err *err);
/* The active versions in the store, as models (caller frees each and the array). */
int mr_models_read_active(struct mr_conn *c, struct mr_model ***out, int *nout, struct mr_err *err);
/* A JSON number, or null when not finite. */
json_t *mr_models_num(double x);

#endif
