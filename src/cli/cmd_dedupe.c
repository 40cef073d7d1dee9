/*
 * medreach dedupe FILE.csv: the identity-resolution engine (src/identity)
 * as a general tool, so a customer can clean a legacy export before
 * importing it. Reads the CSV (streamed, bad records reported and skipped),
 * keeps only the id, truth and compared columns, runs mr_dedupe_run and
 * writes one `id,cluster` row per record; the cluster is the id of the
 * cluster's first record. On stderr: records read, candidate pairs per
 * blocking pass, EM iterations, the m/u table, decisions, time per phase,
 * and with --truth the pairwise precision, recall and F1.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/csv.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"
#include "cli/cli.h"
#include "cli/progress.h"
#include "identity/dedupe.h"

static const char mr_dedupe_help[] =
	"usage: medreach dedupe FILE.csv --id COL --compare COL:KIND[,COL:KIND...] [options]\n\n"
	"Finds the records of a CSV file that are the same entity (Fellegi-Sunter record\n"
	"linkage, m/u estimated by EM from the file itself) and writes id,cluster for every\n"
	"record; the cluster is the id of the cluster's first record. FILE may be - (stdin).\n"
	"KIND is name, text, exact, id, date, number, phone or address.\n\n"
	"options:\n"
	"  --id COL            the column holding each record's id (required)\n"
	"  --compare LIST      the columns to compare, COL:KIND separated by commas (required)\n"
	"  --out FILE          where to write id,cluster (default -, standard output)\n"
	"  --review FILE       write the review queue: pairs between --lower and --upper\n"
	"  --truth COL         a column with the true entity: print pairwise precision, recall, F1\n"
	"  --baseline COLS     instead of the model, merge records equal on any of these compared\n"
	"                      columns (normalised by kind), as a legacy CRM does: a peer to compare\n"
	"  --upper P           merge pairs with match probability >= P (default 0.9)\n"
	"  --lower P           review pairs with match probability >= P (default 0.3)\n"
	"  --model FILE        score with a model saved by --save-model instead of training one\n"
	"  --save-model FILE   write the trained model as JSON\n"
	"  --threads N         threads for preparing and comparing (default 2)\n"
	"  --encoding E        auto (default), utf-8, gb18030, utf-16\n"
	"  --quiet             print errors only\n";

enum { MR_DEDUPE_CLI_MAX_BAD = 20 };

struct mr_dedupe_cli {
	const char *file, *id, *compare, *out, *review, *truth, *baseline, *model, *save_model;
	double upper, lower;
	int threads;
	int quiet;
	struct mr_csv_opts csv;
	/* from the header */
	int ncols;                           /* table columns: id, [truth], compared */
	int src[2 + MR_FS_MAX_FIELDS];       /* their index in the CSV header */
	const char *names[2 + MR_FS_MAX_FIELDS];
	int truth_col;                       /* in the table, -1 without --truth */
	struct mr_dedupe_opts o;
	const char *encoding;                /* as the reader found it */
	/* progress on a terminal */
	int tty;
	int64_t last_us;
	const char *last_phase;
};

/* --- options ----------------------------------------------------------- */

static int mr_dedupe_cli_prob(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (*s == '\0' || *end != '\0' || !(v > 0 && v < 1))
		return -1;
	*out = v;
	return 0;
}

/* Splits LIST at commas into COL:KIND fields; names point into a copy the caller frees. */
static int mr_dedupe_cli_compare(struct mr_dedupe_cli *c, char *list, struct mr_err *err)
{
	char *item = list;

	c->o.nfields = 0;
	while (item) {
		char *next = strchr(item, ','), *colon;
		int kind;
		if (next)
			*next++ = '\0';
		colon = strrchr(item, ':');
		if (!colon || colon == item)
			return mr_err_set(err, MR_EINVAL, "--compare: '%s' is not COL:KIND", item);
		*colon = '\0';
		kind = mr_cmp_kind_parse(colon + 1);
		if (kind < 0)
			return mr_err_set(err, MR_EINVAL, "--compare: unknown kind '%s' (name, text, exact, id, "
					  "date, number, phone, address)", colon + 1);
		if (c->o.nfields == MR_FS_MAX_FIELDS)
			return mr_err_set(err, MR_EINVAL, "--compare: at most %d columns", MR_FS_MAX_FIELDS);
		c->names[2 + c->o.nfields] = item;
		c->o.field[c->o.nfields].kind = (enum mr_cmp_kind)kind;
		c->o.nfields++;
		item = next;
	}
	return 0;
}

/* Parses the options into c; returns 0, 1 when --help was printed, or 2 (usage, help on stderr). */
static int mr_dedupe_cli_parse(struct mr_dedupe_cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "id", required_argument, NULL, 'i' },       { "compare", required_argument, NULL, 'c' },
		{ "out", required_argument, NULL, 'o' },      { "review", required_argument, NULL, 'r' },
		{ "truth", required_argument, NULL, 't' },    { "baseline", required_argument, NULL, 'b' },
		{ "upper", required_argument, NULL, 'U' },    { "lower", required_argument, NULL, 'L' },
		{ "model", required_argument, NULL, 'm' },    { "save-model", required_argument, NULL, 's' },
		{ "threads", required_argument, NULL, 'T' },  { "encoding", required_argument, NULL, 'e' },
		{ "quiet", no_argument, NULL, 'q' },          { "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char **strs[128] = { ['i'] = &c->id,     ['c'] = &c->compare, ['o'] = &c->out,
				   ['r'] = &c->review, ['t'] = &c->truth,   ['b'] = &c->baseline,
				   ['m'] = &c->model,  ['s'] = &c->save_model };
	int64_t threads = 2;
	int enc, bad = 0;

	while (!bad) {
		int opt = getopt_long(argc, argv, "hq", opts, NULL);
		if (opt == -1)
			break;
		if (opt == 'h') {
			fputs(mr_dedupe_help, stdout);
			return 1;
		}
		if (opt > 0 && opt < 128 && strs[opt]) {
			*strs[opt] = optarg;
		} else if (opt == 'q') {
			c->quiet = 1;
		} else if (opt == 'U') {
			bad = mr_dedupe_cli_prob(optarg, &c->upper) < 0;
		} else if (opt == 'L') {
			bad = mr_dedupe_cli_prob(optarg, &c->lower) < 0;
		} else if (opt == 'T') {
			bad = mr_parse_i64(optarg, 1, 16, &threads) < 0;
			c->threads = (int)threads;
		} else if (opt == 'e') {
			enc = mr_csv_encoding_parse(optarg);
			bad = enc < 0;
			c->csv.encoding = bad ? MR_CSV_AUTO : (enum mr_csv_encoding)enc;
		} else {
			bad = 1;
		}
	}
	if (bad || argc - optind != 1 || !c->id || !c->compare || (c->upper > 0 && c->lower > c->upper)) {
		fputs(mr_dedupe_help, stderr);
		return 2;
	}
	c->file = argv[optind];
	return 0;
}

/* --- reading ----------------------------------------------------------- */

static int mr_dedupe_cli_find(const struct mr_csv_rec *h, const char *name)
{
	for (int i = 0; i < h->nfields; i++) {
		if (strcmp(h->fields[i], name) == 0)
			return i;
	}
	return -1;
}

/* Maps the table's columns (id, truth, compared) to the header's; MR_EINVAL naming a missing one. */
static int mr_dedupe_cli_header(struct mr_dedupe_cli *c, const struct mr_csv_rec *h, struct mr_err *err)
{
	char have[256];
	size_t used = 0;

	c->names[0] = c->id;
	c->names[1] = c->truth ? c->truth : "";
	c->ncols = 2 + c->o.nfields;
	for (int k = 0; k < c->ncols; k++) {
		c->src[k] = k == 1 && !c->truth ? -1 : mr_dedupe_cli_find(h, c->names[k]);
		if (c->src[k] >= 0 || (k == 1 && !c->truth))
			continue;
		have[0] = '\0';
		for (int i = 0; i < h->nfields && used + 2 < sizeof(have); i++) {
			int n = snprintf(have + used, sizeof(have) - used, "%s%s", i ? ", " : "", h->fields[i]);
			used += n > 0 ? (size_t)n : 0;
		}
		return mr_err_field(err, MR_EINVAL, c->names[k], "no column '%s' in the header (it has: %s)",
				    c->names[k], have);
	}
	for (int f = 0; f < c->o.nfields; f++)
		c->o.field[f].column = 2 + f;
	c->truth_col = c->truth ? 1 : -1;
	return 0;
}

/* Adds one record's cells to the table, or reports it when its field count is off. */
static int mr_dedupe_cli_row(struct mr_dedupe_cli *c, struct mr_dedupe_table *t, const struct mr_csv_rec *rec,
			     int nheader)
{
	const char *cells[2 + MR_FS_MAX_FIELDS];
	size_t lens[2 + MR_FS_MAX_FIELDS];

	if (rec->nfields != nheader) {
		if (!c->quiet)
			fprintf(stderr, "line %lld: %d fields where the header has %d; skipped\n",
				(long long)rec->line, rec->nfields, nheader);
		return 0;
	}
	for (int k = 0; k < c->ncols; k++) {
		cells[k] = c->src[k] >= 0 ? rec->fields[c->src[k]] : NULL;
		lens[k] = c->src[k] >= 0 ? rec->lens[c->src[k]] : 0;
	}
	mr_dedupe_table_add(t, cells, lens);
	return 1;
}

/* Reads the CSV on fd into t; bad records are reported (the first MR_DEDUPE_CLI_MAX_BAD) and counted. */
static int mr_dedupe_cli_load(struct mr_dedupe_cli *c, struct mr_csv *csv, struct mr_dedupe_table *t,
			      uint64_t size, int64_t *bad, struct mr_err *err)
{
	struct mr_progress bar;
	struct mr_csv_rec rec;
	int nheader = -1, rc = 0;

	mr_progress_init(&bar, "reading", c->quiet ? 0 : size);
	bar.tty = bar.tty && !c->quiet;
	for (;;) {
		rc = mr_csv_next(csv, &rec, err);
		if (rc == 0 || (rc < 0 && rc != MR_EINVAL))
			break;
		if (rc == MR_EINVAL) {
			if (!c->quiet && ++*bad <= MR_DEDUPE_CLI_MAX_BAD)
				fprintf(stderr, "%s; skipped\n", err->msg);
			mr_err_clear(err);
			continue;
		}
		if (nheader < 0) {
			nheader = rec.nfields;
			rc = mr_dedupe_cli_header(c, &rec, err);
			if (rc < 0)
				break;
			mr_dedupe_table_init(t, c->ncols, c->names);
			continue;
		}
		*bad += !mr_dedupe_cli_row(c, t, &rec, nheader);
		if (t->nrows % 4096 == 0)
			mr_progress_update(&bar, mr_csv_offset(csv), (int64_t)t->nrows);
	}
	mr_progress_done(&bar);
	if (rc == 0 && nheader < 0)
		rc = mr_err_set(err, MR_EINVAL, "%s has no header row", c->file);
	return rc;
}

static int mr_dedupe_cli_read(struct mr_dedupe_cli *c, struct mr_dedupe_table *t, int64_t *bad,
			      struct mr_err *err)
{
	int fd = strcmp(c->file, "-") == 0 ? 0 : open(c->file, O_RDONLY | O_CLOEXEC);
	struct mr_csv *csv = NULL;
	struct stat st;
	int rc;

	if (fd < 0)
		return mr_err_set(err, MR_EIO, "cannot open %s: %m", c->file);
	rc = mr_csv_open_fd(&csv, fd, &c->csv, err);
	if (rc == 0)
		rc = mr_dedupe_cli_load(c, csv, t, fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0,
					bad, err);
	if (csv)
		c->encoding = mr_csv_encoding_name(csv);
	mr_csv_free(csv);
	if (fd > 0)
		close(fd);
	return rc;
}

/* --- progress and report ----------------------------------------------- */

static void mr_dedupe_cli_progress(void *arg, const char *phase, uint64_t done, uint64_t total)
{
	struct mr_dedupe_cli *c = arg;
	int64_t now = mr_mono_us();

	if (!c->tty || (now - c->last_us < 100000 && done < total))
		return;
	c->last_us = now;
	c->last_phase = phase;
	fprintf(stderr, "\r%-8s %llu / %llu %s ", phase, (unsigned long long)(done < total ? done : total),
		(unsigned long long)total, strcmp(phase, "compare") == 0 ? "pairs" : "records");
	if (done >= total)
		fputc('\n', stderr);
}

static void mr_dedupe_cli_passes(const struct mr_block *b, const struct mr_dedupe_stats *st)
{
	fprintf(stderr, "blocking: %llu candidate pairs (%.1f per record)\n",
		(unsigned long long)st->candidates, st->rows ? (double)st->candidates / (double)st->rows : 0.0);
	fprintf(stderr, "  %-24s %9s %8s %8s %10s %10s\n", "pass", "keyed", "blocks", "windowed", "pairs",
		"new pairs");
	for (int p = 0; p < b->npasses; p++) {
		const struct mr_block_pass *ps = &b->pass[p];
		fprintf(stderr, "  %-24s %9llu %8llu %8llu %10llu %10llu\n", ps->name,
			(unsigned long long)ps->keyed, (unsigned long long)ps->blocks,
			(unsigned long long)ps->windowed, (unsigned long long)ps->pairs,
			(unsigned long long)ps->new_pairs);
	}
}

/* The m/u table: per comparison and level, m, u and the weight log2(m/u). */
static void mr_dedupe_cli_model(const struct mr_fs_model *m, const struct mr_dedupe_stats *st, int trained)
{
	if (trained)
		fprintf(stderr, "EM: %d iterations (%s), %llu patterns, lambda %.5f (matches among candidates)\n",
			m->iterations, m->converged ? "converged" : "stopped at the cap",
			(unsigned long long)st->patterns, m->lambda);
	else
		fprintf(stderr, "model: given, lambda %.5f, %llu patterns\n", m->lambda,
			(unsigned long long)st->patterns);
	fprintf(stderr, "  %-16s %-8s %-10s %9s %9s %8s\n", "comparison", "kind", "level", "m", "u", "weight");
	for (int f = 0; f < m->nfields; f++) {
		const struct mr_fs_field *fd = &m->f[f];
		for (int l = 1; l < fd->nlevels; l++) {
			struct mr_fs_score sc;
			mr_fs_score_code(m, mr_fs_code_with(0, f, l), &sc);
			fprintf(stderr, "  %-16s %-8s %-10s %9.5f %9.5f %+8.2f\n", l == 1 ? fd->column : "",
				l == 1 ? mr_cmp_kind_name(fd->kind) : "", mr_cmp_level_name(fd->kind, l), fd->m[l],
				fd->u[l], sc.weight);
		}
	}
}

static void mr_dedupe_cli_quality(const char *label, const struct mr_dedupe_table *t, int truth_col,
				  const uint32_t *cluster)
{
	uint32_t *truth = mr_malloc((t->nrows ? t->nrows : 1) * sizeof(*truth));
	struct mr_cluster_quality q;

	mr_dedupe_labels(t, truth_col, truth);
	mr_cluster_quality(cluster, truth, t->nrows, &q);
	fprintf(stderr, "%s: pairwise precision %.4f, recall %.4f, F1 %.4f (%llu pairs predicted, %llu true, "
		"%llu correct)\n", label, q.precision, q.recall, q.f1, (unsigned long long)q.predicted,
		(unsigned long long)q.actual, (unsigned long long)q.correct);
	free(truth);
}

/* --- output ------------------------------------------------------------ */

static int mr_dedupe_cli_write(const struct mr_dedupe_cli *c, const struct mr_dedupe_table *t,
			       const uint32_t *cluster, struct mr_err *err)
{
	const char *head[2] = { c->id, "cluster" };
	struct mr_table *out = NULL;
	int rc = mr_table_open(&out, MR_TABLE_CSV, c->out ? c->out : "-", NULL, err);

	if (rc == 0)
		rc = mr_table_header(out, 2, head, NULL, err);
	for (size_t r = 0; rc == 0 && r < t->nrows; r++) {
		const char *row[2] = { mr_dedupe_cell(t, r, 0), mr_dedupe_cell(t, cluster[r], 0) };
		rc = mr_table_row(out, 2, row, err);
	}
	if (out) {
		struct mr_err cerr;
		int crc = mr_table_close(out, &cerr);
		if (rc == 0 && crc < 0) {
			*err = cerr;
			rc = crc;
		}
	}
	return rc;
}

/* The review queue: both ids, probability, weight, then each comparison's level. */
static int mr_dedupe_cli_review(const struct mr_dedupe_cli *c, const struct mr_dedupe_table *t,
				const struct mr_dedupe_result *r, struct mr_err *err)
{
	const char *head[4 + MR_FS_MAX_FIELDS] = { "id_a", "id_b", "probability", "weight" };
	enum mr_cell_kind kinds[4 + MR_FS_MAX_FIELDS] = { MR_CELL_TEXT, MR_CELL_TEXT, MR_CELL_NUMBER,
							  MR_CELL_NUMBER };
	int n = 4 + r->model.nfields;
	struct mr_table *out = NULL;
	int rc;

	for (int f = 0; f < r->model.nfields; f++) {
		head[4 + f] = c->names[2 + f];
		kinds[4 + f] = MR_CELL_TEXT;
	}
	rc = mr_table_open(&out, MR_TABLE_CSV, c->review, NULL, err);
	if (rc == 0)
		rc = mr_table_header(out, n, head, kinds, err);
	for (size_t i = 0; rc == 0 && i < r->nreview; i++) {
		const struct mr_dedupe_pair *p = &r->review[i];
		const char *row[4 + MR_FS_MAX_FIELDS];
		char prob[32], weight[32];
		snprintf(prob, sizeof(prob), "%.4f", p->prob);
		snprintf(weight, sizeof(weight), "%.2f", p->weight);
		row[0] = mr_dedupe_cell(t, p->a, 0);
		row[1] = mr_dedupe_cell(t, p->b, 0);
		row[2] = prob;
		row[3] = weight;
		for (int f = 0; f < r->model.nfields; f++)
			row[4 + f] = mr_cmp_level_name(r->model.f[f].kind, mr_fs_level_of(p->code, f));
		rc = mr_table_row(out, n, row, err);
	}
	if (out) {
		struct mr_err cerr;
		int crc = mr_table_close(out, &cerr);
		if (rc == 0 && crc < 0) {
			*err = cerr;
			rc = crc;
		}
	}
	return rc;
}

static int mr_dedupe_cli_load_model(const char *path, struct mr_fs_model *m, struct mr_err *err)
{
	json_error_t jerr;
	json_t *j = json_load_file(path, 0, &jerr);
	int rc;

	if (!j)
		return mr_err_set(err, MR_EINVAL, "%s, line %d: %s", path, jerr.line, jerr.text);
	rc = mr_fs_from_json(j, m, err);
	json_decref(j);
	if (rc < 0) {
		struct mr_err why = *err;
		rc = mr_err_field(err, rc, why.field, "%s: %s", path, why.msg);
	}
	return rc;
}

static int mr_dedupe_cli_save_model(const char *path, const struct mr_fs_model *m, struct mr_err *err)
{
	json_t *j = mr_fs_to_json(m);
	int rc = json_dump_file(j, path, JSON_INDENT(2)) == 0 ? 0 :
		 mr_err_set(err, MR_EIO, "cannot write the model to %s", path);

	json_decref(j);
	return rc;
}

/* --- the command ------------------------------------------------------- */

/* Finds the --baseline columns among the compared ones. */
static int mr_dedupe_cli_baseline_fields(const struct mr_dedupe_cli *c, char *list,
					 struct mr_dedupe_field *out, int *n, struct mr_err *err)
{
	char *item = list;

	*n = 0;
	while (item) {
		char *next = strchr(item, ',');
		int f = 0;
		if (next)
			*next++ = '\0';
		while (f < c->o.nfields && strcmp(c->names[2 + f], item) != 0)
			f++;
		if (f == c->o.nfields)
			return mr_err_set(err, MR_EINVAL, "--baseline: '%s' is not a --compare column", item);
		out[(*n)++] = c->o.field[f];
		item = next;
	}
	return 0;
}

/* Runs the baseline (legacy exact keys) instead of the model. */
static int mr_dedupe_cli_run_baseline(struct mr_dedupe_cli *c, const struct mr_dedupe_table *t,
				      struct mr_dedupe_result *r, struct mr_err *err)
{
	struct mr_dedupe_field fields[MR_FS_MAX_FIELDS];
	char *list = mr_strdup(c->baseline);
	int64_t t0 = mr_mono_us();
	int n, rc = mr_dedupe_cli_baseline_fields(c, list, fields, &n, err);

	free(list);
	if (rc < 0)
		return rc;
	r->stats.rows = t->nrows;
	r->cluster = mr_malloc((t->nrows ? t->nrows : 1) * sizeof(*r->cluster));
	r->stats.clusters = mr_dedupe_baseline_exact(t, fields, n, r->cluster);
	r->stats.ms_cluster = (double)(mr_mono_us() - t0) / 1000.0;
	if (!c->quiet)
		fprintf(stderr, "baseline: records equal on any of %s: %zu clusters\n", c->baseline,
			r->stats.clusters);
	return 0;
}

static void mr_dedupe_cli_report(const struct mr_dedupe_cli *c, const struct mr_dedupe_result *r)
{
	const struct mr_dedupe_stats *st = &r->stats;

	mr_dedupe_cli_passes(&r->block, st);
	mr_dedupe_cli_model(&r->model, st, !c->model);
	fprintf(stderr, "decisions (merge at p >= %.2f, review at p >= %.2f): %llu pairs merged, %llu merges "
		"refused (a clear non-match across the clusters), %llu pairs to review; %zu clusters, %zu of "
		"them with 2+ records\n", r->model.upper, r->model.lower, (unsigned long long)st->matches,
		(unsigned long long)st->refused, (unsigned long long)st->reviews, st->clusters,
		st->multi_clusters);
}

/* Reads, runs the model (or the baseline), writes; the report goes to stderr. */
static int mr_dedupe_cli_main(struct mr_dedupe_cli *c, struct mr_err *err)
{
	struct mr_dedupe_table t;
	struct mr_dedupe_result r;
	struct mr_fs_model given;
	char *compare = mr_strdup(c->compare);
	int64_t t0 = mr_mono_us(), bad = 0;
	double ms_read, ms_write = 0;
	int rc;

	memset(&t, 0, sizeof(t));
	memset(&r, 0, sizeof(r));
	rc = mr_dedupe_cli_compare(c, compare, err);
	if (rc == 0 && c->model)
		rc = mr_dedupe_cli_load_model(c->model, &given, err);
	if (rc == 0)
		rc = mr_dedupe_cli_read(c, &t, &bad, err);
	ms_read = (double)(mr_mono_us() - t0) / 1000.0;
	if (rc < 0)
		goto out;
	if (!c->quiet)
		fprintf(stderr, "read %zu records from %s (%s), %lld bad records skipped, in %.2f s\n", t.nrows,
			c->file, c->encoding ? c->encoding : "?", (long long)bad, ms_read / 1000.0);
	c->o.upper = c->upper;
	c->o.lower = c->lower;
	c->o.threads = c->threads;
	c->o.model = c->model ? &given : NULL;
	c->o.progress = mr_dedupe_cli_progress;
	c->o.progress_arg = c;
	c->tty = !c->quiet && isatty(2);
	if (c->baseline)
		rc = mr_dedupe_cli_run_baseline(c, &t, &r, err);
	else
		rc = mr_dedupe_run(&t, &c->o, &r, err);
	if (rc == 0 && !c->quiet && !c->baseline)
		mr_dedupe_cli_report(c, &r);
	if (rc == 0 && c->save_model && !c->baseline)
		rc = mr_dedupe_cli_save_model(c->save_model, &r.model, err);
	if (rc == 0 && c->review && !c->baseline)
		rc = mr_dedupe_cli_review(c, &t, &r, err);
	t0 = mr_mono_us();
	if (rc == 0)
		rc = mr_dedupe_cli_write(c, &t, r.cluster, err);
	ms_write = (double)(mr_mono_us() - t0) / 1000.0;
	if (rc == 0 && !c->quiet && c->truth)
		mr_dedupe_cli_quality(c->baseline ? "baseline vs truth" : "model vs truth", &t, c->truth_col,
				      r.cluster);
	if (rc == 0 && !c->quiet && c->baseline)
		fprintf(stderr, "time: read %.2f s, baseline %.2f s, write %.2f s\n", ms_read / 1000,
			r.stats.ms_cluster / 1000, ms_write / 1000);
	else if (rc == 0 && !c->quiet)
		fprintf(stderr, "time: read %.2f s, prepare %.2f s, block %.2f s, compare %.2f s, em %.2f s, "
			"cluster %.2f s, write %.2f s\n", ms_read / 1000, r.stats.ms_prepare / 1000,
			r.stats.ms_block / 1000, r.stats.ms_compare / 1000, r.stats.ms_em / 1000,
			r.stats.ms_cluster / 1000, ms_write / 1000);
out:
	mr_dedupe_result_release(&r);
	mr_dedupe_table_release(&t);
	free(compare);
	return rc;
}

int mr_cmd_dedupe(int argc, char **argv)
{
	struct mr_dedupe_cli c;
	struct mr_err err;
	int rc;

	memset(&c, 0, sizeof(c));
	mr_err_clear(&err);
	c.truth_col = -1;
	rc = mr_dedupe_cli_parse(&c, argc, argv);
	if (rc)
		return rc == 1 ? 0 : rc;
	if (mr_dedupe_cli_main(&c, &err) < 0)
		return mr_cli_fail("dedupe", &err);
	return 0;
}
