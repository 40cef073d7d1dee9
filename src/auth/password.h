/*
 * Passwords: argon2id through libsodium's crypto_pwhash_str (the salt and
 * cost live inside the stored string), a minimal policy, and generation of
 * strong one-time passwords for new accounts.
 */
#ifndef MR_AUTH_PASSWORD_H
#define MR_AUTH_PASSWORD_H

#include <stddef.h>

#include "base/err.h"

enum { MR_PASSWORD_HASH_MAX = 128, MR_PASSWORD_MIN = 10, MR_PASSWORD_MAX = 1024 };

/* Checks the policy: MR_PASSWORD_MIN..MR_PASSWORD_MAX bytes, not one repeated character. */
int mr_password_policy(const char *pw, struct mr_err *err);
/* Hashes pw with argon2id into out (MR_PASSWORD_HASH_MAX bytes). */
int mr_password_hash(const char *pw, char *out, struct mr_err *err);
/* 1 when pw matches the stored hash, else 0. */
int mr_password_verify(const char *hash, const char *pw);
/* Spends the same effort as a verify, for logins that do not exist. */
void mr_password_verify_dummy(const char *pw);
/* Writes a random password of n-1 unambiguous characters into out. */
void mr_password_generate(char *out, size_t n);

#endif
