/*
 * Fuzzes mr_expr_parse and mr_expr_format (src/engine/expr.c), the parser
 * of every tag, segment and rule a user types. Invariants:
 *   - the answer is 0 or MR_EINVAL, and never a crash, a leak or a hang;
 *   - a refusal points inside the text (1 <= column <= characters + 1),
 *     says what went wrong and what was expected, and fills struct mr_err
 *     the way the API reads it;
 *   - an accepted tree keeps the contract of expr.h: every node typed as
 *     its op says, kids counted as documented, filters boolean and in
 *     event scope, windows positive and capped, at most MR_EXPR_MAX_NODES
 *     nodes, columns inside the text;
 *   - its canonical form parses again, to the same type and the same
 *     canonical form (format is a fixed point after one round).
 */
#include <stdint.h>
#include <string.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/str.h"
#include "engine/expr.h"
#include "fuzz.h"

static const struct {
	enum mr_xscope scope;
	const char *name;
	enum mr_xtype type;
	unsigned flags;
} fuzz_names[] = {
	{ MR_XS_PROFILE, "specialty", MR_XT_STR, 0 },
	{ MR_XS_PROFILE, "title", MR_XT_STR, 0 },
	{ MR_XS_PROFILE, "hco.city", MR_XT_STR, 0 },
	{ MR_XS_PROFILE, "hco.city_tier", MR_XT_NUM, 0 },
	{ MR_XS_PROFILE, "owner.field", MR_XT_STR, MR_XN_LIST },
	{ MR_XS_PROFILE, "consent.wechat", MR_XT_BOOL, 0 },
	{ MR_XS_PROFILE, "wechat_engaged", MR_XT_BOOL, 0 },
	{ MR_XS_PROFILE, "tag.wechat_engaged", MR_XT_BOOL, 0 },
	{ MR_XS_PROFILE, "engagement_score", MR_XT_NUM, 0 },
	{ MR_XS_PROFILE, "academic_need", MR_XT_STR, 0 },
	{ MR_XS_EVENT, "channel", MR_XT_STR, MR_XN_CATEGORICAL },
	{ MR_XS_EVENT, "type", MR_XT_STR, MR_XN_CATEGORICAL },
	{ MR_XS_EVENT, "content.topic", MR_XT_STR, MR_XN_CATEGORICAL },
	{ MR_XS_EVENT, "outcome", MR_XT_STR, MR_XN_LADDER | MR_XN_CATEGORICAL },
	{ MR_XS_EVENT, "duration_s", MR_XT_NUM, MR_XN_SUMMABLE },
	{ MR_XS_EVENT, "weight", MR_XT_NUM, MR_XN_SUMMABLE },
};

enum { FUZZ_NNAMES = sizeof(fuzz_names) / sizeof(fuzz_names[0]) };

static int fuzz_resolve(void *arg, enum mr_xscope scope, const char *name, struct mr_xname *out,
			const char **hint)
{
	(void)arg;
	for (int i = 0; i < FUZZ_NNAMES; i++) {
		if (fuzz_names[i].scope == scope && strcmp(fuzz_names[i].name, name) == 0) {
			out->kind = (int)scope;
			out->id = i;
			out->type = fuzz_names[i].type;
			out->flags = fuzz_names[i].flags;
			return 1;
		}
	}
	if (strcmp(name, "channel") == 0)
		*hint = "channel is a field of an event: use it inside count(...), exists(...)";
	return 0;
}

/* Refuses values that start with 'x', so both answers are exercised. */
static int fuzz_check_value(void *arg, const struct mr_xname *n, const char *value, const char **why)
{
	(void)arg;
	FUZZ_CHECK(n->id >= 0 && n->id < FUZZ_NNAMES, "check_value gets a name the resolver gave");
	FUZZ_CHECK(value != NULL, "check_value gets a string");
	if (value[0] == 'x') {
		*why = "a value that does not start with x";
		return -1;
	}
	return 0;
}

static const struct mr_xresolver fuzz_r = { fuzz_resolve, fuzz_check_value, NULL };

static int fuzz_is_call(enum mr_xop op)
{
	return op >= MR_XO_COUNT && op <= MR_XO_DAYS_SINCE;
}

/* Walks x, checking the contract of expr.h; returns the number of nodes. */
static int fuzz_check_tree(const struct mr_xnode *x, enum mr_xscope scope, int chars, int depth)
{
	int nodes = 1;

	FUZZ_CHECK(depth < 4 * MR_EXPR_MAX_DEPTH + 8, "the tree is no deeper than the nesting allows");
	FUZZ_CHECK(x->scope == scope, "a node's scope is where it sits");
	FUZZ_CHECK(x->col >= 1 && x->col <= chars, "a node starts inside the text");
	FUZZ_CHECK(x->n >= 0 && (x->n == 0 || x->kids != NULL), "kids are there when counted");
	switch (x->op) {
	case MR_XO_OR:
	case MR_XO_AND:
		FUZZ_CHECK(x->n >= 2, "and/or have two kids or more");
		break;
	case MR_XO_NOT:
		FUZZ_CHECK(x->n == 1, "not has one kid");
		break;
	case MR_XO_EQ:
	case MR_XO_NE:
	case MR_XO_LT:
	case MR_XO_LE:
	case MR_XO_GT:
	case MR_XO_GE:
		FUZZ_CHECK(x->n == 2, "a comparison has two kids");
		break;
	case MR_XO_IN:
		FUZZ_CHECK(x->n >= 2 && x->n <= MR_EXPR_MAX_IN + 1, "in has a value and a capped list");
		for (int i = 1; i < x->n; i++)
			FUZZ_CHECK(x->kids[i]->type == x->kids[0]->type, "in lists values of its left side's type");
		break;
	case MR_XO_NUM:
	case MR_XO_STR:
	case MR_XO_BOOL:
		FUZZ_CHECK(x->n == 0, "a literal has no kids");
		FUZZ_CHECK(x->op != MR_XO_STR || (x->str && strlen(x->str) == x->len), "a string's len is its length");
		FUZZ_CHECK(x->op != MR_XO_BOOL || x->num == 0 || x->num == 1, "a boolean is 0 or 1");
		break;
	case MR_XO_NAME:
		FUZZ_CHECK(x->n == 0 && x->text && x->text[0], "a name has text and no kids");
		for (const char *c = x->text; *c; c++)
			FUZZ_CHECK(!(*c >= 'A' && *c <= 'Z'), "a name is lower case");
		FUZZ_CHECK(x->type == x->name.type, "a name has the type the resolver gave");
		break;
	default:
		FUZZ_CHECK(fuzz_is_call(x->op), "an op of expr.h");
		FUZZ_CHECK(scope == MR_XS_PROFILE, "an event function sits in profile scope");
		FUZZ_CHECK(x->n >= 1 && x->n <= 2, "an event function has one or two kids");
		if (x->op == MR_XO_DAYS_SINCE)
			FUZZ_CHECK(x->window_s == 0, "days_since has no window");
		else
			FUZZ_CHECK(x->window_s > 0 && x->window_s <= MR_EXPR_MAX_WINDOW_S, "a window is positive and capped");
		if (x->op == MR_XO_SUM || x->op == MR_XO_TOP)
			FUZZ_CHECK(x->kids[0]->op == MR_XO_NAME, "sum and top start with a field");
		if (x->op == MR_XO_SUM)
			FUZZ_CHECK(x->kids[0]->name.flags & MR_XN_SUMMABLE, "sum adds a summable field");
		if (x->op == MR_XO_TOP)
			FUZZ_CHECK(x->kids[0]->name.flags & MR_XN_CATEGORICAL, "top ranks a categorical field");
		for (int i = (x->op == MR_XO_SUM || x->op == MR_XO_TOP); i < x->n; i++)
			FUZZ_CHECK(x->kids[i]->type == MR_XT_BOOL, "a filter is boolean");
		for (int i = 0; i < x->n; i++)
			nodes += fuzz_check_tree(x->kids[i], MR_XS_EVENT, chars, depth + 1);
		return nodes;
	}
	if ((x->op >= MR_XO_OR && x->op <= MR_XO_IN))
		FUZZ_CHECK(x->type == MR_XT_BOOL, "conditions are boolean");
	if (x->op == MR_XO_OR || x->op == MR_XO_AND || x->op == MR_XO_NOT) {
		for (int i = 0; i < x->n; i++)
			FUZZ_CHECK(x->kids[i]->type == MR_XT_BOOL, "and/or/not combine booleans");
	}
	for (int i = 0; i < x->n; i++)
		nodes += fuzz_check_tree(x->kids[i], scope, chars, depth + 1);
	return nodes;
}

static void fuzz_check_refusal(const struct mr_xnode *x, const struct mr_xerr *xe, const struct mr_err *err,
			       size_t chars)
{
	FUZZ_CHECK(x == NULL, "a refusal gives no tree");
	FUZZ_CHECK(xe->col >= 1 && (size_t)xe->col <= chars + 1, "the column is inside the text or just past it");
	FUZZ_CHECK(xe->msg[0] != '\0' && xe->expected[0] != '\0', "a refusal says what and what was expected");
	FUZZ_CHECK(mr_utf8_check(xe->msg, strlen(xe->msg)) == 0, "the message is UTF-8");
	FUZZ_CHECK(mr_utf8_check(xe->expected, strlen(xe->expected)) == 0, "the expectation is UTF-8");
	FUZZ_CHECK(err->code == MR_EINVAL && err->column == xe->col, "err carries the code and column");
	FUZZ_CHECK(strcmp(err->field, "expr") == 0 && err->kind && strcmp(err->kind, "invalid_expression") == 0,
		   "err names the field and the kind");
}

/* Formats x, parses that again and checks it formats the same; returns nothing, aborts when not. */
static void fuzz_check_round_trip(const struct mr_xnode *x, struct mr_arena *a)
{
	static char once[4 * MR_EXPR_MAX_BYTES], twice[4 * MR_EXPR_MAX_BYTES];
	struct mr_xnode *y = NULL;
	struct mr_xerr xe;
	struct mr_err err;
	size_t n;

	mr_expr_format(x, once, sizeof(once));
	n = strlen(once);
	FUZZ_CHECK(n + 1 < sizeof(once), "the canonical form fits four times the input cap");
	FUZZ_CHECK(mr_utf8_check(once, n) == 0, "the canonical form is UTF-8");
	if (n > MR_EXPR_MAX_BYTES)
		return; /* spaces around operators can push a text near the cap past it */
	mr_err_clear(&err);
	if (mr_expr_parse(once, n, &fuzz_r, a, &y, &xe, &err) != 0) {
		fprintf(stderr, "canonical: %s\nrefused at %d: %s (expected %s)\n", once, xe.col, xe.msg, xe.expected);
		FUZZ_CHECK(0, "the canonical form parses");
	}
	FUZZ_CHECK(y->type == x->type, "the canonical form has the same type");
	mr_expr_format(y, twice, sizeof(twice));
	if (strcmp(once, twice) != 0)
		fprintf(stderr, "once:  %s\ntwice: %s\n", once, twice);
	FUZZ_CHECK(strcmp(once, twice) == 0, "format is a fixed point after one round");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *src = fuzz_cstr(data, size);
	struct mr_arena a;
	struct mr_xnode *x = NULL;
	struct mr_xerr xe;
	struct mr_err err;
	size_t chars = mr_utf8_len(src, size);
	int rc;

	mr_arena_init(&a);
	mr_err_clear(&err);
	rc = mr_expr_parse(src, size, &fuzz_r, &a, &x, &xe, &err);
	FUZZ_CHECK(rc == 0 || rc == MR_EINVAL, "the result is 0 or MR_EINVAL");
	if (rc) {
		fuzz_check_refusal(x, &xe, &err, chars);
	} else {
		FUZZ_CHECK(x != NULL && xe.col == 0 && xe.msg[0] == '\0', "an acceptance gives a tree and no error");
		FUZZ_CHECK(fuzz_check_tree(x, MR_XS_PROFILE, (int)chars, 0) <= MR_EXPR_MAX_NODES,
			   "at most MR_EXPR_MAX_NODES nodes");
		fuzz_check_round_trip(x, &a);
	}
	mr_arena_release(&a);
	free(src);
	return 0;
}
