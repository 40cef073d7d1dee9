/*
 * See keys.h. The file is created with O_EXCL so two processes starting at
 * once cannot both write a key; a key file readable by others is refused,
 * because whoever reads it can decrypt every doctor's personal data.
 */
#include "crypto/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int mr_crypto_init(struct mr_err *err)
{
	if (sodium_init() < 0)
		return mr_err_set(err, MR_EINTERNAL, "libsodium failed to initialise");
	return 0;
}

static int mr_keys_create(const char *path, unsigned char *master, struct mr_err *err)
{
	char hex[MR_KEY_BYTES * 2 + 2];
	int fd;
	ssize_t n;

	randombytes_buf(master, MR_KEY_BYTES);
	sodium_bin2hex(hex, sizeof(hex), master, MR_KEY_BYTES);
	hex[MR_KEY_BYTES * 2] = '\n';
	hex[MR_KEY_BYTES * 2 + 1] = '\0';
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return mr_err_set(err, MR_EIO, "cannot create key file '%s': %s", path, strerror(errno));
	n = write(fd, hex, strlen(hex));
	if (n != (ssize_t)strlen(hex) || fsync(fd) < 0) {
		close(fd);
		unlink(path);
		return mr_err_set(err, MR_EIO, "cannot write key file '%s'", path);
	}
	close(fd);
	sodium_memzero(hex, sizeof(hex));
	return 0;
}

static int mr_keys_read(const char *path, unsigned char *master, struct mr_err *err)
{
	char hex[MR_KEY_BYTES * 2 + 16];
	struct stat st;
	size_t bin_len = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return mr_err_set(err, errno == ENOENT ? MR_ENOTFOUND : MR_EIO,
				  "cannot read key file '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) == 0 && (st.st_mode & 0077)) {
		close(fd);
		return mr_err_set(err, MR_EFORBIDDEN,
				  "key file '%s' is readable by other users (mode %03o); run chmod 600 on it",
				  path, (unsigned)(st.st_mode & 0777));
	}
	n = read(fd, hex, sizeof(hex) - 1);
	close(fd);
	if (n < MR_KEY_BYTES * 2)
		return mr_err_set(err, MR_EINVAL, "key file '%s' is too short: 64 hex digits expected", path);
	hex[n] = '\0';
	if (sodium_hex2bin(master, MR_KEY_BYTES, hex, (size_t)n, " \r\n", &bin_len, NULL) != 0 ||
	    bin_len != MR_KEY_BYTES) {
		sodium_memzero(hex, sizeof(hex));
		return mr_err_set(err, MR_EINVAL, "key file '%s' does not hold 64 hex digits", path);
	}
	sodium_memzero(hex, sizeof(hex));
	return 0;
}

int mr_keys_load(const char *path, int create, struct mr_keys *out, struct mr_err *err)
{
	unsigned char master[MR_KEY_BYTES];
	int rc = mr_keys_read(path, master, err);

	if (rc == MR_ENOTFOUND && create) {
		rc = mr_keys_create(path, master, err);
		if (rc == MR_EIO && errno == EEXIST)
			rc = mr_keys_read(path, master, err);
	}
	if (rc < 0)
		return rc;
	crypto_kdf_derive_from_key(out->audit, MR_KEY_BYTES, 1, "mraudit_", master);
	crypto_kdf_derive_from_key(out->pii, MR_KEY_BYTES, 2, "mrpii___", master);
	crypto_kdf_derive_from_key(out->index, MR_KEY_BYTES, 3, "mrindex_", master);
	sodium_memzero(master, sizeof(master));
	return 0;
}

void mr_keys_wipe(struct mr_keys *k)
{
	sodium_memzero(k, sizeof(*k));
}
