/*
 * The expression language of tags, segments and rule conditions (see
 * expr.h, docs/expressions.md): a hand-written lexer and a recursive-descent
 * parser that resolves and type-checks every node as it builds it, so a
 * tree handed back is one the evaluator can run without checking again.
 *
 * Written by hand because the errors are the product: marketing people type
 * these, and each mistake must come back with its column (in characters,
 * so Chinese text before it counts once per character) and what would have
 * fitted there. A column is a character offset into the whole text, line
 * breaks included, so a multi-line definition needs no second coordinate.
 *
 * Recursion is bounded before it happens: the parser recurses only through
 * '(', `in (`, `not` and calls, and each of those checks p->depth against
 * MR_EXPR_MAX_DEPTH first (a run of `not`s is read in a loop). The input is
 * capped at MR_EXPR_MAX_BYTES and the tree at MR_EXPR_MAX_NODES, so
 * mr_expr_format's recursion over a tree is bounded as well.
 */
#include "engine/expr.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"

/* ---- tokens ---------------------------------------------------------------------------- */

enum mr_xtk {
	TK_END,
	TK_NUM,
	TK_WINDOW,
	TK_STR,
	TK_NAME,
	TK_AND,
	TK_OR,
	TK_NOT,
	TK_IN,
	TK_TRUE,
	TK_FALSE,
	TK_LPAREN,
	TK_RPAREN,
	TK_COMMA,
	TK_EQ,
	TK_NE,
	TK_LT,
	TK_LE,
	TK_GT,
	TK_GE,
};

struct mr_xtok {
	enum mr_xtk kind;
	size_t pos;     /* first byte in the source */
	size_t len;     /* bytes in the source */
	int col;        /* 1-based column of the first character */
	double num;     /* NUM: the value; WINDOW: the count of units */
	int64_t unit_s; /* WINDOW: seconds in one unit (d, h, w) */
	char *text;     /* NAME: lower case; STR: unescaped; NUL-terminated, in the arena */
	size_t tlen;    /* bytes of text */
};

static const struct {
	const char *word;
	enum mr_xtk kind;
} mr_xkeywords[] = {
	{ "and", TK_AND }, { "or", TK_OR },     { "not", TK_NOT },
	{ "in", TK_IN },   { "true", TK_TRUE }, { "false", TK_FALSE },
};

/*
 * Punctuation, longest first. A row with `instead` is a common slip (a C
 * operator, a single quote, the full-width forms a Chinese input method
 * types) refused with what to write instead.
 */
static const struct {
	const char *text;
	enum mr_xtk kind;
	const char *instead;
} mr_xpunct[] = {
	{ "!=", TK_NE, NULL },
	{ "<=", TK_LE, NULL },
	{ ">=", TK_GE, NULL },
	{ "==", TK_END, "'=' (one equals sign compares)" },
	{ "<>", TK_END, "'!='" },
	{ "&&", TK_END, "and" },
	{ "||", TK_END, "or" },
	{ "=", TK_EQ, NULL },
	{ "<", TK_LT, NULL },
	{ ">", TK_GT, NULL },
	{ "(", TK_LPAREN, NULL },
	{ ")", TK_RPAREN, NULL },
	{ ",", TK_COMMA, NULL },
	{ "!", TK_END, "'!=' or not" },
	{ "'", TK_END, "a string in double quotes, e.g. \"cardiology\"" },
	{ "\xe2\x80\x9c", TK_END, "a straight double quote '\"'" }, /* “ */
	{ "\xe2\x80\x9d", TK_END, "a straight double quote '\"'" }, /* ” */
	{ "\xef\xbc\x88", TK_END, "'(' (the ASCII parenthesis)" },  /* （ */
	{ "\xef\xbc\x89", TK_END, "')' (the ASCII parenthesis)" },  /* ） */
	{ "\xef\xbc\x8c", TK_END, "',' (the ASCII comma)" },        /* ， */
	{ "\xef\xbc\x9d", TK_END, "'=' (the ASCII equals sign)" },  /* ＝ */
};

/* ---- the event functions, as a table --------------------------------------------------- */

struct mr_xfn {
	const char *name;
	enum mr_xop op;
	enum mr_xtype type; /* what it gives */
	int min, max;       /* arguments */
	int field;          /* the first argument is an event field */
	unsigned need;      /* flags that field must have */
	int window;         /* the last argument is a window */
	const char *sig;    /* the usage an arity error shows */
	const char *field_verb;
	const char *field_expected;
};

static const struct mr_xfn mr_xfns[] = {
	{ "count", MR_XO_COUNT, MR_XT_NUM, 2, 2, 0, 0, 1,
	  "count(filter, window), e.g. count(channel = \"phone\", 90d)", NULL, NULL },
	{ "exists", MR_XO_EXISTS, MR_XT_BOOL, 2, 2, 0, 0, 1,
	  "exists(filter, window), e.g. exists(channel = \"visit\", 90d)", NULL, NULL },
	{ "sum", MR_XO_SUM, MR_XT_NUM, 2, 3, 1, MR_XN_SUMMABLE, 1,
	  "sum(field, [filter,] window), e.g. sum(weight, 180d)", "add up",
	  "a numeric event field, e.g. weight or duration_s" },
	{ "rate", MR_XO_RATE, MR_XT_NUM, 3, 3, 0, 0, 1,
	  "rate(num_filter, den_filter, window), e.g. rate(outcome >= \"answered\", channel = \"phone\", 90d)",
	  NULL, NULL },
	{ "top", MR_XO_TOP, MR_XT_STR, 2, 3, 1, MR_XN_CATEGORICAL, 1,
	  "top(field, [filter,] window), e.g. top(content.topic, 180d)", "rank",
	  "a categorical event field, e.g. channel, type or content.topic" },
	{ "days_since", MR_XO_DAYS_SINCE, MR_XT_NUM, 1, 1, 0, 0, 0,
	  "days_since(filter), e.g. days_since(channel = \"visit\")", NULL, NULL },
};

enum { MR_XFN_COUNT = sizeof(mr_xfns) / sizeof(mr_xfns[0]) };

static const struct mr_xfn *mr_xfn_by_name(const char *name)
{
	for (int i = 0; i < MR_XFN_COUNT; i++) {
		if (strcmp(mr_xfns[i].name, name) == 0)
			return &mr_xfns[i];
	}
	return NULL;
}

static const struct mr_xfn *mr_xfn_by_op(enum mr_xop op)
{
	for (int i = 0; i < MR_XFN_COUNT; i++) {
		if (mr_xfns[i].op == op)
			return &mr_xfns[i];
	}
	return NULL;
}

/* Units of a window, in seconds, largest first (the formatter picks the largest exact one). */
static const struct {
	char unit;
	int64_t s;
} mr_xunits[] = { { 'w', 7 * 86400 }, { 'd', 86400 }, { 'h', 3600 } };

/* ---- the parser's state ---------------------------------------------------------------- */

struct mr_xparser {
	const char *src;
	size_t len;
	size_t pos;       /* the lexer's next byte */
	int col;          /* its column */
	int end_col;      /* the column just past the last character */
	struct mr_xtok t; /* the current token */
	const struct mr_xresolver *r;
	struct mr_arena *a;
	struct mr_xerr *xe;
	enum mr_xscope scope;
	const struct mr_xfn *fn; /* the event function whose arguments are being read */
	int depth;               /* nesting of '(', not and calls */
	int open;                /* parentheses open now (to tell an extra ')' from a misplaced one) */
	int nodes;
	char msg[256]; /* mr_xmsg's output */
};

/* One argument of an event function before its place is known: a window or an expression. */
struct mr_xarg {
	int col;
	int is_window;
	int64_t window_s;
	struct mr_xnode *x;
};

static const char mr_xexpect_value[] = "a value: a number, a string, true, false, a name or a call";
static const char mr_xexpect_window[] = "a window: a whole number followed by d, h or w (90d, 12h, 2w)";
static const char mr_xexpect_escape[] = "\\\" or \\\\, the only escapes; other characters go in as they are";
static const char mr_xexpect_filter[] = "a condition on one event, e.g. channel = \"phone\"";

/* Formats an error message into p->msg (see mr_xfail); returns it. */
static const char *mr_xmsg(struct mr_xparser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Drops a multi-byte character that snprintf cut in two at the end of s. */
static void mr_xtrim_utf8(char *s)
{
	size_t n = strlen(s);
	size_t start = n;

	while (start > 0 && ((unsigned char)s[start - 1] & 0xc0) == 0x80)
		start--;
	if (start > 0 && (unsigned char)s[start - 1] >= 0xc0) {
		unsigned char lead = (unsigned char)s[start - 1];
		size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
		if (n - (start - 1) < need)
			s[start - 1] = '\0';
	}
}

static const char *mr_xmsg(struct mr_xparser *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->msg, sizeof(p->msg), fmt, ap);
	va_end(ap);
	mr_xtrim_utf8(p->msg);
	return p->msg;
}

/*
 * Records the error at col (the first one only: later ones are what the
 * first one caused) and returns MR_EINVAL. Not variadic, so the static
 * analyser sees that every error path returns non-zero; the message comes
 * formatted from mr_xmsg.
 */
static int mr_xfail(struct mr_xparser *p, int col, const char *expected, const char *msg)
{
	if (p->xe->msg[0])
		return MR_EINVAL;
	p->xe->col = col;
	snprintf(p->xe->msg, sizeof(p->xe->msg), "%s", msg);
	mr_xtrim_utf8(p->xe->msg);
	snprintf(p->xe->expected, sizeof(p->xe->expected), "%s", expected);
	mr_xtrim_utf8(p->xe->expected);
	return MR_EINVAL;
}

/*
 * Copies at most a few dozen bytes of s (valid UTF-8) into buf for an error
 * message, cut at a character boundary and marked with "..." when cut, so
 * a 60 KiB string cannot crowd out the rest of the message.
 */
static const char *mr_xshort(char *buf, size_t size, const char *s, size_t n)
{
	enum { MR_XSHORT = 40 };
	size_t keep = n;

	assert(size > MR_XSHORT + 4);
	if (n > MR_XSHORT) {
		keep = MR_XSHORT;
		while (keep > 0 && ((unsigned char)s[keep] & 0xc0) == 0x80)
			keep--;
	}
	memcpy(buf, s, keep);
	buf[keep] = '\0';
	if (keep < n)
		memcpy(buf + keep, "...", 4);
	return buf;
}

/* ---- the lexer ------------------------------------------------------------------------- */

static int mr_xdigit(char c)
{
	return c >= '0' && c <= '9';
}

static int mr_xident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int mr_xident_char(char c)
{
	return mr_xident_start(c) || mr_xdigit(c);
}

/* Moves the lexer n bytes on, counting characters. */
static void mr_xadvance(struct mr_xparser *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (((unsigned char)p->src[p->pos] & 0xc0) != 0x80)
			p->col++;
		p->pos++;
	}
}

/* Skips spaces, line breaks and `--` comments. */
static void mr_xskip_space(struct mr_xparser *p)
{
	while (p->pos < p->len) {
		char c = p->src[p->pos];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			mr_xadvance(p, 1);
		} else if (c == '-' && p->pos + 1 < p->len && p->src[p->pos + 1] == '-') {
			const char *nl = memchr(p->src + p->pos, '\n', p->len - p->pos);
			mr_xadvance(p, nl ? (size_t)(nl - (p->src + p->pos)) : p->len - p->pos);
		} else {
			break;
		}
	}
}

/* How a character shows in an error: 'x', the character itself, or U+0001 for a control. */
static const char *mr_xshow_char(char *buf, size_t size, const char *s, size_t avail)
{
	unsigned char c = (unsigned char)s[0];

	if (c >= 0x80) {
		size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
		snprintf(buf, size, "'%.*s'", (int)(n < avail ? n : avail), s);
	} else if (c < 0x20 || c == 0x7f) {
		snprintf(buf, size, "U+%04X", c);
	} else {
		snprintf(buf, size, "'%c'", c);
	}
	return buf;
}

/* A string literal: escapes \" and \\ only, no control characters, closed on the same text. */
static int mr_xlex_string(struct mr_xparser *p)
{
	struct mr_xtok *t = &p->t;
	size_t i = p->pos + 1;
	int col = p->col + 1;
	size_t out = 0;
	char show[16];

	while (i < p->len && p->src[i] != '"') {
		unsigned char c = (unsigned char)p->src[i];

		if (c == '\\' && i + 1 < p->len) {
			char nc = p->src[i + 1];
			if (nc != '"' && nc != '\\')
				return mr_xfail(p, col, mr_xexpect_escape,
						mr_xmsg(p, "invalid escape '\\' followed by %s in a string",
							mr_xshow_char(show, sizeof(show), p->src + i + 1, p->len - i - 1)));
			i += 2;
			col += 2;
		} else if (c == '\\') {
			i++; /* a backslash at the very end: the string is not closed */
			continue;
		} else if (c == '\n' || c == '\r') {
			return mr_xfail(p, col, "a closing '\"' before the line ends",
					mr_xmsg(p, "a line break inside a string"));
		} else if (c < 0x20 || c == 0x7f) {
			return mr_xfail(p, col, "printable text inside a string",
					mr_xmsg(p, "a control character (U+%04X) inside a string", c));
		} else {
			if ((c & 0xc0) != 0x80)
				col++;
			i++;
		}
		out++;
	}
	if (i >= p->len)
		return mr_xfail(p, p->end_col, "a closing '\"'",
				mr_xmsg(p, "unterminated string: the '\"' at column %d is never closed", p->col));
	t->kind = TK_STR;
	t->text = mr_arena_alloc(p->a, out + 1);
	t->tlen = 0;
	for (size_t k = p->pos + 1; k < i; k++) {
		if (p->src[k] == '\\')
			k++;
		t->text[t->tlen++] = p->src[k];
	}
	t->text[t->tlen] = '\0';
	mr_xadvance(p, i + 1 - p->pos);
	t->len = p->pos - t->pos;
	return 0;
}

/* The seconds in one unit of a window letter, or 0. */
static int64_t mr_xunit_s(char c)
{
	if (c >= 'A' && c <= 'Z')
		c = (char)(c - 'A' + 'a');
	for (size_t i = 0; i < sizeof(mr_xunits) / sizeof(mr_xunits[0]); i++) {
		if (mr_xunits[i].unit == c)
			return mr_xunits[i].s;
	}
	return 0;
}

/* A number (-?digits(.digits)?), and a window when d, h or w follows it directly. */
static int mr_xlex_number(struct mr_xparser *p)
{
	struct mr_xtok *t = &p->t;
	size_t i = p->pos;
	size_t numlen;
	char show[64];
	char *copy;
	char *end = NULL;

	if (p->src[i] == '-')
		i++;
	while (i < p->len && mr_xdigit(p->src[i]))
		i++;
	if (i < p->len && p->src[i] == '.') {
		if (i + 1 >= p->len || !mr_xdigit(p->src[i + 1]))
			return mr_xfail(p, p->col + (int)(i - p->pos), "digits after the '.', e.g. 0.5",
					mr_xmsg(p, "a number cannot end with '.'"));
		i++;
		while (i < p->len && mr_xdigit(p->src[i]))
			i++;
	}
	numlen = i - p->pos;
	if (i < p->len && mr_xunit_s(p->src[i]) && !(i + 1 < p->len && mr_xident_char(p->src[i + 1]))) {
		t->unit_s = mr_xunit_s(p->src[i]);
		i++;
	}
	if (i < p->len && mr_xident_char(p->src[i])) {
		while (i < p->len && mr_xident_char(p->src[i]))
			i++;
		return mr_xfail(p, p->col, "a number (3, 0.5) or a window (90d, 12h, 2w)",
				mr_xmsg(p, "invalid number '%s'",
					mr_xshort(show, sizeof(show), p->src + p->pos, i - p->pos)));
	}
	copy = mr_arena_strndup(p->a, p->src + p->pos, numlen);
	t->num = strtod(copy, &end);
	if (end != copy + numlen || isinf(t->num))
		return mr_xfail(p, p->col, "a number below 1e308",
				mr_xmsg(p, "the number %s is too large", mr_xshort(show, sizeof(show), copy, numlen)));
	t->kind = t->unit_s ? TK_WINDOW : TK_NUM;
	mr_xadvance(p, i - p->pos);
	t->len = i - t->pos;
	return 0;
}

/* A name (ident("."ident)*, lower-cased) or a keyword. */
static int mr_xlex_name(struct mr_xparser *p)
{
	struct mr_xtok *t = &p->t;
	size_t i = p->pos;
	int dotted = 0;
	char show[64];

	for (;;) {
		while (i < p->len && mr_xident_char(p->src[i]))
			i++;
		if (i >= p->len || p->src[i] != '.')
			break;
		if (i + 1 >= p->len || !mr_xident_start(p->src[i + 1]))
			return mr_xfail(p, p->col + (int)(i + 1 - p->pos), "a name after '.', e.g. hco.city_tier",
					mr_xmsg(p, "incomplete name '%s'",
						mr_xshort(show, sizeof(show), p->src + p->pos, i + 1 - p->pos)));
		dotted = 1;
		i++;
	}
	t->kind = TK_NAME;
	t->text = mr_arena_strndup(p->a, p->src + p->pos, i - p->pos);
	t->tlen = i - p->pos;
	mr_ascii_lower(t->text);
	for (size_t k = 0; !dotted && k < sizeof(mr_xkeywords) / sizeof(mr_xkeywords[0]); k++) {
		if (strcmp(t->text, mr_xkeywords[k].word) == 0)
			t->kind = mr_xkeywords[k].kind;
	}
	mr_xadvance(p, i - p->pos);
	t->len = i - t->pos;
	return 0;
}

/* An operator, a parenthesis or a comma; anything else is an error. */
static int mr_xlex_punct(struct mr_xparser *p)
{
	struct mr_xtok *t = &p->t;
	char show[16];

	for (size_t k = 0; k < sizeof(mr_xpunct) / sizeof(mr_xpunct[0]); k++) {
		size_t n = strlen(mr_xpunct[k].text);

		if (n > p->len - p->pos || memcmp(p->src + p->pos, mr_xpunct[k].text, n) != 0)
			continue;
		if (mr_xpunct[k].instead && mr_xpunct[k].text[0] == '\'')
			return mr_xfail(p, p->col, mr_xpunct[k].instead, mr_xmsg(p, "unexpected \"'\""));
		if (mr_xpunct[k].instead)
			return mr_xfail(p, p->col, mr_xpunct[k].instead,
					mr_xmsg(p, "unexpected '%s'", mr_xpunct[k].text));
		t->kind = mr_xpunct[k].kind;
		mr_xadvance(p, n);
		t->len = n;
		return 0;
	}
	return mr_xfail(p, p->col, "a value, an operator, a parenthesis or a comma",
			mr_xmsg(p, "unexpected character %s",
				mr_xshow_char(show, sizeof(show), p->src + p->pos, p->len - p->pos)));
}

/* Reads the next token into p->t. */
static int mr_xlex(struct mr_xparser *p)
{
	struct mr_xtok *t = &p->t;
	char c;

	mr_xskip_space(p);
	memset(t, 0, sizeof(*t));
	t->pos = p->pos;
	t->col = p->col;
	if (p->pos >= p->len) {
		t->kind = TK_END;
		return 0;
	}
	c = p->src[p->pos];
	if (c == '"')
		return mr_xlex_string(p);
	if (mr_xdigit(c) || (c == '-' && p->pos + 1 < p->len && mr_xdigit(p->src[p->pos + 1])))
		return mr_xlex_number(p);
	if (mr_xident_start(c))
		return mr_xlex_name(p);
	return mr_xlex_punct(p);
}

/* 1 when the next non-space character is '(' (after a name: a call). */
static int mr_xnext_is_lparen(struct mr_xparser *p)
{
	size_t pos = p->pos;
	int col = p->col;
	int yes;

	mr_xskip_space(p);
	yes = p->pos < p->len && p->src[p->pos] == '(';
	p->pos = pos;
	p->col = col;
	return yes;
}

/* How the current token shows in "unexpected ...". */
static const char *mr_xtok_show(struct mr_xparser *p, char *buf, size_t size)
{
	char s[64];

	if (p->t.kind == TK_END)
		return "end of the expression";
	mr_xshort(s, sizeof(s), p->src + p->t.pos, p->t.len);
	if (p->t.kind == TK_STR || p->t.kind == TK_NUM || p->t.kind == TK_WINDOW)
		snprintf(buf, size, "%s", s);
	else
		snprintf(buf, size, "'%s'", s);
	return buf;
}

/* The error for a token that does not fit where it is. */
static int mr_xunexpected(struct mr_xparser *p, const char *expected)
{
	char show[80];

	return mr_xfail(p, p->t.col, expected,
			mr_xmsg(p, "unexpected %s", mr_xtok_show(p, show, sizeof(show))));
}

/* The error for the end of the text where ')' should close the '(' at open_col. */
static int mr_xunclosed(struct mr_xparser *p, int open_col, const char *expected)
{
	return mr_xfail(p, p->t.col, expected,
			mr_xmsg(p, "unbalanced parenthesis: the '(' at column %d is never closed", open_col));
}

/* ---- nodes and their descriptions ------------------------------------------------------ */

/* A new node in the arena, or NULL (the error recorded) past MR_EXPR_MAX_NODES. */
static struct mr_xnode *mr_xnode_new(struct mr_xparser *p, enum mr_xop op, enum mr_xtype type, int col)
{
	struct mr_xnode *x;

	if (p->nodes >= MR_EXPR_MAX_NODES) {
		mr_xfail(p, col, "at most 4096 names, values, operators and calls",
			 mr_xmsg(p, "the expression has too many parts"));
		return NULL;
	}
	p->nodes++;
	x = mr_arena_alloc(p->a, sizeof(*x));
	memset(x, 0, sizeof(*x));
	x->op = op;
	x->type = type;
	x->scope = p->scope;
	x->col = col;
	return x;
}

/* A growable array of node pointers in the arena (doubling, so at most twice the final size). */
struct mr_xvec {
	struct mr_xnode **v;
	int n, cap;
};

/* An array of n kid pointers in the arena. */
static struct mr_xnode **mr_xkids(struct mr_xparser *p, int n)
{
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, so a pointer's size */
	return mr_arena_alloc(p->a, (size_t)n * sizeof(struct mr_xnode *));
}

static void mr_xvec_push(struct mr_xparser *p, struct mr_xvec *v, struct mr_xnode *x)
{
	if (v->n == v->cap) {
		int cap = v->cap ? v->cap * 2 : 4;
		struct mr_xnode **grown = mr_xkids(p, cap);
		for (int i = 0; i < v->n; i++)
			grown[i] = v->v[i];
		v->v = grown;
		v->cap = cap;
	}
	v->v[v->n++] = x;
}

/* "a number", "text", "a boolean": a type inside a sentence. */
static const char *mr_xtype_phrase(enum mr_xtype t)
{
	switch (t) {
	case MR_XT_BOOL:
		return "a boolean";
	case MR_XT_NUM:
		return "a number";
	case MR_XT_STR:
		return "text";
	case MR_XT_NONE:
		break;
	}
	return "nothing";
}

static int mr_xis_call(const struct mr_xnode *x)
{
	return x->op >= MR_XO_COUNT && x->op <= MR_XO_DAYS_SINCE;
}

/* "specialty (text)", "count(...) (a number)", "a number": one side of a comparison. */
static const char *mr_xdescribe(const struct mr_xnode *x, char *buf, size_t size)
{
	if (x->op == MR_XO_NAME)
		snprintf(buf, size, "%s (%s)", x->text, mr_xtype_name(x->type));
	else if (mr_xis_call(x))
		snprintf(buf, size, "%s(...) (%s)", mr_xfn_by_op(x->op)->name, mr_xtype_phrase(x->type));
	else if (x->op >= MR_XO_OR && x->op <= MR_XO_IN)
		snprintf(buf, size, "a condition");
	else
		snprintf(buf, size, "%s", mr_xtype_phrase(x->type));
	return buf;
}

/* What a value of a name's type looks like in a comparison, for "expected". */
static const char *mr_xhow(const struct mr_xnode *name, char *buf, size_t size)
{
	const char *t = name->text;

	switch (name->type) {
	case MR_XT_STR:
		snprintf(buf, size, "text, e.g. %s = \"...\" or %s in (\"...\", \"...\")", t, t);
		break;
	case MR_XT_NUM:
		snprintf(buf, size, "a number, e.g. %s >= 3 or %s in (1, 2)", t, t);
		break;
	default:
		snprintf(buf, size, "true or false, e.g. %s = true, or %s on its own", t, t);
		break;
	}
	return buf;
}

/* The name node a comparison side stands for: the name itself, or the field top() ranks. */
static const struct mr_xnode *mr_xnamed(const struct mr_xnode *x)
{
	if (x->op == MR_XO_NAME)
		return x;
	if (x->op == MR_XO_TOP)
		return x->kids[0];
	return NULL;
}

/* Checks a string literal against the name it is compared with, when the resolver can. */
static int mr_xcheck_value(struct mr_xparser *p, const struct mr_xnode *name, const struct mr_xnode *lit)
{
	const char *why = NULL;
	char show[64];

	if (!name || lit->op != MR_XO_STR || !p->r->check_value)
		return 0;
	if (p->r->check_value(p->r->arg, &name->name, lit->str, &why) == 0)
		return 0;
	return mr_xfail(p, lit->col, why ? why : "a value it can take",
			mr_xmsg(p, "unknown value \"%s\" for %s",
				mr_xshort(show, sizeof(show), lit->str, lit->len), name->text));
}

/* Refuses a non-boolean operand of and, or, not, or a filter. */
static int mr_xneed_bool(struct mr_xparser *p, const struct mr_xnode *x, const char *who)
{
	char what[160];
	char how[160];

	if (x->type == MR_XT_BOOL)
		return 0;
	if (x->op == MR_XO_NAME)
		snprintf(what, sizeof(what), "%s is %s", x->text, mr_xtype_phrase(x->type));
	else if (mr_xis_call(x))
		snprintf(what, sizeof(what), "%s(...) gives %s", mr_xfn_by_op(x->op)->name,
			 mr_xtype_phrase(x->type));
	else
		snprintf(what, sizeof(what), "this is %s", mr_xtype_phrase(x->type));
	if (x->op == MR_XO_NAME && x->type == MR_XT_NUM)
		snprintf(how, sizeof(how), "a condition, e.g. %s >= 10", x->text);
	else if (x->op == MR_XO_NAME)
		snprintf(how, sizeof(how), "a condition, e.g. %s = \"...\"", x->text);
	else
		snprintf(how, sizeof(how), "a condition: a comparison, a boolean name, true or false");
	return mr_xfail(p, x->col, how, mr_xmsg(p, "%s needs a condition, but %s", who, what));
}

/* ---- type rules of comparisons --------------------------------------------------------- */

static const char *const mr_xop_text[] = {
	[MR_XO_EQ] = "=",  [MR_XO_NE] = "!=", [MR_XO_LT] = "<",
	[MR_XO_LE] = "<=", [MR_XO_GT] = ">",  [MR_XO_GE] = ">=",
};

/* Sides of different types: the error points at the side that is not the name. */
static int mr_xmismatch(struct mr_xparser *p, const struct mr_xnode *l, const struct mr_xnode *r)
{
	const struct mr_xnode *name = l->op == MR_XO_NAME ? l : r->op == MR_XO_NAME ? r : NULL;
	const struct mr_xnode *at = name == r ? l : r;
	char dl[160], dr[160], how[200];

	if (name)
		mr_xhow(name, how, sizeof(how));
	else
		snprintf(how, sizeof(how), "%s, like the other side", mr_xtype_phrase(l->type));
	return mr_xfail(p, at->col, how,
			mr_xmsg(p, "cannot compare %s with %s", mr_xdescribe(l, dl, sizeof(dl)),
				mr_xdescribe(r, dr, sizeof(dr))));
}

/* <, <=, >, >=: numbers, or a ladder name with a quoted rung. */
static int mr_xcheck_order(struct mr_xparser *p, enum mr_xop op, const struct mr_xnode *l,
			   const struct mr_xnode *r, int opcol)
{
	const struct mr_xnode *ladder = NULL;
	const struct mr_xnode *name = l->op == MR_XO_NAME ? l : r->op == MR_XO_NAME ? r : NULL;
	char how[200];

	if (l->op == MR_XO_NAME && (l->name.flags & MR_XN_LADDER))
		ladder = l;
	else if (r->op == MR_XO_NAME && (r->name.flags & MR_XN_LADDER))
		ladder = r;
	if (ladder) {
		const struct mr_xnode *other = ladder == l ? r : l;
		if (other->op == MR_XO_STR)
			return mr_xcheck_value(p, ladder, other);
		snprintf(how, sizeof(how), "a rung in quotes, e.g. %s >= \"answered\"", ladder->text);
		return mr_xfail(p, other->col, how,
				mr_xmsg(p, "%s compares along its ladder only with a quoted rung", ladder->text));
	}
	if (l->type == MR_XT_NUM && r->type == MR_XT_NUM)
		return 0;
	if (l->type != r->type)
		return mr_xmismatch(p, l, r);
	if (name)
		return mr_xfail(p, opcol, mr_xhow(name, how, sizeof(how)),
				mr_xmsg(p, "%s compares numbers, and %s is %s", mr_xop_text[op], name->text,
					mr_xtype_phrase(name->type)));
	return mr_xfail(p, opcol, "numbers on both sides, or a ladder such as outcome >= \"answered\"",
			mr_xmsg(p, "%s compares numbers, not %s", mr_xop_text[op], l->type == MR_XT_STR ? "text" : "booleans"));
}

/* The type rules of l op r (op one of EQ ... GE). */
static int mr_xcheck_cmp(struct mr_xparser *p, enum mr_xop op, const struct mr_xnode *l,
			 const struct mr_xnode *r, int opcol)
{
	const struct mr_xnode *list = NULL;

	if (l->op == MR_XO_NAME && (l->name.flags & MR_XN_LIST))
		list = l;
	else if (r->op == MR_XO_NAME && (r->name.flags & MR_XN_LIST))
		list = r;
	if (list && op != MR_XO_EQ) {
		char how[200];
		snprintf(how, sizeof(how), "= or in; to exclude a value, not %s = \"...\"", list->text);
		return mr_xfail(p, opcol, how,
				mr_xmsg(p, "%s holds several values: compare it with = or in, not %s",
					list->text, mr_xop_text[op]));
	}
	if (op != MR_XO_EQ && op != MR_XO_NE)
		return mr_xcheck_order(p, op, l, r, opcol);
	if (l->type != r->type)
		return mr_xmismatch(p, l, r);
	if (mr_xcheck_value(p, mr_xnamed(l), r) < 0)
		return MR_EINVAL;
	return mr_xcheck_value(p, mr_xnamed(r), l);
}

/* ---- the grammar ----------------------------------------------------------------------- */

static int mr_xparse_or(struct mr_xparser *p, struct mr_xnode **out);

/* One more level of nesting (a '(', a not, a call), refused past MR_EXPR_MAX_DEPTH. */
static int mr_xenter(struct mr_xparser *p, int col)
{
	if (p->depth >= MR_EXPR_MAX_DEPTH)
		return mr_xfail(p, col, "at most 64 levels of parentheses, not and function calls",
				mr_xmsg(p, "the expression nests too deeply"));
	p->depth++;
	return 0;
}

/* Reads past the '(' that is the current token: one level deeper, one parenthesis open. */
static int mr_xopen(struct mr_xparser *p)
{
	int rc = mr_xenter(p, p->t.col);

	if (rc)
		return rc;
	p->open++;
	return mr_xlex(p);
}

/* Reads past the ')' that is the current token, closing what mr_xopen opened. */
static int mr_xclose(struct mr_xparser *p)
{
	assert(p->t.kind == TK_RPAREN && p->open > 0 && p->depth > 0);
	p->open--;
	p->depth--;
	return mr_xlex(p);
}

/* A window argument: a whole, positive number of units, at most MR_EXPR_MAX_WINDOW_S. */
static int mr_xwindow(struct mr_xparser *p, struct mr_xarg *arg)
{
	const struct mr_xtok *t = &p->t;
	char show[64];

	mr_xshort(show, sizeof(show), p->src + t->pos, t->len);
	if (!(t->num > 0))
		return mr_xfail(p, t->col, mr_xexpect_window,
				mr_xmsg(p, "the window must be positive: %s", show));
	if (t->num != floor(t->num))
		return mr_xfail(p, t->col, mr_xexpect_window,
				mr_xmsg(p, "the window must be a whole number: %s", show));
	if (t->num * (double)t->unit_s > (double)MR_EXPR_MAX_WINDOW_S)
		return mr_xfail(p, t->col, "a window of at most 3660 days (3660d, 522w, 87840h)",
				mr_xmsg(p, "the window %s is too long", show));
	arg->is_window = 1;
	arg->window_s = (int64_t)t->num * t->unit_s;
	return mr_xlex(p);
}

/* Room for one more argument in *args (doubling in the arena). */
static struct mr_xarg *mr_xarg_add(struct mr_xparser *p, struct mr_xarg **args, int *n, int *cap)
{
	struct mr_xarg *arg;

	if (*n == *cap) {
		struct mr_xarg *grown;
		*cap = *cap ? *cap * 2 : 4;
		grown = mr_arena_alloc(p->a, (size_t)*cap * sizeof(*grown));
		if (*n)
			memcpy(grown, *args, (size_t)*n * sizeof(*grown));
		*args = grown;
	}
	arg = &(*args)[(*n)++];
	memset(arg, 0, sizeof(*arg));
	arg->col = p->t.col;
	return arg;
}

/*
 * Reads the arguments of a call from the token after its '(' up to its
 * ')' (left as the current token). Where each goes is decided after: a
 * window token is a window, anything else an expression in event scope.
 */
static int mr_xparse_args(struct mr_xparser *p, int open_col, struct mr_xarg **args, int *n)
{
	int cap = 0;
	int rc;

	*n = 0;
	*args = NULL;
	if (p->t.kind == TK_RPAREN)
		return 0;
	for (;;) {
		struct mr_xarg *arg = mr_xarg_add(p, args, n, &cap);

		if (p->t.kind == TK_WINDOW)
			rc = mr_xwindow(p, arg);
		else
			rc = mr_xparse_or(p, &arg->x);
		if (rc)
			return rc;
		if (p->t.kind == TK_RPAREN)
			return 0;
		if (p->t.kind == TK_END)
			return mr_xunclosed(p, open_col, "',' or ')'");
		if (p->t.kind != TK_COMMA)
			return mr_xunexpected(p, "',' or ')'");
		rc = mr_xlex(p);
		if (rc)
			return rc;
	}
}

/* Checks one argument against what its place in f's signature wants. */
static int mr_xcheck_arg(struct mr_xparser *p, const struct mr_xfn *f, int i, int n, const struct mr_xarg *arg)
{
	if (f->window && i == n - 1) {
		if (arg->is_window)
			return 0;
		if (arg->x->op == MR_XO_NUM)
			return mr_xfail(p, arg->col, mr_xexpect_window,
					mr_xmsg(p, "the window needs a unit: d, h or w"));
		return mr_xfail(p, arg->col, mr_xexpect_window,
				mr_xmsg(p, "the last argument of %s must be a window", f->name));
	}
	if (f->field && i == 0) {
		if (arg->is_window || arg->x->op != MR_XO_NAME)
			return mr_xfail(p, arg->col, f->field_expected,
					mr_xmsg(p, "the first argument of %s must be an event field", f->name));
		if ((arg->x->name.flags & f->need) != f->need)
			return mr_xfail(p, arg->col, f->field_expected,
					mr_xmsg(p, "%s cannot %s '%s'", f->name, f->field_verb, arg->x->text));
		return 0;
	}
	if (arg->is_window)
		return mr_xfail(p, arg->col, mr_xexpect_filter,
				mr_xmsg(p,
					"a window can only be the last argument of %s; here it needs a filter",
					f->name));
	if (arg->x->type != MR_XT_BOOL) {
		char who[64];
		snprintf(who, sizeof(who), "the filter of %s", f->name);
		return mr_xneed_bool(p, arg->x, who);
	}
	return 0;
}

/* The error for a call with the wrong number of arguments: at the first extra one, or at ')'. */
static int mr_xarity(struct mr_xparser *p, const struct mr_xfn *f, const struct mr_xarg *args, int n,
		     int close_col)
{
	char takes[32];
	int col = close_col;

	if (n > f->max) {
		assert(args != NULL);
		col = args[f->max].col;
	}
	if (f->min == f->max)
		snprintf(takes, sizeof(takes), "%d argument%s", f->min, f->min == 1 ? "" : "s");
	else
		snprintf(takes, sizeof(takes), "%d or %d arguments", f->min, f->max);
	return mr_xfail(p, col, f->sig, mr_xmsg(p, "%s takes %s, got %d", f->name, takes, n));
}

/* Checks the arguments of f against its signature and builds its node (windows go to window_s). */
static int mr_xcall_node(struct mr_xparser *p, const struct mr_xfn *f, int col, const struct mr_xarg *args,
			 int n, int close_col, struct mr_xnode **out)
{
	struct mr_xnode *x;

	if (n < f->min || n > f->max)
		return mr_xarity(p, f, args, n, close_col);
	for (int i = 0; i < n; i++) {
		int rc = mr_xcheck_arg(p, f, i, n, &args[i]);
		if (rc)
			return rc;
	}
	x = mr_xnode_new(p, f->op, f->type, col);
	if (!x)
		return MR_EINVAL;
	x->kids = mr_xkids(p, n);
	for (int i = 0; i < n; i++) {
		if (args[i].is_window)
			x->window_s = args[i].window_s;
		else
			x->kids[x->n++] = args[i].x;
	}
	*out = x;
	return 0;
}

/* An event function: the current token is its name, and '(' comes next. */
static int mr_xparse_call(struct mr_xparser *p, struct mr_xnode **out)
{
	const struct mr_xfn *f = mr_xfn_by_name(p->t.text);
	int col = p->t.col;
	struct mr_xarg *args;
	int n, open_col, close_col, rc;
	char show[64];

	if (!f)
		return mr_xfail(p, col, "one of count, exists, sum, rate, top, days_since",
				mr_xmsg(p, "unknown function '%s'", mr_xshort(show, sizeof(show), p->t.text, p->t.tlen)));
	if (p->scope == MR_XS_EVENT)
		return mr_xfail(p, col, mr_xexpect_filter,
				mr_xmsg(p, "%s cannot be used inside %s(...): a filter describes one event",
					f->name, p->fn->name));
	rc = mr_xlex(p);
	if (rc)
		return rc;
	open_col = p->t.col;
	rc = mr_xopen(p);
	if (rc)
		return rc;
	p->scope = MR_XS_EVENT;
	p->fn = f;
	rc = mr_xparse_args(p, open_col, &args, &n);
	p->scope = MR_XS_PROFILE;
	p->fn = NULL;
	if (rc)
		return rc;
	close_col = p->t.col;
	rc = mr_xclose(p);
	if (rc)
		return rc;
	return mr_xcall_node(p, f, col, args, n, close_col, out);
}

/* A name, resolved in the current scope; the current token is the name. */
static int mr_xparse_name(struct mr_xparser *p, struct mr_xnode **out)
{
	const char *hint = NULL;
	struct mr_xname nm;
	struct mr_xnode *x;
	char show[64];

	memset(&nm, 0, sizeof(nm));
	if (!p->r->resolve(p->r->arg, p->scope, p->t.text, &nm, &hint)) {
		const char *expected = p->scope == MR_XS_PROFILE
					   ? "a profile name, a tag or a function"
					   : "a field of the event, e.g. channel, type or outcome";
		const struct mr_xfn *f = mr_xfn_by_name(p->t.text);
		mr_xshort(show, sizeof(show), p->t.text, p->t.tlen);
		if (hint)
			return mr_xfail(p, p->t.col, expected, mr_xmsg(p, "unknown name '%s'; %s", show, hint));
		if (f) /* a function named without its parentheses */
			return mr_xfail(p, p->t.col, f->sig, mr_xmsg(p, "unknown name '%s'; %s is a function", show, f->name));
		return mr_xfail(p, p->t.col, expected, mr_xmsg(p, "unknown name '%s'", show));
	}
	assert(nm.type == MR_XT_BOOL || nm.type == MR_XT_NUM || nm.type == MR_XT_STR);
	x = mr_xnode_new(p, MR_XO_NAME, nm.type, p->t.col);
	if (!x)
		return MR_EINVAL;
	x->text = p->t.text;
	x->name = nm;
	*out = x;
	return mr_xlex(p);
}

/* "(" expr ")" — the current token is the '('. */
static int mr_xparse_group(struct mr_xparser *p, struct mr_xnode **out)
{
	int open_col = p->t.col;
	int rc = mr_xopen(p);

	if (rc)
		return rc;
	rc = mr_xparse_or(p, out);
	if (rc)
		return rc;
	if (p->t.kind == TK_END)
		return mr_xunclosed(p, open_col, "')'");
	if (p->t.kind != TK_RPAREN)
		return mr_xunexpected(p, "')'");
	return mr_xclose(p);
}

/* A literal: the current token is a number, a string, true or false. */
static int mr_xparse_literal(struct mr_xparser *p, struct mr_xnode **out)
{
	const struct mr_xtok *t = &p->t;
	struct mr_xnode *x;

	if (t->kind == TK_NUM)
		x = mr_xnode_new(p, MR_XO_NUM, MR_XT_NUM, t->col);
	else if (t->kind == TK_STR)
		x = mr_xnode_new(p, MR_XO_STR, MR_XT_STR, t->col);
	else
		x = mr_xnode_new(p, MR_XO_BOOL, MR_XT_BOOL, t->col);
	if (!x)
		return MR_EINVAL;
	if (t->kind == TK_STR) {
		x->str = t->text;
		x->len = t->tlen;
	} else {
		x->num = t->kind == TK_NUM ? t->num : t->kind == TK_TRUE;
	}
	*out = x;
	return mr_xlex(p);
}

/* value := number | string | true | false | name | call | "(" expr ")" */
static int mr_xparse_value(struct mr_xparser *p, struct mr_xnode **out)
{
	char show[64];

	switch (p->t.kind) {
	case TK_NUM:
	case TK_STR:
	case TK_TRUE:
	case TK_FALSE:
		return mr_xparse_literal(p, out);
	case TK_NAME:
		return mr_xnext_is_lparen(p) ? mr_xparse_call(p, out) : mr_xparse_name(p, out);
	case TK_LPAREN:
		return mr_xparse_group(p, out);
	case TK_WINDOW:
		return mr_xfail(p, p->t.col, "a number without d, h or w",
				mr_xmsg(p, "%s is a window, only valid as the last argument of count, exists, sum, rate or top",
					mr_xshort(show, sizeof(show), p->src + p->t.pos, p->t.len)));
	case TK_RPAREN:
		if (p->open == 0)
			return mr_xfail(p, p->t.col, mr_xexpect_value,
					mr_xmsg(p, "unbalanced parenthesis: this ')' has no matching '('"));
		return mr_xunexpected(p, mr_xexpect_value);
	default:
		return mr_xunexpected(p, mr_xexpect_value);
	}
}

/* One value of an in-list, of x's type, appended to v. */
static int mr_xparse_in_value(struct mr_xparser *p, const struct mr_xnode *x, struct mr_xvec *v)
{
	struct mr_xnode *k = NULL;
	int rc;

	if (v->n > MR_EXPR_MAX_IN)
		return mr_xfail(p, p->t.col, "at most 1000 values in one list",
				mr_xmsg(p, "too many values in the list"));
	rc = mr_xparse_value(p, &k);
	if (rc)
		return rc;
	assert(k != NULL); /* a parse function that returns 0 has set *out */
	if (k->type != x->type)
		return mr_xmismatch(p, x, k);
	rc = mr_xcheck_value(p, mr_xnamed(x), k);
	if (rc)
		return rc;
	mr_xvec_push(p, v, k);
	return 0;
}

/* x in (v, ...) — the current token is the 'in'. */
static int mr_xparse_in(struct mr_xparser *p, struct mr_xnode *x, struct mr_xnode **out)
{
	struct mr_xvec v = { 0 };
	struct mr_xnode *in;
	int open_col;
	int rc = mr_xlex(p);

	if (rc)
		return rc;
	if (p->t.kind != TK_LPAREN)
		return mr_xunexpected(p,
				      "'(' and a list of values, e.g. title in (\"chief\", \"assoc_chief\")");
	open_col = p->t.col;
	rc = mr_xopen(p);
	if (rc)
		return rc;
	if (p->t.kind == TK_RPAREN)
		return mr_xfail(p, p->t.col, mr_xexpect_value, mr_xmsg(p, "the list after in is empty"));
	mr_xvec_push(p, &v, x);
	for (;;) {
		rc = mr_xparse_in_value(p, x, &v);
		if (rc)
			return rc;
		if (p->t.kind == TK_RPAREN)
			break;
		if (p->t.kind == TK_END)
			return mr_xunclosed(p, open_col, "',' or ')'");
		if (p->t.kind != TK_COMMA)
			return mr_xunexpected(p, "',' or ')'");
		rc = mr_xlex(p);
		if (rc)
			return rc;
	}
	in = mr_xnode_new(p, MR_XO_IN, MR_XT_BOOL, x->col);
	if (!in)
		return MR_EINVAL;
	in->kids = v.v;
	in->n = v.n;
	*out = in;
	return mr_xclose(p);
}

/* Maps a comparison token to its op, or 0. */
static enum mr_xop mr_xcmp_op(enum mr_xtk kind)
{
	switch (kind) {
	case TK_EQ:
		return MR_XO_EQ;
	case TK_NE:
		return MR_XO_NE;
	case TK_LT:
		return MR_XO_LT;
	case TK_LE:
		return MR_XO_LE;
	case TK_GT:
		return MR_XO_GT;
	case TK_GE:
		return MR_XO_GE;
	default:
		return 0;
	}
}

/* cmp := value [op value | "in" "(" value ("," value)* ")"] */
static int mr_xparse_cmp(struct mr_xparser *p, struct mr_xnode **out)
{
	struct mr_xnode *l = NULL, *r = NULL, *x;
	enum mr_xop op;
	int opcol;
	int rc = mr_xparse_value(p, &l);

	if (rc)
		return rc;
	assert(l != NULL);
	if (p->t.kind == TK_IN)
		return mr_xparse_in(p, l, out);
	op = mr_xcmp_op(p->t.kind);
	if (!op) {
		*out = l;
		return 0;
	}
	opcol = p->t.col;
	rc = mr_xlex(p);
	if (rc)
		return rc;
	rc = mr_xparse_value(p, &r);
	if (rc)
		return rc;
	assert(r != NULL);
	rc = mr_xcheck_cmp(p, op, l, r, opcol);
	if (rc)
		return rc;
	x = mr_xnode_new(p, op, MR_XT_BOOL, l->col);
	if (!x)
		return MR_EINVAL;
	x->kids = mr_xkids(p, 2);
	x->kids[0] = l;
	x->kids[1] = r;
	x->n = 2;
	*out = x;
	return 0;
}

/* not_expr := "not" not_expr | cmp — a run of nots read in a loop, each one a level of depth. */
static int mr_xparse_not(struct mr_xparser *p, struct mr_xnode **out)
{
	int cols[MR_EXPR_MAX_DEPTH];
	int k = 0;
	int rc;

	while (p->t.kind == TK_NOT) {
		rc = mr_xenter(p, p->t.col);
		if (rc)
			return rc;
		cols[k++] = p->t.col;
		rc = mr_xlex(p);
		if (rc)
			return rc;
	}
	rc = mr_xparse_cmp(p, out);
	while (rc == 0 && k > 0) {
		struct mr_xnode *x;

		rc = mr_xneed_bool(p, *out, "not");
		if (rc)
			break;
		x = mr_xnode_new(p, MR_XO_NOT, MR_XT_BOOL, cols[--k]);
		if (!x)
			return MR_EINVAL;
		x->kids = mr_xkids(p, 1);
		x->kids[0] = *out;
		x->n = 1;
		*out = x;
		p->depth--;
	}
	return rc;
}

/* A chain of sub's joined by sep (and, or) into one n-ary node of op. */
static int mr_xparse_chain(struct mr_xparser *p, enum mr_xtk sep, enum mr_xop op, const char *word,
			   int (*sub)(struct mr_xparser *, struct mr_xnode **), struct mr_xnode **out)
{
	struct mr_xvec v = { 0 };
	struct mr_xnode *x;
	int rc = sub(p, &x);

	if (rc)
		return rc;
	if (p->t.kind != sep) {
		*out = x;
		return 0;
	}
	for (;;) {
		rc = mr_xneed_bool(p, x, word);
		if (rc)
			return rc;
		mr_xvec_push(p, &v, x);
		if (p->t.kind != sep)
			break;
		rc = mr_xlex(p);
		if (rc)
			return rc;
		rc = sub(p, &x);
		if (rc)
			return rc;
	}
	x = mr_xnode_new(p, op, MR_XT_BOOL, v.v[0]->col);
	if (!x)
		return MR_EINVAL;
	x->kids = v.v;
	x->n = v.n;
	*out = x;
	return 0;
}

static int mr_xparse_and(struct mr_xparser *p, struct mr_xnode **out)
{
	return mr_xparse_chain(p, TK_AND, MR_XO_AND, "and", mr_xparse_not, out);
}

/* expr := and_expr ("or" and_expr)* */
static int mr_xparse_or(struct mr_xparser *p, struct mr_xnode **out)
{
	return mr_xparse_chain(p, TK_OR, MR_XO_OR, "or", mr_xparse_and, out);
}

/* The whole text: one expression and nothing after it. */
static int mr_xparse_top(struct mr_xparser *p, struct mr_xnode **out)
{
	int rc = mr_xlex(p);

	if (rc)
		return rc;
	if (p->t.kind == TK_END)
		return mr_xfail(p, 1, "an expression, e.g. specialty = \"cardiology\"",
				mr_xmsg(p, "the expression is empty"));
	rc = mr_xparse_or(p, out);
	if (rc)
		return rc;
	if (p->t.kind == TK_RPAREN)
		return mr_xfail(p, p->t.col, "and, or, or the end of the expression",
				mr_xmsg(p, "unbalanced parenthesis: this ')' has no matching '('"));
	if (p->t.kind != TK_END)
		return mr_xfail(p, p->t.col, "and, or, or the end of the expression",
				mr_xmsg(p, "trailing input after the expression"));
	return 0;
}

int mr_expr_parse(const char *src, size_t len, const struct mr_xresolver *r, struct mr_arena *a,
		  struct mr_xnode **out, struct mr_xerr *xe, struct mr_err *err)
{
	struct mr_xparser p;
	size_t bad;
	int rc;

	memset(&p, 0, sizeof(p));
	memset(xe, 0, sizeof(*xe));
	p.src = src;
	p.len = len;
	p.col = 1;
	p.r = r;
	p.a = a;
	p.xe = xe;
	p.scope = MR_XS_PROFILE;
	*out = NULL;
	bad = len > MR_EXPR_MAX_BYTES ? 0 : mr_utf8_check(src, len);
	if (len > MR_EXPR_MAX_BYTES) {
		/* at the character the cap falls in */
		size_t cut = MR_EXPR_MAX_BYTES;
		while (cut > 0 && ((unsigned char)src[cut] & 0xc0) == 0x80)
			cut--;
		rc = mr_xfail(&p, (int)mr_utf8_len(src, cut) + 1, "at most 65536 bytes",
			      mr_xmsg(&p, "the expression is too long (%zu bytes)", len));
	} else if (bad) {
		rc = mr_xfail(&p, (int)mr_utf8_len(src, bad - 1) + 1, "text in UTF-8",
			      mr_xmsg(&p, "invalid UTF-8 (byte 0x%02x)", (unsigned char)src[bad - 1]));
	} else {
		p.end_col = (int)mr_utf8_len(src, len) + 1;
		rc = mr_xparse_top(&p, out);
	}
	if (rc) {
		*out = NULL;
		mr_err_field(err, MR_EINVAL, "expr", "%s (expected %s)", xe->msg, xe->expected);
		err->column = xe->col;
		mr_err_kind(err, "invalid_expression");
	}
	return rc;
}

const char *mr_xtype_name(enum mr_xtype t)
{
	switch (t) {
	case MR_XT_BOOL:
		return "boolean";
	case MR_XT_NUM:
		return "number";
	case MR_XT_STR:
		return "text";
	case MR_XT_NONE:
		break;
	}
	return "none";
}

/* ---- the canonical form ---------------------------------------------------------------- */

/* A bounded writer: what does not fit is dropped, and the text stays NUL-terminated. */
struct mr_xout {
	char *p;
	size_t cap;
	size_t len;
};

static void mr_xput(struct mr_xout *o, const char *s, size_t n)
{
	size_t room = o->len + 1 < o->cap ? o->cap - 1 - o->len : 0;
	size_t k = n < room ? n : room;

	memcpy(o->p + o->len, s, k);
	o->len += k;
	o->p[o->len] = '\0';
}

static void mr_xputs(struct mr_xout *o, const char *s)
{
	mr_xput(o, s, strlen(s));
}

/*
 * A number as plain decimal text (no exponent, which the language does not
 * read) with the fewest digits that read back as the same double.
 */
static void mr_xput_num(struct mr_xout *o, double v)
{
	char e[40];
	char digits[24];
	char plain[400];
	size_t nd = 0, pl = 0;
	int exp;
	char *ep;

	if (v == floor(v) && fabs(v) < 1e15) {
		snprintf(plain, sizeof(plain), "%.0f", v);
		mr_xputs(o, plain);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(e, sizeof(e), "%.*e", prec - 1, v);
		if (strtod(e, NULL) == v)
			break;
	}
	/* e is [-]d[.ddd]e[+-]xx */
	for (ep = e; *ep && *ep != 'e'; ep++) {
		if (mr_xdigit(*ep))
			digits[nd++] = *ep;
	}
	exp = (int)strtol(ep + 1, NULL, 10);
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	if (v < 0)
		plain[pl++] = '-';
	if (exp < 0) {
		plain[pl++] = '0';
		plain[pl++] = '.';
		for (int z = 0; z < -exp - 1; z++)
			plain[pl++] = '0';
		for (size_t i = 0; i < nd; i++)
			plain[pl++] = digits[i];
	} else {
		for (int i = 0; i <= exp || i < (int)nd; i++) {
			if (i == exp + 1)
				plain[pl++] = '.';
			plain[pl++] = '0';
			if (i < (int)nd)
				plain[pl - 1] = digits[i];
		}
	}
	mr_xput(o, plain, pl);
}

static void mr_xput_str(struct mr_xout *o, const char *s, size_t n)
{
	mr_xputs(o, "\"");
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			mr_xputs(o, "\\");
		mr_xput(o, s + i, 1);
	}
	mr_xputs(o, "\"");
}

static void mr_xput_window(struct mr_xout *o, int64_t s)
{
	char w[32];

	for (size_t i = 0; i < sizeof(mr_xunits) / sizeof(mr_xunits[0]); i++) {
		if (s % mr_xunits[i].s == 0) {
			snprintf(w, sizeof(w), "%lld%c", (long long)(s / mr_xunits[i].s), mr_xunits[i].unit);
			mr_xputs(o, w);
			return;
		}
	}
	snprintf(w, sizeof(w), "%llds?", (long long)s); /* not a whole hour: no parser makes one */
	mr_xputs(o, w);
}

/* Binding strength: or 1, and 2, not 3, comparisons 4, values and calls 5. */
static int mr_xprec(enum mr_xop op)
{
	if (op == MR_XO_OR)
		return 1;
	if (op == MR_XO_AND)
		return 2;
	if (op == MR_XO_NOT)
		return 3;
	if (op >= MR_XO_EQ && op <= MR_XO_IN)
		return 4;
	return 5;
}

static void mr_xput_node(struct mr_xout *o, const struct mr_xnode *x, int min);

static void mr_xput_kids(struct mr_xout *o, const struct mr_xnode *x, int from, const char *sep, int min)
{
	for (int i = from; i < x->n; i++) {
		if (i > from)
			mr_xputs(o, sep);
		mr_xput_node(o, x->kids[i], min);
	}
}

/* Writes x, in parentheses when it binds less tightly than its place needs (min). */
static void mr_xput_node(struct mr_xout *o, const struct mr_xnode *x, int min)
{
	int paren = mr_xprec(x->op) < min;

	if (paren)
		mr_xputs(o, "(");
	switch (x->op) {
	case MR_XO_OR:
		mr_xput_kids(o, x, 0, " or ", 2);
		break;
	case MR_XO_AND:
		mr_xput_kids(o, x, 0, " and ", 3);
		break;
	case MR_XO_NOT:
		mr_xputs(o, "not ");
		mr_xput_node(o, x->kids[0], 3);
		break;
	case MR_XO_EQ:
	case MR_XO_NE:
	case MR_XO_LT:
	case MR_XO_LE:
	case MR_XO_GT:
	case MR_XO_GE:
		mr_xput_node(o, x->kids[0], 5);
		mr_xputs(o, " ");
		mr_xputs(o, mr_xop_text[x->op]);
		mr_xputs(o, " ");
		mr_xput_node(o, x->kids[1], 5);
		break;
	case MR_XO_IN:
		mr_xput_node(o, x->kids[0], 5);
		mr_xputs(o, " in (");
		mr_xput_kids(o, x, 1, ", ", 5);
		mr_xputs(o, ")");
		break;
	case MR_XO_NUM:
		mr_xput_num(o, x->num);
		break;
	case MR_XO_STR:
		mr_xput_str(o, x->str, x->len);
		break;
	case MR_XO_BOOL:
		mr_xputs(o, x->num != 0 ? "true" : "false");
		break;
	case MR_XO_NAME:
		mr_xputs(o, x->text);
		break;
	default:
		mr_xputs(o, mr_xfn_by_op(x->op)->name);
		mr_xputs(o, "(");
		mr_xput_kids(o, x, 0, ", ", 1);
		if (x->op != MR_XO_DAYS_SINCE) {
			mr_xputs(o, ", ");
			mr_xput_window(o, x->window_s);
		}
		mr_xputs(o, ")");
		break;
	}
	if (paren)
		mr_xputs(o, ")");
}

char *mr_expr_format(const struct mr_xnode *x, char *buf, size_t n)
{
	struct mr_xout o = { buf, n, 0 };

	if (n == 0)
		return buf;
	buf[0] = '\0';
	mr_xput_node(&o, x, 1);
	if (o.len == n - 1)
		mr_xtrim_utf8(buf); /* it may have been cut inside a character */
	return buf;
}
