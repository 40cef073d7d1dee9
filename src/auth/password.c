/*
 * See password.h. The cost is libsodium's "interactive" argon2id setting
 * (about 64 MiB and tens of milliseconds), the recommendation for logins.
 */
#include "auth/password.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>

_Static_assert(MR_PASSWORD_HASH_MAX >= crypto_pwhash_STRBYTES,
	       "MR_PASSWORD_HASH_MAX is smaller than crypto_pwhash_STRBYTES");

int mr_password_policy(const char *pw, struct mr_err *err)
{
	size_t n = strlen(pw);
	int same = 1;

	if (n < MR_PASSWORD_MIN)
		return mr_err_field(err, MR_EINVAL, "password",
				    "the password is too short: at least %d characters", MR_PASSWORD_MIN);
	if (n > MR_PASSWORD_MAX)
		return mr_err_field(err, MR_ETOOBIG, "password",
				    "the password is too long: at most %d bytes", MR_PASSWORD_MAX);
	for (size_t i = 1; i < n; i++) {
		if (pw[i] != pw[0])
			same = 0;
	}
	if (same)
		return mr_err_field(err, MR_EINVAL, "password",
				    "the password repeats one character; choose another");
	return 0;
}

int mr_password_hash(const char *pw, char *out, struct mr_err *err)
{
	if (crypto_pwhash_str_alg(out, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
				  crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return mr_err_set(err, MR_EINTERNAL, "hashing the password ran out of memory");
	return 0;
}

int mr_password_verify(const char *hash, const char *pw)
{
	return crypto_pwhash_str_verify(hash, pw, strlen(pw)) == 0;
}

static char mr_dummy_hash[crypto_pwhash_STRBYTES];
static pthread_once_t mr_dummy_once = PTHREAD_ONCE_INIT;

static void mr_dummy_init(void)
{
	char pw[24];

	mr_password_generate(pw, sizeof(pw));
	if (crypto_pwhash_str_alg(mr_dummy_hash, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
				  crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0)
		mr_dummy_hash[0] = '\0';
}

void mr_password_verify_dummy(const char *pw)
{
	pthread_once(&mr_dummy_once, mr_dummy_init);
	if (mr_dummy_hash[0] && crypto_pwhash_str_verify(mr_dummy_hash, pw, strlen(pw)) == 0)
		return; /* cannot match a random password; the work is the point */
}

void mr_password_generate(char *out, size_t n)
{
	static const char alphabet[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

	for (size_t i = 0; i + 1 < n; i++)
		out[i] = alphabet[randombytes_uniform(sizeof(alphabet) - 1)];
	if (n)
		out[n - 1] = '\0';
}
