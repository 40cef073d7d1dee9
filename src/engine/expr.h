/*
 * The expression language of tags, segments and rule conditions
 * (docs/expressions.md; ../shared/QUERY-LANGUAGE.md): a parser that turns
 * source text into a typed tree, checking every name, call, argument and
 * type before anything runs, and an error for every mistake that gives the
 * column and what was expected there.
 *
 * What a name means is not known here: the caller passes a resolver that
 * says, for a (lower-cased, dotted) name in a context — the profile of an
 * HCP, or one event inside an event function's filter — what it is (the
 * resolver's own kind and id) and its type. The evaluator (engine/eval.c)
 * reads those back. Literal values of some names can be checked too (an
 * outcome that is on no ladder, a channel that does not exist).
 *
 * The tree lives in the caller's arena. Parsing is iterative where input
 * can nest deeply: nesting beyond MR_EXPR_MAX_DEPTH, input beyond
 * MR_EXPR_MAX_BYTES or more than MR_EXPR_MAX_NODES nodes is an error, not
 * a crash.
 */
#ifndef MR_ENGINE_EXPR_H
#define MR_ENGINE_EXPR_H

#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/err.h"

enum {
	MR_EXPR_MAX_BYTES = 64 * 1024,
	MR_EXPR_MAX_DEPTH = 64,
	MR_EXPR_MAX_NODES = 4096,
	MR_EXPR_MAX_IN = 1000,           /* values in one `in (...)` list */
	MR_EXPR_MAX_WINDOW_S = 3660 * 86400, /* ten years and a bit */
};

/* The type of a value. Any value may also be null (an unknown attribute, rate() over nothing). */
enum mr_xtype {
	MR_XT_NONE = 0,
	MR_XT_BOOL,
	MR_XT_NUM,
	MR_XT_STR,
};

/* Where a name is looked up. */
enum mr_xscope {
	MR_XS_PROFILE,  /* the HCP: attributes, hco.*, tags, consent.*, owner.* */
	MR_XS_EVENT,    /* one event, inside an event function's filter or as its field */
};

/* What a name can do, beyond its type (flags of struct mr_xname). */
enum {
	MR_XN_LADDER = 1,       /* a string compared along an order (<, >=, ...): outcome */
	MR_XN_SUMMABLE = 2,     /* a numeric event field sum() can add: weight, duration_s */
	MR_XN_CATEGORICAL = 4,  /* an event field top() can rank: channel, type, content, ... */
	MR_XN_LIST = 8,         /* a profile name with several values (owner.field): = and in
				   match when any value does */
};

/* What the resolver says a name is. kind and id are the resolver's own, opaque here. */
struct mr_xname {
	int kind;
	int id;
	enum mr_xtype type;
	unsigned flags;
};

struct mr_xresolver {
	/*
	 * name (lower case; "hco.city_tier", "tag.kol", "content.topic") in
	 * scope: 1 and *out filled when known; 0 when unknown (then *hint may
	 * get a short text the error shows, e.g. "channel is a field of an
	 * event: use it inside count(...)", valid until the next call).
	 */
	int (*resolve)(void *arg, enum mr_xscope scope, const char *name, struct mr_xname *out,
		       const char **hint);
	/*
	 * Optional: whether the string literal value may be compared with the
	 * name n (e.g. "responded" with outcome). 0: fine; -1: not, and *why
	 * (valid until the next call) says what would be, e.g. "an outcome:
	 * no_answer, answered, successful, effective, sent, ...".
	 */
	int (*check_value)(void *arg, const struct mr_xname *n, const char *value, const char **why);
	void *arg;
};

enum mr_xop {
	/* boolean */
	MR_XO_OR = 1,        /* kids[0] or kids[1] or ... (n >= 2) */
	MR_XO_AND,           /* n >= 2 */
	MR_XO_NOT,           /* kids[0] */
	/* comparisons: kids[0] op kids[1] */
	MR_XO_EQ,
	MR_XO_NE,
	MR_XO_LT,
	MR_XO_LE,
	MR_XO_GT,
	MR_XO_GE,
	MR_XO_IN,            /* kids[0] in (kids[1], ..., kids[n-1]) */
	/* values */
	MR_XO_NUM,           /* num */
	MR_XO_STR,           /* str */
	MR_XO_BOOL,          /* num: 0 or 1 */
	MR_XO_NAME,          /* name, in scope */
	/*
	 * Event functions, over the events of the window_s seconds up to as_of
	 * (days_since: all of them). The filter, when there is one, is a
	 * boolean tree in MR_XS_EVENT scope; a field is a MR_XO_NAME in it.
	 *   COUNT, EXISTS, DAYS_SINCE: kids[0] = filter
	 *   SUM, TOP: kids[0] = field, kids[1] = filter (n = 2) or none (n = 1)
	 *   RATE: kids[0] = numerator filter, kids[1] = denominator filter
	 */
	MR_XO_COUNT,
	MR_XO_EXISTS,
	MR_XO_SUM,
	MR_XO_RATE,
	MR_XO_TOP,
	MR_XO_DAYS_SINCE,
};

struct mr_xnode {
	enum mr_xop op;
	enum mr_xtype type;     /* the node's value type, checked */
	enum mr_xscope scope;   /* where it is evaluated */
	int col;                /* 1-based column (in characters) where it starts */
	int n;                  /* number of kids */
	struct mr_xnode **kids;
	double num;             /* NUM, BOOL */
	const char *str;        /* STR: the unescaped value, NUL-terminated */
	size_t len;             /* STR: its length in bytes */
	const char *text;       /* NAME: the name as resolved (lower case) */
	struct mr_xname name;   /* NAME */
	int64_t window_s;       /* event functions other than DAYS_SINCE: the window, > 0 */
};

/* Where an expression went wrong. */
struct mr_xerr {
	int col;                /* 1-based column, in characters; the end + 1 for "unexpected end" */
	char msg[256];          /* e.g. "unknown name 'specialy'" */
	char expected[256];     /* e.g. "a value: a number, a string, true, false, a name or a call" */
};

/*
 * Parses and type-checks src (len bytes, UTF-8) into *out (nodes in a).
 * Returns 0, or MR_EINVAL with *xe filled (and err: the message, with
 * detail {"column", "expected"}). The result may be of any type; a caller
 * that needs a boolean (a segment, a rule) checks out->type.
 */
int mr_expr_parse(const char *src, size_t len, const struct mr_xresolver *r, struct mr_arena *a,
		  struct mr_xnode **out, struct mr_xerr *xe, struct mr_err *err);

/* The name of a type as errors and the API show it: "boolean", "number", "text". */
const char *mr_xtype_name(enum mr_xtype t);

/* Writes a normalised form of the tree (for tests and the API's "canonical"); returns buf. */
char *mr_expr_format(const struct mr_xnode *x, char *buf, size_t n);

#endif
