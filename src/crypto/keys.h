/*
 * The key file and the keys derived from it. One 256-bit master key lives
 * in MEDREACH_KEY_FILE (64 hex digits, mode 0600, created on first start);
 * every purpose gets its own subkey through libsodium's KDF, so the audit
 * chain's MAC key, the PII encryption key and the blind-index key never
 * coincide.
 */
#ifndef MR_CRYPTO_KEYS_H
#define MR_CRYPTO_KEYS_H

#include "base/err.h"

enum { MR_KEY_BYTES = 32 };

struct mr_keys {
	unsigned char audit[MR_KEY_BYTES]; /* MAC key of the audit hash chain */
	unsigned char pii[MR_KEY_BYTES];   /* secretbox key for personal data at rest */
	unsigned char index[MR_KEY_BYTES]; /* keyed hash for blind indexes over encrypted values */
};

/* Calls sodium_init once; MR_EINTERNAL when libsodium cannot start. */
int mr_crypto_init(struct mr_err *err);
/*
 * Reads the master key at path, or creates it (0600) when create is set and
 * the file does not exist, and derives the subkeys into *out.
 */
int mr_keys_load(const char *path, int create, struct mr_keys *out, struct mr_err *err);
/* Wipes the keys from memory. */
void mr_keys_wipe(struct mr_keys *k);

#endif
