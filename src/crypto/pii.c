/*
 * Sealing, blind indexing and masking of personal data (see pii.h). The
 * blind index hashes kind and app with the value, so the same digits as a
 * phone and as a licence number never share an index entry.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "base/str.h"
#include "crypto/pii.h"

void mr_pii_seal(const struct mr_keys *k, const char *plain, size_t n, unsigned char *out)
{
	randombytes_buf(out, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(out + crypto_secretbox_NONCEBYTES, (const unsigned char *)plain, n,
			      out, k->pii);
}

int mr_pii_open(const struct mr_keys *k, const unsigned char *sealed, size_t n, char *out,
		size_t cap, struct mr_err *err)
{
	size_t plain;

	if (n < MR_PII_OVERHEAD || n - MR_PII_OVERHEAD >= cap)
		return mr_err_set(err, MR_EINTERNAL, "a sealed value has an impossible length (%zu)", n);
	plain = n - MR_PII_OVERHEAD;
	if (crypto_secretbox_open_easy((unsigned char *)out, sealed + crypto_secretbox_NONCEBYTES,
				       n - crypto_secretbox_NONCEBYTES, sealed, k->pii) != 0)
		return mr_err_set(err, MR_EINTERNAL,
				  "a sealed value does not open: wrong key file or a changed row");
	out[plain] = '\0';
	return 0;
}

void mr_pii_bidx(const struct mr_keys *k, const char *kind, const char *app, const char *value,
		 unsigned char out[MR_PII_BIDX])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, k->index, sizeof(k->index), MR_PII_BIDX);
	crypto_generichash_update(&st, (const unsigned char *)kind, strlen(kind) + 1);
	crypto_generichash_update(&st, (const unsigned char *)app, strlen(app) + 1);
	crypto_generichash_update(&st, (const unsigned char *)value, strlen(value));
	crypto_generichash_final(&st, out, MR_PII_BIDX);
}

/* Keeps the first head and last tail bytes of s (ASCII), stars between. */
static void mr_pii_mask_ends(const char *s, size_t head, size_t tail, char out[MR_PII_MASK_MAX])
{
	size_t n = strlen(s);

	if (n <= head + tail) {
		snprintf(out, MR_PII_MASK_MAX, "%.*s****", (int)(n > 1 ? 1 : n), s);
		return;
	}
	snprintf(out, MR_PII_MASK_MAX, "%.*s****%s", (int)head, s, s + n - tail);
}

void mr_pii_mask(const char *kind, const char *value, char out[MR_PII_MASK_MAX])
{
	const char *at;

	if (strcmp(kind, "phone") == 0) {
		/* a mainland number is shown as people write it: 138****1234 */
		if (strncmp(value, "+86", 3) == 0)
			value += 3;
		mr_pii_mask_ends(value, 3, 4, out);
	} else if (strcmp(kind, "email") == 0 && (at = strchr(value, '@')) != NULL) {
		snprintf(out, MR_PII_MASK_MAX, "%.1s***%.*s", value, MR_PII_MASK_MAX - 8, at);
	} else if (strcmp(kind, "license_no") == 0) {
		mr_pii_mask_ends(value, 4, 3, out);
	} else {
		mr_pii_mask_ends(value, 4, 4, out);
	}
	if (mr_utf8_check(out, strlen(out)) != 0)
		snprintf(out, MR_PII_MASK_MAX, "****");
}
