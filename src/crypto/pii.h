/*
 * Personal data at rest: each value is sealed on its own with libsodium's
 * secretbox (XSalsa20-Poly1305, a random nonce per value) under the PII
 * subkey, and found again through a blind index: a keyed BLAKE2b of the
 * normalised value, so an equality lookup needs no decryption and the
 * database alone reveals nothing. Masking decides what a response shows
 * to a role that may not see the value.
 */
#ifndef MR_CRYPTO_PII_H
#define MR_CRYPTO_PII_H

#include <stddef.h>

#include "base/err.h"
#include "crypto/keys.h"

enum {
	MR_PII_BIDX = 16,     /* bytes of a blind index */
	MR_PII_OVERHEAD = 40, /* nonce and MAC added to each sealed value */
	MR_PII_MAX = 256,     /* longest value sealed (bytes) */
	MR_PII_MASK_MAX = 80, /* longest masked rendering, with its NUL */
};

/* Seals n bytes of plain into out (n + MR_PII_OVERHEAD bytes); n <= MR_PII_MAX. */
void mr_pii_seal(const struct mr_keys *k, const char *plain, size_t n, unsigned char *out);
/*
 * Opens a sealed value into out (NUL-terminated; cap >= MR_PII_MAX + 1).
 * MR_EINTERNAL when it does not authenticate (a wrong key or a changed row).
 */
int mr_pii_open(const struct mr_keys *k, const unsigned char *sealed, size_t n, char *out,
		size_t cap, struct mr_err *err);
/* The blind index of (kind, app, value); value must already be normalised. */
void mr_pii_bidx(const struct mr_keys *k, const char *kind, const char *app, const char *value,
		 unsigned char out[MR_PII_BIDX]);
/* Writes value masked for display: 138****1234, w***@163.com, 1101********123. */
void mr_pii_mask(const char *kind, const char *value, char out[MR_PII_MASK_MAX]);

#endif
