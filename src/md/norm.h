/*
 * Normal forms of master-data values, so that equal things compare equal:
 * phones in E.164, emails lower-case, licence numbers and channel ids
 * checked for shape, and the search keys of a name (the name itself, its
 * pinyin without spaces or tones, and its initials), derived with ICU's
 * Han-Latin transliteration when no pinyin is given.
 */
#ifndef MR_MD_NORM_H
#define MR_MD_NORM_H

#include <stddef.h>

#include "base/err.h"

enum { MR_NORM_MAX = 256 };

/*
 * Normalises a phone number to E.164 into out: a mainland mobile
 * (13812345678, 138-1234-5678, +86 138 1234 5678, 0086...) becomes
 * +8613812345678; a landline with its area code (010-12345678) drops the
 * trunk 0. MR_EINVAL (field named) when it is not a phone number.
 */
int mr_norm_phone(const char *in, char out[MR_NORM_MAX], const char *field, struct mr_err *err);
/* Lower-cases and checks an email address. */
int mr_norm_email(const char *in, char out[MR_NORM_MAX], const char *field, struct mr_err *err);
/* A physician licence number (医师执业证书编码): 15 digits, spaces dropped. */
int mr_norm_license(const char *in, char out[MR_NORM_MAX], const char *field, struct mr_err *err);
/*
 * Any identity value by kind: phone, email and license_no as above; the
 * WeChat / WeCom / meeting ids are trimmed and checked for their charset.
 * MR_EINVAL for an unknown kind.
 */
int mr_norm_identity(const char *kind, const char *in, char out[MR_NORM_MAX], const char *field,
		     struct mr_err *err);
/* 1 when kind names an identity kind (wechat_unionid, phone, ...). */
int mr_norm_identity_kind(const char *kind);

/* The search keys of a person's or organisation's name. */
struct mr_name_keys {
	char name[MR_NORM_MAX];     /* trimmed, inner spaces collapsed, ASCII lower-cased */
	char pinyin[MR_NORM_MAX];   /* the pinyin as shown: given, or transliterated ("wang jian guo") */
	char pinyin_key[MR_NORM_MAX]; /* lower-case ASCII letters only: "wangjianguo" */
	char initials[64];          /* first letter of each syllable or word: "wjg" */
};

/* Derives keys for name; pinyin may be NULL or "" to transliterate the name. */
void mr_name_keys(const char *name, const char *pinyin, struct mr_name_keys *out);
/* Normalises a search query the way mr_name_keys normalises names (lower-case, trimmed). */
void mr_norm_query(const char *q, char out[MR_NORM_MAX]);
/* The key that follows every key starting with prefix (for a range scan); "" when none. */
void mr_norm_prefix_end(const char *prefix, char out[MR_NORM_MAX + 1]);

#endif
