/*
 * The expression language's parser and type checker (src/engine/expr.c)
 * against a resolver made of one table: every example of
 * QUERY-LANGUAGE.md with its types and tree shape, golden canonical forms
 * (each one a fixed point of parse then format), and every kind of error a
 * user can make with the exact column, message and expectation the API
 * will show them — counted in characters, so Chinese text before a
 * mistake counts once per character.
 */
#include "unit.h"

#include "base/arena.h"
#include "engine/expr.h"

/* ---- the test resolver: one table ------------------------------------------------------ */

enum { K_ATTR = 1, K_TAG, K_EVENT };

#define CAT MR_XN_CATEGORICAL
#define SUM MR_XN_SUMMABLE

static const struct tname {
	enum mr_xscope scope;
	int kind;
	const char *name;
	enum mr_xtype type;
	unsigned flags;
} names[] = {
	{ MR_XS_PROFILE, K_ATTR, "specialty", MR_XT_STR, 0 },
	{ MR_XS_PROFILE, K_ATTR, "title", MR_XT_STR, 0 },
	{ MR_XS_PROFILE, K_ATTR, "department", MR_XT_STR, 0 },
	{ MR_XS_PROFILE, K_ATTR, "gender", MR_XT_STR, 0 },
	{ MR_XS_PROFILE, K_ATTR, "status", MR_XT_STR, 0 },
	{ MR_XS_PROFILE, K_ATTR, "region", MR_XT_STR, 0 },
	{ MR_XS_PROFILE, K_ATTR, "hco.grade", MR_XT_STR, 0 },
	{ MR_XS_PROFILE, K_ATTR, "hco.province", MR_XT_STR, 0 },
	{ MR_XS_PROFILE, K_ATTR, "hco.city", MR_XT_STR, 0 },
	{ MR_XS_PROFILE, K_ATTR, "hco.level", MR_XT_NUM, 0 },
	{ MR_XS_PROFILE, K_ATTR, "hco.city_tier", MR_XT_NUM, 0 },
	{ MR_XS_PROFILE, K_ATTR, "owner.field", MR_XT_STR, MR_XN_LIST },
	{ MR_XS_PROFILE, K_ATTR, "owner.inside", MR_XT_STR, MR_XN_LIST },
	{ MR_XS_PROFILE, K_ATTR, "consent.wechat", MR_XT_BOOL, 0 },
	{ MR_XS_PROFILE, K_ATTR, "consent.phone", MR_XT_BOOL, 0 },
	{ MR_XS_PROFILE, K_ATTR, "consent.email", MR_XT_BOOL, 0 },
	{ MR_XS_PROFILE, K_TAG, "wechat_engaged", MR_XT_BOOL, 0 },
	{ MR_XS_PROFILE, K_TAG, "engagement_score", MR_XT_NUM, 0 },
	{ MR_XS_PROFILE, K_TAG, "academic_need", MR_XT_STR, 0 },
	{ MR_XS_EVENT, K_EVENT, "channel", MR_XT_STR, CAT },
	{ MR_XS_EVENT, K_EVENT, "type", MR_XT_STR, CAT },
	{ MR_XS_EVENT, K_EVENT, "rep", MR_XT_STR, CAT },
	{ MR_XS_EVENT, K_EVENT, "rep.type", MR_XT_STR, CAT },
	{ MR_XS_EVENT, K_EVENT, "content", MR_XT_STR, CAT },
	{ MR_XS_EVENT, K_EVENT, "content.topic", MR_XT_STR, CAT },
	{ MR_XS_EVENT, K_EVENT, "content.product", MR_XT_STR, CAT },
	{ MR_XS_EVENT, K_EVENT, "campaign", MR_XT_STR, CAT },
	{ MR_XS_EVENT, K_EVENT, "meeting", MR_XT_STR, CAT },
	{ MR_XS_EVENT, K_EVENT, "outcome", MR_XT_STR, MR_XN_LADDER | CAT },
	{ MR_XS_EVENT, K_EVENT, "duration_s", MR_XT_NUM, SUM },
	{ MR_XS_EVENT, K_EVENT, "weight", MR_XT_NUM, SUM },
};

enum { NNAMES = sizeof(names) / sizeof(names[0]) };

static const char *const channels[] = { "phone", "wechat", "wecom", "meeting_online", "meeting_offline",
					"visit", "email", "content", "sms", NULL };
/* Every rung of every ladder of ARCHITECTURE.md. */
static const char *const outcomes[] = { "no_answer", "answered",  "successful", "effective", "sent",
					"delivered", "read",	  "responded",	"invited",   "registered",
					"attended",  "planned",	  "completed",	"viewed",    NULL };

/* The names the parser asked for, to see they arrive lower-cased. */
static char asked[8][64];
static int nasked;

static const struct tname *lookup(enum mr_xscope scope, const char *name)
{
	for (int i = 0; i < NNAMES; i++) {
		if (names[i].scope == scope && strcmp(names[i].name, name) == 0)
			return &names[i];
	}
	return NULL;
}

static int resolve(void *arg, enum mr_xscope scope, const char *name, struct mr_xname *out, const char **hint)
{
	static char why[160];
	const struct tname *t = lookup(scope, name);

	(void)arg;
	snprintf(asked[nasked++ % 8], sizeof(asked[0]), "%s", name);
	if (!t && scope == MR_XS_PROFILE && strncmp(name, "tag.", 4) == 0) {
		t = lookup(scope, name + 4);
		if (t && t->kind != K_TAG)
			t = NULL;
	}
	if (t) {
		out->kind = t->kind;
		out->id = (int)(t - names);
		out->type = t->type;
		out->flags = t->flags;
		return 1;
	}
	if (scope == MR_XS_PROFILE && lookup(MR_XS_EVENT, name)) {
		snprintf(why, sizeof(why), "%s is a field of an event: use it inside count(...), exists(...)", name);
		*hint = why;
	} else if (scope == MR_XS_EVENT && lookup(MR_XS_PROFILE, name)) {
		snprintf(why, sizeof(why), "%s is about the HCP: compare it outside count(...)", name);
		*hint = why;
	}
	return 0;
}

static int in_list(const char *const *list, const char *v)
{
	for (; *list; list++) {
		if (strcmp(*list, v) == 0)
			return 1;
	}
	return 0;
}

static int check_value(void *arg, const struct mr_xname *n, const char *value, const char **why)
{
	(void)arg;
	if (strcmp(names[n->id].name, "channel") == 0 && !in_list(channels, value)) {
		*why = "a channel: phone, wechat, wecom, meeting_online, meeting_offline, visit, email, content, sms";
		return -1;
	}
	if (strcmp(names[n->id].name, "outcome") == 0 && !in_list(outcomes, value)) {
		*why = "an outcome: no_answer, answered, successful, effective, sent, delivered, read, ...";
		return -1;
	}
	return 0;
}

static const struct mr_xresolver R = { resolve, check_value, NULL };

/* ---- helpers --------------------------------------------------------------------------- */

static struct mr_arena arena;

static int setup(void **state)
{
	(void)state;
	mr_arena_init(&arena);
	nasked = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	mr_arena_release(&arena);
	return 0;
}

/* Parses src (n bytes), which must be accepted. */
static struct mr_xnode *parse_n(const char *src, size_t n)
{
	struct mr_xnode *x = NULL;
	struct mr_xerr xe;
	struct mr_err err;

	mr_err_clear(&err);
	if (mr_expr_parse(src, n, &R, &arena, &x, &xe, &err) != 0)
		fail_msg("refused %.80s: column %d: %s (expected %s)", src, xe.col, xe.msg, xe.expected);
	assert_non_null(x);
	assert_int_equal(xe.col, 0);
	return x;
}

static struct mr_xnode *parse(const char *src)
{
	return parse_n(src, strlen(src));
}

static const char *format(const struct mr_xnode *x)
{
	static char buf[1 << 17];

	return mr_expr_format(x, buf, sizeof(buf));
}

/* Parses src, which must be refused with exactly this column, message and expectation. */
static void refuse_n(const char *src, size_t n, int col, const char *msg, const char *expected)
{
	struct mr_xnode *x = (struct mr_xnode *)&x;
	struct mr_xerr xe;
	struct mr_err err;

	mr_err_clear(&err);
	if (mr_expr_parse(src, n, &R, &arena, &x, &xe, &err) != MR_EINVAL)
		fail_msg("accepted %.80s", src);
	assert_null(x);
	if (xe.col != col || strcmp(xe.msg, msg) != 0 || (expected && strcmp(xe.expected, expected) != 0))
		fail_msg("%.80s\n   got: %d: %s (expected %s)\n  want: %d: %s (expected %s)", src, xe.col, xe.msg,
			 xe.expected, col, msg, expected ? expected : "-");
	assert_int_equal(err.code, MR_EINVAL);
	assert_int_equal(err.column, col);
	assert_string_equal(err.field, "expr");
	assert_string_equal(err.kind, "invalid_expression");
}

static void refuse(const char *src, int col, const char *msg, const char *expected)
{
	refuse_n(src, strlen(src), col, msg, expected);
}

static void assert_name(const struct mr_xnode *x, const char *text, enum mr_xtype type, enum mr_xscope scope)
{
	assert_int_equal(x->op, MR_XO_NAME);
	assert_string_equal(x->text, text);
	assert_int_equal(x->type, type);
	assert_int_equal(x->scope, scope);
	assert_int_equal(x->name.type, type);
	assert_int_equal(x->n, 0);
}

static void assert_str(const struct mr_xnode *x, const char *s)
{
	assert_int_equal(x->op, MR_XO_STR);
	assert_int_equal(x->type, MR_XT_STR);
	assert_string_equal(x->str, s);
	assert_int_equal(x->len, strlen(s));
}

static void assert_num(const struct mr_xnode *x, double v)
{
	assert_int_equal(x->op, MR_XO_NUM);
	assert_int_equal(x->type, MR_XT_NUM);
	assert_true(x->num == v);
}

/* A comparison op of name (in scope) with a string. */
static void assert_cmp_str(const struct mr_xnode *x, enum mr_xop op, const char *name, enum mr_xscope scope,
			   const char *s)
{
	assert_int_equal(x->op, op);
	assert_int_equal(x->type, MR_XT_BOOL);
	assert_int_equal(x->n, 2);
	assert_name(x->kids[0], name, MR_XT_STR, scope);
	assert_str(x->kids[1], s);
}

/* ---- the examples of QUERY-LANGUAGE.md --------------------------------------------------- */

static void test_example_segment(void **state)
{
	const char *src = "specialty = \"endocrinology\"\n"
			  "  and count(channel = \"wechat\" and outcome >= \"responded\", 365d) >= 2\n"
			  "  and not exists(channel = \"visit\", 90d)";
	struct mr_xnode *x, *count, *filter, *not;

	(void)state;
	x = parse(src);
	assert_int_equal(x->op, MR_XO_AND);
	assert_int_equal(x->type, MR_XT_BOOL);
	assert_int_equal(x->n, 3);
	assert_int_equal(x->col, 1);
	assert_cmp_str(x->kids[0], MR_XO_EQ, "specialty", MR_XS_PROFILE, "endocrinology");

	assert_int_equal(x->kids[1]->op, MR_XO_GE);
	count = x->kids[1]->kids[0];
	assert_int_equal(count->op, MR_XO_COUNT);
	assert_int_equal(count->type, MR_XT_NUM);
	assert_int_equal(count->scope, MR_XS_PROFILE);
	assert_int_equal(count->col, 35); /* line 2 starts at column 29: columns run on across lines */
	assert_true(count->window_s == 365 * 86400);
	assert_int_equal(count->n, 1);
	filter = count->kids[0];
	assert_int_equal(filter->op, MR_XO_AND);
	assert_int_equal(filter->scope, MR_XS_EVENT);
	assert_cmp_str(filter->kids[0], MR_XO_EQ, "channel", MR_XS_EVENT, "wechat");
	assert_cmp_str(filter->kids[1], MR_XO_GE, "outcome", MR_XS_EVENT, "responded");
	assert_true(filter->kids[1]->kids[0]->name.flags & MR_XN_LADDER);
	assert_num(x->kids[1]->kids[1], 2);

	not = x->kids[2];
	assert_int_equal(not->op, MR_XO_NOT);
	assert_int_equal(not->n, 1);
	assert_int_equal(not->kids[0]->op, MR_XO_EXISTS);
	assert_int_equal(not->kids[0]->type, MR_XT_BOOL);
	assert_true(not->kids[0]->window_s == 90 * 86400);
	assert_cmp_str(not->kids[0]->kids[0], MR_XO_EQ, "channel", MR_XS_EVENT, "visit");

	assert_string_equal(format(x), "specialty = \"endocrinology\" and count(channel = \"wechat\" and outcome >= "
					"\"responded\", 365d) >= 2 and not exists(channel = \"visit\", 90d)");
}

static void test_example_lists_and_tags(void **state)
{
	struct mr_xnode *x;

	(void)state;
	x = parse("hco.city_tier in (3, 4, 5) and title in (\"assoc_chief\", \"chief\")");
	assert_int_equal(x->op, MR_XO_AND);
	assert_int_equal(x->n, 2);
	assert_int_equal(x->kids[0]->op, MR_XO_IN);
	assert_int_equal(x->kids[0]->n, 4);
	assert_name(x->kids[0]->kids[0], "hco.city_tier", MR_XT_NUM, MR_XS_PROFILE);
	assert_num(x->kids[0]->kids[3], 5);
	assert_int_equal(x->kids[1]->op, MR_XO_IN);
	assert_int_equal(x->kids[1]->n, 3);
	assert_str(x->kids[1]->kids[2], "chief");

	x = parse("wechat_engaged and engagement_score >= 10 and academic_need = \"patient_data\"");
	assert_int_equal(x->op, MR_XO_AND);
	assert_int_equal(x->n, 3);
	assert_name(x->kids[0], "wechat_engaged", MR_XT_BOOL, MR_XS_PROFILE);
	assert_int_equal(x->kids[0]->name.kind, K_TAG);
	assert_int_equal(x->kids[1]->op, MR_XO_GE);
	assert_name(x->kids[1]->kids[0], "engagement_score", MR_XT_NUM, MR_XS_PROFILE);
	assert_cmp_str(x->kids[2], MR_XO_EQ, "academic_need", MR_XS_PROFILE, "patient_data");

	x = parse("days_since(channel = \"phone\" and outcome >= \"successful\") > 30");
	assert_int_equal(x->op, MR_XO_GT);
	assert_int_equal(x->kids[0]->op, MR_XO_DAYS_SINCE);
	assert_int_equal(x->kids[0]->type, MR_XT_NUM);
	assert_int_equal(x->kids[0]->n, 1);
	assert_true(x->kids[0]->window_s == 0);
	assert_int_equal(x->kids[0]->kids[0]->op, MR_XO_AND);
	assert_num(x->kids[1], 30);
}

static void test_example_tag_definitions(void **state)
{
	struct mr_xnode *x;

	(void)state;
	/* wechat_engaged = ... */
	x = parse("count(channel = \"wechat\" and outcome >= \"responded\", 90d) >= 3");
	assert_int_equal(x->type, MR_XT_BOOL);
	assert_int_equal(x->kids[0]->op, MR_XO_COUNT);
	assert_true(x->kids[0]->window_s == 90 * 86400);

	/* engagement_score = ... */
	x = parse("sum(weight, 180d)");
	assert_int_equal(x->op, MR_XO_SUM);
	assert_int_equal(x->type, MR_XT_NUM);
	assert_int_equal(x->n, 1);
	assert_name(x->kids[0], "weight", MR_XT_NUM, MR_XS_EVENT);
	assert_true(x->window_s == 180 * 86400);

	/* academic_need = ... */
	x = parse("top(content.topic, channel = \"content\", 180d)");
	assert_int_equal(x->op, MR_XO_TOP);
	assert_int_equal(x->type, MR_XT_STR);
	assert_int_equal(x->n, 2);
	assert_name(x->kids[0], "content.topic", MR_XT_STR, MR_XS_EVENT);
	assert_cmp_str(x->kids[1], MR_XO_EQ, "channel", MR_XS_EVENT, "content");

	/* answer_rate_90d = ... */
	x = parse("rate(channel = \"phone\" and outcome >= \"answered\", channel = \"phone\", 90d)");
	assert_int_equal(x->op, MR_XO_RATE);
	assert_int_equal(x->type, MR_XT_NUM);
	assert_int_equal(x->n, 2);
	assert_int_equal(x->kids[0]->op, MR_XO_AND);
	assert_cmp_str(x->kids[1], MR_XO_EQ, "channel", MR_XS_EVENT, "phone");
	assert_true(x->window_s == 90 * 86400);

	/* sum with a filter, top without one, exists */
	x = parse("sum(duration_s, channel = \"phone\", 2w)");
	assert_int_equal(x->n, 2);
	assert_true(x->window_s == 14 * 86400);
	x = parse("top(channel, 12h)");
	assert_int_equal(x->n, 1);
	assert_true(x->window_s == 12 * 3600);
	x = parse("exists(channel = \"visit\", 90d)");
	assert_int_equal(x->op, MR_XO_EXISTS);
	assert_int_equal(x->type, MR_XT_BOOL);
}

/* Names lower-cased before resolve(), keywords in any case, tag.<name>, owner lists, comments. */
static void test_names_keywords_comments(void **state)
{
	struct mr_xnode *x;

	(void)state;
	x = parse("SPECIALTY = \"Cardiology\" AND Not TAG.Wechat_Engaged -- a comment: and or (\n"
		  "  OR hco.CITY_tier IN (1) or TRUE or False -- to the end");
	assert_string_equal(asked[0], "specialty");
	assert_string_equal(asked[1], "tag.wechat_engaged");
	assert_string_equal(asked[2], "hco.city_tier");
	assert_int_equal(x->op, MR_XO_OR);
	assert_int_equal(x->n, 4);
	assert_str(x->kids[0]->kids[0]->kids[1], "Cardiology"); /* strings keep their case */
	assert_name(x->kids[0]->kids[1]->kids[0], "tag.wechat_engaged", MR_XT_BOOL, MR_XS_PROFILE);
	assert_int_equal(x->kids[2]->op, MR_XO_BOOL);
	assert_true(x->kids[2]->num == 1);
	assert_true(x->kids[3]->num == 0);

	/* tag.<name> and <name> are the same tag */
	x = parse("tag.engagement_score = engagement_score");
	assert_int_equal(x->kids[0]->name.kind, K_TAG);
	assert_int_equal(x->kids[0]->name.id, x->kids[1]->name.id);

	/* a list name with = and in */
	x = parse("owner.field = \"R0042\" or owner.inside in (\"R1\", \"R2\")");
	assert_true(x->kids[0]->kids[0]->name.flags & MR_XN_LIST);
	assert_int_equal(x->kids[1]->op, MR_XO_IN);

	/* the filter's profile-free names are event names; the call node lives in the profile */
	x = parse("count(rep.type = \"msl\" and content.product = \"P1\" and duration_s >= 60, 1w) > 0");
	assert_int_equal(x->kids[0]->scope, MR_XS_PROFILE);
	assert_name(x->kids[0]->kids[0]->kids[0]->kids[0], "rep.type", MR_XT_STR, MR_XS_EVENT);

	/* a bare expression of any type is a result: the caller checks what it needs */
	assert_int_equal(parse("engagement_score")->type, MR_XT_NUM);
	assert_int_equal(parse("academic_need")->type, MR_XT_STR);
	assert_int_equal(parse("\"中文\"")->type, MR_XT_STR);
}

static void test_strings(void **state)
{
	struct mr_xnode *x;

	(void)state;
	x = parse("specialty = \"say \\\"hi\\\" \\\\ 心内科\"");
	assert_str(x->kids[1], "say \"hi\" \\ 心内科");
	assert_int_equal(x->kids[1]->col, 13);
	x = parse("hco.city = \"北京\" and specialty = \"\"");
	assert_str(x->kids[1]->kids[1], "");
	assert_int_equal(x->kids[1]->col, 21); /* 北京 counts two columns */
	assert_string_equal(format(x), "hco.city = \"北京\" and specialty = \"\"");
	x = parse("department = \"内分泌科 -- not a comment\"");
	assert_str(x->kids[1], "内分泌科 -- not a comment");
}

static void test_windows(void **state)
{
	static const struct {
		const char *window;
		int64_t s;
		const char *canonical;
	} w[] = {
		{ "90d", 90 * 86400, "90d" },	  { "12h", 12 * 3600, "12h" },	    { "2w", 14 * 86400, "2w" },
		{ "14d", 14 * 86400, "2w" },	  { "24h", 86400, "1d" },	    { "36h", 36 * 3600, "36h" },
		{ "1H", 3600, "1h" },		  { "3660d", 3660 * 86400, "3660d" }, { "522w", 522 * 7 * 86400, "522w" },
		{ "87840h", 87840 * 3600, "3660d" }, { "007d", 7 * 86400, "1w" },
	};
	char src[128], want[128];

	(void)state;
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		struct mr_xnode *x;
		snprintf(src, sizeof(src), "count(channel = \"phone\", %s)", w[i].window);
		x = parse(src);
		assert_true(x->window_s == w[i].s);
		snprintf(want, sizeof(want), "count(channel = \"phone\", %s)", w[i].canonical);
		assert_string_equal(format(x), want);
	}
}

/* ---- the canonical form ---------------------------------------------------------------- */

static void test_format_golden(void **state)
{
	static const struct {
		const char *in, *out;
	} g[] = {
		{ "SPECIALTY = \"endocrinology\"  AND  Not Exists(CHANNEL = \"visit\", 90D)",
		  "specialty = \"endocrinology\" and not exists(channel = \"visit\", 90d)" },
		{ "((wechat_engaged))", "wechat_engaged" },
		{ "(wechat_engaged or consent.wechat) and engagement_score>=10",
		  "(wechat_engaged or consent.wechat) and engagement_score >= 10" },
		{ "wechat_engaged or (consent.wechat and consent.phone)",
		  "wechat_engaged or consent.wechat and consent.phone" },
		{ "(wechat_engaged or consent.wechat) or consent.phone", "(wechat_engaged or consent.wechat) or consent.phone" },
		{ "wechat_engaged and (consent.wechat and consent.phone)",
		  "wechat_engaged and (consent.wechat and consent.phone)" },
		{ "not (wechat_engaged and consent.wechat)", "not (wechat_engaged and consent.wechat)" },
		{ "not not wechat_engaged", "not not wechat_engaged" },
		{ "not(engagement_score > 3)", "not engagement_score > 3" },
		{ "(not wechat_engaged) = consent.wechat", "(not wechat_engaged) = consent.wechat" },
		{ "(engagement_score > 3) = true", "(engagement_score > 3) = true" },
		{ "wechat_engaged = (hco.level in (1, 2))", "wechat_engaged = (hco.level in (1, 2))" },
		{ "count(channel=\"phone\",14d)>=1", "count(channel = \"phone\", 2w) >= 1" },
		{ "count((channel = \"visit\"), 90d) > 1", "count(channel = \"visit\", 90d) > 1" },
		{ "sum(weight, channel = \"wechat\", 12w) >= 0.5", "sum(weight, channel = \"wechat\", 12w) >= 0.5" },
		{ "engagement_score >= 007", "engagement_score >= 7" },
		{ "engagement_score >= 1.50", "engagement_score >= 1.5" },
		{ "engagement_score > -0.25", "engagement_score > -0.25" },
		{ "engagement_score>-1", "engagement_score > -1" },
		{ "engagement_score > 0.1", "engagement_score > 0.1" },
		{ "engagement_score > 0.000001", "engagement_score > 0.000001" },
		{ "engagement_score > 123456789012.345", "engagement_score > 123456789012.345" },
		{ "engagement_score > 100000000000000000000000", "engagement_score > 100000000000000000000000" },
		{ "engagement_score > 12345678901234567890.5", "engagement_score > 12345678901234567000" },
		{ "specialty = \"say \\\"hi\\\" \\\\ 心内科\"", "specialty = \"say \\\"hi\\\" \\\\ 心内科\"" },
		{ "TAG.Wechat_Engaged", "tag.wechat_engaged" },
		{ "title IN (\"chief\",\"assoc_chief\")", "title in (\"chief\", \"assoc_chief\")" },
		{ "hco.city_tier in ((3), 4)", "hco.city_tier in (3, 4)" },
		{ "wechat_engaged -- engaged on WeChat\n  and consent.wechat", "wechat_engaged and consent.wechat" },
		{ "top(content.topic, 180d) = \"diabetes\"", "top(content.topic, 180d) = \"diabetes\"" },
		{ "days_since(channel = \"visit\") > 30", "days_since(channel = \"visit\") > 30" },
		{ "rate(outcome >= \"answered\", channel = \"phone\", 90d) < 0.5",
		  "rate(outcome >= \"answered\", channel = \"phone\", 90d) < 0.5" },
		{ "count(\"responded\" <= outcome, 9d) > 0", "count(\"responded\" <= outcome, 9d) > 0" },
		{ "3 = 3", "3 = 3" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
		char once[512];
		struct mr_xnode *x = parse(g[i].in);
		snprintf(once, sizeof(once), "%s", format(x));
		if (strcmp(once, g[i].out) != 0)
			fail_msg("%s\n   got: %s\n  want: %s", g[i].in, once, g[i].out);
		x = parse(once);
		assert_string_equal(format(x), once); /* a fixed point */
	}
}

static void test_format_small_buffer(void **state)
{
	struct mr_xnode *x;
	char buf[16];

	(void)state;
	x = parse("specialty = \"心内科\"");
	/* "specialty = \"心" would be 17 bytes: the cut character is dropped, not halved */
	mr_expr_format(x, buf, 16);
	assert_string_equal(buf, "specialty = \"");
	mr_expr_format(x, buf, 1);
	assert_string_equal(buf, "");
	buf[0] = 'x';
	mr_expr_format(x, buf, 0);
	assert_int_equal(buf[0], 'x');
	assert_string_equal(mr_xtype_name(MR_XT_BOOL), "boolean");
	assert_string_equal(mr_xtype_name(MR_XT_NUM), "number");
	assert_string_equal(mr_xtype_name(MR_XT_STR), "text");
}

/* ---- errors ---------------------------------------------------------------------------- */

struct bad {
	const char *src;
	int col;
	const char *msg;
	const char *expected;
};

#define EXPECT_VALUE "a value: a number, a string, true, false, a name or a call"
#define EXPECT_WINDOW "a window: a whole number followed by d, h or w (90d, 12h, 2w)"
#define EXPECT_FILTER "a condition on one event, e.g. channel = \"phone\""
#define EXPECT_PROFILE "a profile name, a tag or a function"
#define EXPECT_EVENT "a field of the event, e.g. channel, type or outcome"
#define EXPECT_MORE "and, or, or the end of the expression"
#define HOW_SPECIALTY "text, e.g. specialty = \"...\" or specialty in (\"...\", \"...\")"
#define CHANNELS "a channel: phone, wechat, wecom, meeting_online, meeting_offline, visit, email, content, sms"

static void refuse_all(const struct bad *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		refuse(b[i].src, b[i].col, b[i].msg, b[i].expected);
}

static void test_errors_names_and_structure(void **state)
{
	static const struct bad b[] = {
		{ "specialy = \"x\"", 1, "unknown name 'specialy'", EXPECT_PROFILE },
		{ "Specialy = \"x\"", 1, "unknown name 'specialy'", EXPECT_PROFILE },
		{ "channel = \"wechat\"", 1,
		  "unknown name 'channel'; channel is a field of an event: use it inside count(...), exists(...)",
		  EXPECT_PROFILE },
		{ "count(specialty = \"x\", 90d) > 0", 7,
		  "unknown name 'specialty'; specialty is about the HCP: compare it outside count(...)", EXPECT_EVENT },
		{ "tag.specialty = \"x\"", 1, "unknown name 'tag.specialty'", EXPECT_PROFILE },
		{ "wechat_engaged and exists", 20, "unknown name 'exists'; exists is a function",
		  "exists(filter, window), e.g. exists(channel = \"visit\", 90d)" },
		{ "hco.city = \"北京\" and specialy = \"x\"", 21, "unknown name 'specialy'", EXPECT_PROFILE },
		{ "cnt(content = \"x\", 90d) > 1", 1, "unknown function 'cnt'",
		  "one of count, exists, sum, rate, top, days_since" },
		{ "specialty(1)", 1, "unknown function 'specialty'", "one of count, exists, sum, rate, top, days_since" },
		{ "(specialty = \"x\"", 17, "unbalanced parenthesis: the '(' at column 1 is never closed", "')'" },
		{ "((specialty = \"x\") and (title = \"y\"", 36,
		  "unbalanced parenthesis: the '(' at column 24 is never closed", "')'" },
		{ "count(content = \"x\", 90d", 25, "unbalanced parenthesis: the '(' at column 6 is never closed",
		  "',' or ')'" },
		{ "title in (\"a\", \"b\"", 19, "unbalanced parenthesis: the '(' at column 10 is never closed",
		  "',' or ')'" },
		{ "specialty = \"x\")", 16, "unbalanced parenthesis: this ')' has no matching '('", EXPECT_MORE },
		{ "(specialty = \"x\"))", 18, "unbalanced parenthesis: this ')' has no matching '('", EXPECT_MORE },
		{ ")", 1, "unbalanced parenthesis: this ')' has no matching '('", EXPECT_VALUE },
		{ "specialty = )", 13, "unbalanced parenthesis: this ')' has no matching '('", EXPECT_VALUE },
		{ "(specialty = )", 14, "unexpected ')'", EXPECT_VALUE },
		{ "(specialty = \"x\" title", 18, "unexpected 'title'", "')'" },
		{ "specialty = \"x\" specialty", 17, "trailing input after the expression", EXPECT_MORE },
		{ "specialty = \"x\" = \"y\"", 17, "trailing input after the expression", EXPECT_MORE },
		{ "specialty \"x\"", 11, "trailing input after the expression", EXPECT_MORE },
		{ "", 1, "the expression is empty", "an expression, e.g. specialty = \"cardiology\"" },
		{ "  -- only a comment\n  ", 1, "the expression is empty", "an expression, e.g. specialty = \"cardiology\"" },
		{ "specialty = ", 13, "unexpected end of the expression", EXPECT_VALUE },
		{ "wechat_engaged and", 19, "unexpected end of the expression", EXPECT_VALUE },
		{ "not not", 8, "unexpected end of the expression", EXPECT_VALUE },
		{ "specialty = not wechat_engaged", 13, "unexpected 'not'", EXPECT_VALUE },
		{ "and wechat_engaged", 1, "unexpected 'and'", EXPECT_VALUE },
		{ "title in \"a\"", 10, "unexpected \"a\"",
		  "'(' and a list of values, e.g. title in (\"chief\", \"assoc_chief\")" },
		{ "title in ()", 11, "the list after in is empty", EXPECT_VALUE },
		{ "title in (\"a\" \"b\")", 15, "unexpected \"b\"", "',' or ')'" },
		{ "count(content = \"x\" 90d) > 0", 21, "unexpected 90d", "',' or ')'" },
		{ "count(content = \"x\", ) > 0", 22, "unexpected ')'", EXPECT_VALUE },
	};

	(void)state;
	refuse_all(b, sizeof(b) / sizeof(b[0]));
}

static void test_errors_lexical(void **state)
{
	static const struct bad b[] = {
		{ "specialty = \"a\\nb\"", 15, "invalid escape '\\' followed by 'n' in a string",
		  "\\\" or \\\\, the only escapes; other characters go in as they are" },
		{ "specialty = \"心内\\科\"", 16, "invalid escape '\\' followed by '科' in a string",
		  "\\\" or \\\\, the only escapes; other characters go in as they are" },
		{ "specialty = \"abc", 17, "unterminated string: the '\"' at column 13 is never closed", "a closing '\"'" },
		{ "specialty = \"abc\\\"", 19, "unterminated string: the '\"' at column 13 is never closed",
		  "a closing '\"'" },
		{ "specialty = \"a\nb\"", 15, "a line break inside a string", "a closing '\"' before the line ends" },
		{ "specialty = \"a\tb\"", 15, "a control character (U+0009) inside a string", "printable text inside a string" },
		{ "specialty == \"x\"", 11, "unexpected '=='", "'=' (one equals sign compares)" },
		{ "specialty <> \"x\"", 11, "unexpected '<>'", "'!='" },
		{ "wechat_engaged && consent.wechat", 16, "unexpected '&&'", "and" },
		{ "wechat_engaged || consent.wechat", 16, "unexpected '||'", "or" },
		{ "!wechat_engaged", 1, "unexpected '!'", "'!=' or not" },
		{ "specialty = 'x'", 13, "unexpected \"'\"", "a string in double quotes, e.g. \"cardiology\"" },
		{ "specialty = “心内科”", 13, "unexpected '“'", "a straight double quote '\"'" },
		{ "title in （\"a\"）", 10, "unexpected '（'", "'(' (the ASCII parenthesis)" },
		{ "title in (\"a\"，\"b\")", 14, "unexpected '，'", "',' (the ASCII comma)" },
		{ "specialty = \"x\" # note", 17, "unexpected character '#'",
		  "a value, an operator, a parenthesis or a comma" },
		{ "specialty = 心内科", 13, "unexpected character '心'", "a value, an operator, a parenthesis or a comma" },
		{ "engagement_score > - 1", 20, "unexpected character '-'",
		  "a value, an operator, a parenthesis or a comma" },
		{ "hco. = 1", 5, "incomplete name 'hco.'", "a name after '.', e.g. hco.city_tier" },
		{ "hco.1 = 1", 5, "incomplete name 'hco.'", "a name after '.', e.g. hco.city_tier" },
		{ "engagement_score > 3x", 20, "invalid number '3x'", "a number (3, 0.5) or a window (90d, 12h, 2w)" },
		{ "engagement_score > 1e5", 20, "invalid number '1e5'", "a number (3, 0.5) or a window (90d, 12h, 2w)" },
		{ "engagement_score > 90days", 20, "invalid number '90days'", "a number (3, 0.5) or a window (90d, 12h, 2w)" },
		{ "engagement_score > 5.", 21, "a number cannot end with '.'", "digits after the '.', e.g. 0.5" },
		{ "engagement_score > .5", 20, "unexpected character '.'", "a value, an operator, a parenthesis or a comma" },
	};

	(void)state;
	refuse_all(b, sizeof(b) / sizeof(b[0]));
	/* invalid UTF-8 inside a string, after Chinese: the column of the bad byte, in characters */
	refuse("specialty = \"北\xff\"", 15, "invalid UTF-8 (byte 0xff)", "text in UTF-8");
	refuse("specialty = \"北\xe4\xb8\"", 15, "invalid UTF-8 (byte 0xe4)", "text in UTF-8");
	refuse("\xc0\xafspecialty", 1, "invalid UTF-8 (byte 0xc0)", "text in UTF-8"); /* an overlong '/' */
	refuse("specialty -- 注释 \xed\xa0\x80\n = \"x\"", 17, "invalid UTF-8 (byte 0xed)", "text in UTF-8");
	/* a NUL byte is a character like any other */
	refuse_n("specialty = \"x\"\0", 16, 16, "unexpected character U+0000",
		 "a value, an operator, a parenthesis or a comma");
	refuse_n("specialty = \"x\0\"", 16, 15, "a control character (U+0000) inside a string",
		 "printable text inside a string");
	/* 1e400 has no exponent syntax; its digits do */
	{
		char big[400];
		memset(big, '9', sizeof(big));
		memcpy(big, "engagement_score > ", 19);
		big[399] = '\0';
		refuse(big, 20, "the number 9999999999999999999999999999999999999999... is too large",
		       "a number below 1e308");
	}
}

static void test_errors_calls_and_windows(void **state)
{
	static const struct bad b[] = {
		{ "count(channel = \"phone\", 90d, 3) > 1", 31, "count takes 2 arguments, got 3",
		  "count(filter, window), e.g. count(channel = \"phone\", 90d)" },
		{ "count(channel = \"phone\") > 1", 24, "count takes 2 arguments, got 1",
		  "count(filter, window), e.g. count(channel = \"phone\", 90d)" },
		{ "count() > 1", 7, "count takes 2 arguments, got 0", NULL },
		{ "sum(weight) > 1", 11, "sum takes 2 or 3 arguments, got 1",
		  "sum(field, [filter,] window), e.g. sum(weight, 180d)" },
		{ "top(channel, content = \"x\", content = \"y\", 9d) = \"x\"", 44, "top takes 2 or 3 arguments, got 4",
		  "top(field, [filter,] window), e.g. top(content.topic, 180d)" },
		{ "rate(content = \"x\", 90d) > 0", 24, "rate takes 3 arguments, got 2", NULL },
		{ "days_since(content = \"x\", 90d) > 3", 27, "days_since takes 1 argument, got 2",
		  "days_since(filter), e.g. days_since(channel = \"visit\")" },
		{ "count(content = \"x\", 0d) > 1", 22, "the window must be positive: 0d", EXPECT_WINDOW },
		{ "count(content = \"x\", -3d) > 1", 22, "the window must be positive: -3d", EXPECT_WINDOW },
		{ "count(content = \"x\", -0w) > 1", 22, "the window must be positive: -0w", EXPECT_WINDOW },
		{ "count(content = \"x\", 1.5d) > 1", 22, "the window must be a whole number: 1.5d", EXPECT_WINDOW },
		{ "count(content = \"x\", 3661d) > 1", 22, "the window 3661d is too long",
		  "a window of at most 3660 days (3660d, 522w, 87840h)" },
		{ "count(content = \"x\", 523w) > 1", 22, "the window 523w is too long", NULL },
		{ "count(content = \"x\", 99999999999999999999999h) > 1", 22,
		  "the window 99999999999999999999999h is too long", NULL },
		{ "count(content = \"x\", 90) > 1", 22, "the window needs a unit: d, h or w", EXPECT_WINDOW },
		{ "count(content = \"x\", content = \"y\") > 1", 22, "the last argument of count must be a window",
		  EXPECT_WINDOW },
		{ "count(90d, 90d) > 1", 7, "a window can only be the last argument of count; here it needs a filter",
		  EXPECT_FILTER },
		{ "engagement_score > 90d", 20,
		  "90d is a window, only valid as the last argument of count, exists, sum, rate or top",
		  "a number without d, h or w" },
		{ "days_since(content = \"x\") > 30d", 29,
		  "30d is a window, only valid as the last argument of count, exists, sum, rate or top", NULL },
		{ "count(duration_s, 90d) > 1", 7, "the filter of count needs a condition, but duration_s is a number",
		  "a condition, e.g. duration_s >= 10" },
		{ "exists(channel, 90d)", 8, "the filter of exists needs a condition, but channel is text",
		  "a condition, e.g. channel = \"...\"" },
		{ "sum(channel, 90d) > 1", 5, "sum cannot add up 'channel'", "a numeric event field, e.g. weight or duration_s" },
		{ "top(duration_s, 90d) = \"x\"", 5, "top cannot rank 'duration_s'",
		  "a categorical event field, e.g. channel, type or content.topic" },
		{ "sum(weight > 1, 90d)", 5, "the first argument of sum must be an event field",
		  "a numeric event field, e.g. weight or duration_s" },
		{ "sum(90d, 90d)", 5, "the first argument of sum must be an event field", NULL },
		{ "exists(count(content = \"x\", 9d) > 1, 90d)", 8,
		  "count cannot be used inside exists(...): a filter describes one event", EXPECT_FILTER },
		{ "count(cnt(content = \"x\"), 90d) > 1", 7, "unknown function 'cnt'", NULL },
		{ "count(channel = \"fax\", 90d) > 1", 17, "unknown value \"fax\" for channel", CHANNELS },
		{ "count(channel in (\"visit\", \"fax\"), 90d) > 1", 28, "unknown value \"fax\" for channel", CHANNELS },
		{ "count(\"传真\" = channel, 90d) > 1", 7, "unknown value \"传真\" for channel", CHANNELS },
		{ "count(outcome >= \"respond\", 90d) > 1", 18, "unknown value \"respond\" for outcome",
		  "an outcome: no_answer, answered, successful, effective, sent, delivered, read, ..." },
		{ "count(outcome >= 2, 90d) > 1", 18, "outcome compares along its ladder only with a quoted rung",
		  "a rung in quotes, e.g. outcome >= \"answered\"" },
		{ "count(outcome >= channel, 90d) > 1", 18, "outcome compares along its ladder only with a quoted rung",
		  NULL },
		{ "top(channel, 90d) = \"fax\"", 21, "unknown value \"fax\" for channel", CHANNELS },
	};

	(void)state;
	refuse_all(b, sizeof(b) / sizeof(b[0]));
}

static void test_errors_types(void **state)
{
	static const struct bad b[] = {
		{ "specialty > 3", 13, "cannot compare specialty (text) with a number", HOW_SPECIALTY },
		{ "3 < specialty", 1, "cannot compare a number with specialty (text)", HOW_SPECIALTY },
		{ "specialty = 3", 13, "cannot compare specialty (text) with a number", HOW_SPECIALTY },
		{ "specialty > \"a\"", 11, "> compares numbers, and specialty is text", HOW_SPECIALTY },
		{ "engagement_score = \"high\"", 20, "cannot compare engagement_score (number) with text",
		  "a number, e.g. engagement_score >= 3 or engagement_score in (1, 2)" },
		{ "consent.wechat = 1", 18, "cannot compare consent.wechat (boolean) with a number",
		  "true or false, e.g. consent.wechat = true, or consent.wechat on its own" },
		{ "consent.wechat >= true", 16, ">= compares numbers, and consent.wechat is a boolean",
		  "true or false, e.g. consent.wechat = true, or consent.wechat on its own" },
		{ "\"a\" < \"b\"", 5, "< compares numbers, not text",
		  "numbers on both sides, or a ladder such as outcome >= \"answered\"" },
		{ "true > false", 6, "> compares numbers, not booleans", NULL },
		{ "count(content = \"x\", 9d) = \"x\"", 28, "cannot compare count(...) (a number) with text",
		  "a number, like the other side" },
		{ "top(channel, 9d) > 3", 20, "cannot compare top(...) (text) with a number", "text, like the other side" },
		{ "hco.city_tier in (3, \"4\")", 22, "cannot compare hco.city_tier (number) with text",
		  "a number, e.g. hco.city_tier >= 3 or hco.city_tier in (1, 2)" },
		{ "title in (\"chief\", title, 3)", 27, "cannot compare title (text) with a number", NULL },
		{ "owner.field != \"R1\"", 13, "owner.field holds several values: compare it with = or in, not !=",
		  "= or in; to exclude a value, not owner.field = \"...\"" },
		{ "owner.inside > \"R1\"", 14, "owner.inside holds several values: compare it with = or in, not >", NULL },
		{ "engagement_score and wechat_engaged", 1, "and needs a condition, but engagement_score is a number",
		  "a condition, e.g. engagement_score >= 10" },
		{ "wechat_engaged or academic_need", 19, "or needs a condition, but academic_need is text",
		  "a condition, e.g. academic_need = \"...\"" },
		{ "not specialty", 5, "not needs a condition, but specialty is text", "a condition, e.g. specialty = \"...\"" },
		{ "not 3", 5, "not needs a condition, but this is a number",
		  "a condition: a comparison, a boolean name, true or false" },
		{ "wechat_engaged and sum(weight, 9d)", 20, "and needs a condition, but sum(...) gives a number", NULL },
		{ "(wechat_engaged) = 1", 20, "cannot compare wechat_engaged (boolean) with a number", NULL },
	};

	(void)state;
	refuse_all(b, sizeof(b) / sizeof(b[0]));
}

/* The error reaches struct mr_err as the API shows it. */
static void test_error_value(void **state)
{
	struct mr_xnode *x = NULL;
	struct mr_xerr xe;
	struct mr_err err;

	(void)state;
	mr_err_clear(&err);
	assert_int_equal(mr_expr_parse("specialy = \"x\"", 14, &R, &arena, &x, &xe, &err), MR_EINVAL);
	assert_string_equal(err.msg, "unknown name 'specialy' (expected a profile name, a tag or a function)");
	assert_int_equal(err.code, MR_EINVAL);
	assert_int_equal(err.column, 1);
	assert_string_equal(err.field, "expr");
	assert_string_equal(err.kind, "invalid_expression");
	assert_string_equal(mr_err_name(err.code), "bad_request");

	/* without check_value every string goes */
	{
		const struct mr_xresolver plain = { resolve, NULL, NULL };
		mr_err_clear(&err);
		assert_int_equal(mr_expr_parse("count(channel = \"fax\", 9d) > 0", 30, &plain, &arena, &x, &xe, &err), 0);
		assert_int_equal(x->op, MR_XO_GT);
	}
}

/* ---- limits: nesting, size, nodes, lists ----------------------------------------------- */

/* n copies of unit, then tail, in a malloc'd string. */
static char *repeat(const char *unit, size_t n, const char *tail)
{
	size_t u = strlen(unit), t = strlen(tail);
	char *s = malloc(u * n + t + 1);

	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		memcpy(s + i * u, unit, u);
	memcpy(s + u * n, tail, t + 1);
	return s;
}

static void test_limits_depth(void **state)
{
	char *s;
	size_t n;

	(void)state;
	/* 64 levels of parentheses are fine, the 65th '(' is refused where it stands */
	s = repeat("(", 64, "true))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))");
	n = strlen(s);
	assert_int_equal(n, 64 + 4 + 64);
	assert_int_equal(parse(s)->op, MR_XO_BOOL);
	free(s);
	s = repeat("(", 65, "true");
	refuse(s, 65, "the expression nests too deeply", "at most 64 levels of parentheses, not and function calls");
	free(s);

	/* the same for not, and for a mix of calls, parentheses and lists */
	s = repeat("not ", 64, "true");
	assert_int_equal(parse(s)->op, MR_XO_NOT);
	free(s);
	s = repeat("not ", 65, "true");
	refuse(s, 257, "the expression nests too deeply", NULL);
	free(s);
	s = repeat("(", 63, "count(channel in (\"visit\"), 9d))");
	refuse(s, 81, "the expression nests too deeply", NULL); /* the list's '(' is level 65 */
	free(s);

	/* 60 KiB of '(' stops at the 65th; 1 MB of anything stops at the size cap first */
	s = repeat("(", 60 * 1024, "");
	refuse(s, 65, "the expression nests too deeply", NULL);
	free(s);
	s = repeat("(", 1 << 20, "");
	refuse(s, MR_EXPR_MAX_BYTES + 1, "the expression is too long (1048576 bytes)", "at most 65536 bytes");
	free(s);
	s = repeat("not ", 1 << 18, "true");
	refuse(s, MR_EXPR_MAX_BYTES + 1, "the expression is too long (1048580 bytes)", NULL);
	free(s);
	s = repeat("不", 1 << 18, ""); /* 3 bytes each: the column counts characters */
	refuse(s, 21846, "the expression is too long (786432 bytes)", NULL);
	free(s);
}

static void test_limits_size(void **state)
{
	char *s;

	(void)state;
	/* exactly MR_EXPR_MAX_BYTES is fine, one more byte is not */
	s = repeat(" ", MR_EXPR_MAX_BYTES - 4, "true");
	assert_int_equal(strlen(s), MR_EXPR_MAX_BYTES);
	assert_int_equal(parse(s)->col, MR_EXPR_MAX_BYTES - 3);
	free(s);
	s = repeat(" ", MR_EXPR_MAX_BYTES - 3, "true");
	refuse(s, MR_EXPR_MAX_BYTES + 1, "the expression is too long (65537 bytes)", NULL);
	free(s);
}

static void test_limits_nodes_and_lists(void **state)
{
	char *s;
	size_t n;

	(void)state;
	/* 4095 values and the or over them: 4096 nodes; one value more is one node too many */
	s = repeat("true or ", 4094, "true");
	assert_int_equal(parse(s)->n, 4095);
	free(s);
	s = repeat("true or ", 4095, "true");
	refuse(s, 1, "the expression has too many parts", "at most 4096 names, values, operators and calls");
	free(s);
	s = repeat("engagement_score > 1 or ", 1400, "true"); /* runs out among the comparisons */
	refuse(s, 24 * 1365 + 20, "the expression has too many parts", NULL);
	free(s);

	/* 1000 values in a list, not 1001 */
	s = repeat("1, ", 999, "1)");
	{
		char *full = malloc(strlen(s) + 32);
		snprintf(full, strlen(s) + 32, "hco.level in (%s", s);
		assert_int_equal(parse(full)->n, 1001);
		free(full);
	}
	free(s);
	s = repeat("1, ", 1000, "1)");
	n = strlen(s) + 32;
	{
		char *full = malloc(n);
		snprintf(full, n, "hco.level in (%s", s);
		refuse(full, 15 + 3 * 1000, "too many values in the list", "at most 1000 values in one list");
		free(full);
	}
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_example_segment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_example_lists_and_tags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_example_tag_definitions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names_keywords_comments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_strings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_windows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_format_golden, setup, teardown),
		cmocka_unit_test_setup_teardown(test_format_small_buffer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_names_and_structure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_lexical, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_calls_and_windows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_value, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits_depth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits_nodes_and_lists, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
