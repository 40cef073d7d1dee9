/*
 * The WeCom callback protocol (see wecom.h): signature, AES-256-CBC with
 * WeCom's 32-byte PKCS#7 padding, the framed plaintext, the two XML layers
 * and the mapping to events. Cryptography is OpenSSL's libcrypto (EVP),
 * base64 and constant-time helpers are libsodium's, XML is libexpat with
 * every DOCTYPE refused, so no entity can be declared, let alone expanded.
 *
 * Both XML layers are read by one table-driven parser: a table names the
 * child elements of <xml> to keep and where each goes in a target struct;
 * everything else is skipped. Key material and decrypted plaintext are
 * wiped before their memory is released.
 */
#include "channels/wecom.h"

#include <expat.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"

enum {
	MR_WECOM_AES_BYTES = 32, /* AES-256 key; its first 16 bytes are the IV */
	MR_WECOM_RANDOM = 16,    /* random prefix of the plaintext */
	MR_WECOM_HEAD = 20,      /* random prefix and the 4-byte msg_len */
	MR_WECOM_BLOCK = 32,     /* WeCom's PKCS#7 block size */
	MR_WECOM_AES_BLOCK = 16, /* the cipher's block size */
	MR_WECOM_XML_DEPTH = 16, /* deepest element nesting accepted */
	MR_WECOM_NUM_MAX = 24,   /* bytes of a number's text, with its NUL */
};

/* The largest CreateTime accepted: 9999-12-31T23:59:59Z. */
#define MR_WECOM_TIME_MAX INT64_C(253402300799)

/* ---- configuration and key ---- */

/*
 * Decodes the EncodingAESKey. WeCom draws all 43 characters at random, so
 * the last one usually carries two bits beyond the 32 bytes, which WeCom's
 * own libraries ignore; libsodium (rightly, for base64 in general) refuses
 * such non-canonical input, so those two bits are cleared first.
 */
static int mr_wecom_key(const char *aes_key, unsigned char key[MR_WECOM_AES_BYTES], struct mr_err *err)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char text[MR_WECOM_KEY_LEN];
	const char *last;
	size_t n = 0;
	int rc = 0;

	if (!aes_key || strnlen(aes_key, MR_WECOM_KEY_LEN + 1) != MR_WECOM_KEY_LEN)
		return mr_err_field(err, MR_EINVAL, "aes_key",
				    "the EncodingAESKey must be exactly %d characters, as the WeCom admin console"
				    " shows it", MR_WECOM_KEY_LEN);
	memcpy(text, aes_key, sizeof(text));
	last = strchr(alphabet, text[MR_WECOM_KEY_LEN - 1]);
	if (last)
		text[MR_WECOM_KEY_LEN - 1] = alphabet[(last - alphabet) & ~3];
	if (sodium_base642bin(key, MR_WECOM_AES_BYTES, text, sizeof(text), NULL, &n, NULL,
			      sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0 || n != MR_WECOM_AES_BYTES)
		rc = mr_err_field(err, MR_EINVAL, "aes_key",
				  "the EncodingAESKey is not base64 for 32 bytes: copy it again from the WeCom"
				  " admin console");
	sodium_memzero(text, sizeof(text));
	return rc;
}

/* Checks cfg and decodes its key into key, which the caller wipes. */
static int mr_wecom_prepare(const struct mr_wecom_cfg *cfg, unsigned char key[MR_WECOM_AES_BYTES],
			    struct mr_err *err)
{
	if (!cfg->token || !*cfg->token)
		return mr_err_field(err, MR_EINVAL, "token", "the WeCom callback Token is empty");
	if (!cfg->corp_id || !*cfg->corp_id)
		return mr_err_field(err, MR_EINVAL, "corp_id",
				    "the WeCom corp id (the receive id of the callbacks) is empty");
	return mr_wecom_key(cfg->aes_key, key, err);
}

int mr_wecom_cfg_check(const struct mr_wecom_cfg *cfg, struct mr_err *err)
{
	unsigned char key[MR_WECOM_AES_BYTES];
	int rc = mr_wecom_prepare(cfg, key, err);

	sodium_memzero(key, sizeof(key));
	return rc;
}

/* ---- signature ---- */

static int mr_wecom_strcmp(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

void mr_wecom_sign(const char *token, const char *timestamp, const char *nonce, const char *encrypt,
		   char out[MR_WECOM_SIG_HEX + 1])
{
	const char *parts[4] = { token, timestamp, nonce, encrypt };
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1;

	out[0] = '\0';
	qsort(parts, 4, sizeof(parts[0]), mr_wecom_strcmp); /* strcmp orders bytes as unsigned */
	for (int i = 0; ok && i < 4; i++)
		ok = EVP_DigestUpdate(ctx, parts[i], strlen(parts[i])) == 1;
	if (ok && EVP_DigestFinal_ex(ctx, md, &len) == 1 && len == MR_WECOM_SIG_HEX / 2)
		sodium_bin2hex(out, MR_WECOM_SIG_HEX + 1, md, len);
	EVP_MD_CTX_free(ctx);
}

/* Checks msg_signature over encrypt in constant time; MR_EAUTH when it is missing or wrong. */
static int mr_wecom_check_sig(const struct mr_wecom_cfg *cfg, const char *sig, const char *timestamp,
			      const char *nonce, const char *encrypt, struct mr_err *err)
{
	char want[MR_WECOM_SIG_HEX + 1];
	char got[MR_WECOM_SIG_HEX + 1];

	if (!sig || !*sig)
		return mr_err_field(err, MR_EAUTH, "msg_signature", "the msg_signature is missing");
	if (!timestamp || !nonce)
		return mr_err_field(err, MR_EINVAL, !timestamp ? "timestamp" : "nonce",
				    "the query parameters timestamp and nonce are required");
	if (strnlen(sig, MR_WECOM_SIG_HEX + 1) != MR_WECOM_SIG_HEX)
		return mr_err_field(err, MR_EAUTH, "msg_signature", "the msg_signature does not match");
	memcpy(got, sig, sizeof(got));
	mr_ascii_lower(got);
	mr_wecom_sign(cfg->token, timestamp, nonce, encrypt, want);
	if (strlen(want) != MR_WECOM_SIG_HEX || CRYPTO_memcmp(want, got, MR_WECOM_SIG_HEX) != 0)
		return mr_err_field(err, MR_EAUTH, "msg_signature", "the msg_signature does not match");
	return 0;
}

/* ---- encryption ---- */

/* AES-256-CBC over n bytes (a multiple of 16), no padding added or removed; out holds n bytes. */
static int mr_wecom_aes(const unsigned char key[MR_WECOM_AES_BYTES], int enc, const unsigned char *in,
			size_t n, unsigned char *out, struct mr_err *err)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int len = 0, fin = 0;
	int ok = ctx && n <= INT_MAX &&
		 EVP_CipherInit_ex(ctx, EVP_aes_256_cbc(), NULL, key, key, enc) == 1 &&
		 EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
		 EVP_CipherUpdate(ctx, out, &len, in, (int)n) == 1 &&
		 EVP_CipherFinal_ex(ctx, out + len, &fin) == 1 && (size_t)len + (size_t)fin == n;

	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : mr_err_set(err, MR_EINTERNAL, "AES-256-CBC failed in libcrypto");
}

/* Frames msg for encryption: random(16) + msg_len + msg + corp_id + padding to 32 bytes. */
static unsigned char *mr_wecom_pack(const char *msg, size_t mlen, const char *corp_id, size_t *n)
{
	size_t idlen = strlen(corp_id);
	size_t body = MR_WECOM_HEAD + mlen + idlen;
	size_t pad = MR_WECOM_BLOCK - body % MR_WECOM_BLOCK;
	unsigned char *p = mr_malloc(body + pad);

	randombytes_buf(p, MR_WECOM_RANDOM);
	p[16] = (unsigned char)(mlen >> 24);
	p[17] = (unsigned char)(mlen >> 16);
	p[18] = (unsigned char)(mlen >> 8);
	p[19] = (unsigned char)mlen;
	memcpy(p + MR_WECOM_HEAD, msg, mlen);
	/* NOLINTNEXTLINE(bugprone-not-null-terminated-result): a binary frame, not a string */
	memcpy(p + MR_WECOM_HEAD + mlen, corp_id, idlen);
	memset(p + body, (int)pad, pad);
	*n = body + pad;
	return p;
}

/* Checks the padding of n decrypted bytes; the unpadded length, or 0 when it is wrong. */
static size_t mr_wecom_unpad(const unsigned char *p, size_t n)
{
	size_t pad = p[n - 1];

	if (pad < 1 || pad > MR_WECOM_BLOCK || pad > n)
		return 0;
	for (size_t i = n - pad; i < n; i++) {
		if (p[i] != pad)
			return 0;
	}
	return n - pad;
}

/* Takes the message out of a decrypted frame of n bytes, checking padding, length and receive id. */
static int mr_wecom_unpack(const unsigned char *p, size_t n, const char *corp_id, char **msg,
			   size_t *mlen, struct mr_err *err)
{
	size_t body = mr_wecom_unpad(p, n);
	size_t idlen = strlen(corp_id);
	size_t len;

	if (body == 0)
		return mr_err_set(err, MR_EINVAL,
				  "the decrypted message has bad PKCS#7 padding: it was not encrypted with this"
				  " app's EncodingAESKey");
	if (body < MR_WECOM_HEAD)
		return mr_err_set(err, MR_EINVAL, "the decrypted message is %zu bytes, shorter than its"
				  " 20-byte header", body);
	len = (size_t)p[16] << 24 | (size_t)p[17] << 16 | (size_t)p[18] << 8 | (size_t)p[19];
	if (len > body - MR_WECOM_HEAD)
		return mr_err_set(err, MR_EINVAL, "the length field says %zu bytes but only %zu follow",
				  len, body - MR_WECOM_HEAD);
	if (body - MR_WECOM_HEAD - len != idlen ||
	    CRYPTO_memcmp(p + MR_WECOM_HEAD + len, corp_id, idlen) != 0) {
		mr_err_set(err, MR_EAUTH, "the message was encrypted for another receive id than this"
			   " app's corp id: check the corp id (or suite id) in the WeCom settings");
		return mr_err_kind(err, "wrong_receiver");
	}
	if (memchr(p + MR_WECOM_HEAD, '\0', len))
		return mr_err_set(err, MR_EINVAL, "the decrypted message holds a NUL byte");
	*msg = mr_strndup((const char *)p + MR_WECOM_HEAD, len);
	*mlen = len;
	return 0;
}

/*
 * Decodes and decrypts n bytes of base64 ciphertext and unpacks it: *msg
 * (malloc'd, NUL-terminated, the caller frees it) and *mlen are the message.
 */
static int mr_wecom_decrypt(const unsigned char key[MR_WECOM_AES_BYTES], const char *corp_id,
			    const char *b64, size_t n, char **msg, size_t *mlen, struct mr_err *err)
{
	size_t cap = n / 4 * 3 + 3, len = 0;
	unsigned char *raw = mr_malloc(cap);
	unsigned char *plain = mr_malloc(cap);
	int rc;

	*msg = NULL;
	if (sodium_base642bin(raw, cap, b64, n, NULL, &len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
		rc = mr_err_set(err, MR_EINVAL, "the ciphertext is not valid base64");
	else if (len < MR_WECOM_BLOCK || len % MR_WECOM_AES_BLOCK != 0)
		rc = mr_err_set(err, MR_EINVAL,
				"the ciphertext is truncated: %zu bytes, not whole AES blocks of at least %d",
				len, MR_WECOM_BLOCK);
	else
		rc = mr_wecom_aes(key, 0, raw, len, plain, err);
	if (rc == 0)
		rc = mr_wecom_unpack(plain, len, corp_id, msg, mlen, err);
	sodium_memzero(plain, cap);
	free(plain);
	free(raw);
	return rc;
}

/* Encrypts and frames plain, then base64: *b64 is malloc'd; plain is at most MR_WECOM_BODY_MAX bytes. */
static int mr_wecom_encrypt(const unsigned char key[MR_WECOM_AES_BYTES], const char *corp_id,
			    const char *plain, char **b64, struct mr_err *err)
{
	size_t n = 0, b64n;
	unsigned char *frame = mr_wecom_pack(plain, strlen(plain), corp_id, &n);
	unsigned char *cipher = mr_malloc(n);
	int rc = mr_wecom_aes(key, 1, frame, n, cipher, err);

	if (rc == 0) {
		b64n = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
		*b64 = mr_malloc(b64n);
		sodium_bin2base64(*b64, b64n, cipher, n, sodium_base64_VARIANT_ORIGINAL);
	}
	sodium_memzero(frame, n);
	free(frame);
	free(cipher);
	return rc;
}

int mr_wecom_seal(const struct mr_wecom_cfg *cfg, const char *plain, const char *timestamp,
		  const char *nonce, char **encrypt_b64, char signature[MR_WECOM_SIG_HEX + 1],
		  struct mr_err *err)
{
	unsigned char key[MR_WECOM_AES_BYTES];
	int rc;

	*encrypt_b64 = NULL;
	signature[0] = '\0';
	if (!plain || !timestamp || !nonce)
		return mr_err_set(err, MR_EINVAL, "a sealed message needs its text, a timestamp and a nonce");
	if (strnlen(plain, MR_WECOM_BODY_MAX + 1) > MR_WECOM_BODY_MAX)
		return mr_err_set(err, MR_ETOOBIG, "a sealed message is at most %d bytes", MR_WECOM_BODY_MAX);
	rc = mr_wecom_prepare(cfg, key, err);
	if (rc == 0)
		rc = mr_wecom_encrypt(key, cfg->corp_id, plain, encrypt_b64, err);
	sodium_memzero(key, sizeof(key));
	if (rc == 0)
		mr_wecom_sign(cfg->token, timestamp, nonce, *encrypt_b64, signature);
	if (rc == 0 && !signature[0])
		rc = mr_err_set(err, MR_EINTERNAL, "SHA-1 failed in libcrypto");
	if (rc < 0) {
		free(*encrypt_b64);
		*encrypt_b64 = NULL;
	}
	return rc;
}

int mr_wecom_verify_url(const struct mr_wecom_cfg *cfg, const char *msg_signature,
			const char *timestamp, const char *nonce, const char *echostr, char **plain,
			struct mr_err *err)
{
	unsigned char key[MR_WECOM_AES_BYTES];
	size_t n, len = 0;
	int rc;

	*plain = NULL;
	if (!echostr)
		return mr_err_field(err, MR_EINVAL, "echostr", "the query parameter echostr is required");
	n = strnlen(echostr, MR_WECOM_BODY_MAX + 1);
	if (n > MR_WECOM_BODY_MAX)
		return mr_err_field(err, MR_ETOOBIG, "echostr", "echostr is over %d bytes", MR_WECOM_BODY_MAX);
	rc = mr_wecom_prepare(cfg, key, err);
	if (rc == 0)
		rc = mr_wecom_check_sig(cfg, msg_signature, timestamp, nonce, echostr, err);
	if (rc == 0)
		rc = mr_wecom_decrypt(key, cfg->corp_id, echostr, n, plain, &len, err);
	sodium_memzero(key, sizeof(key));
	return rc;
}

/* ---- XML ---- */

enum mr_wecom_kind {
	MR_WX_TEXT, /* a char array; longer text is an error */
	MR_WX_CUT,  /* a char array; longer text is cut on a UTF-8 boundary, its full length kept */
	MR_WX_INT,  /* an int64_t of seconds, 0 to MR_WECOM_TIME_MAX */
	MR_WX_BUF,  /* a struct mr_buf, whose own cap applies */
};

/* One child element of <xml> to keep: where its text goes in the target struct. */
struct mr_wecom_field {
	const char *name;
	int kind;      /* enum mr_wecom_kind */
	size_t off;    /* of the char array, int64_t or struct mr_buf */
	size_t size;   /* bytes of the char array (MR_WX_TEXT, MR_WX_CUT) */
	size_t len_off; /* MR_WX_CUT: of the size_t that receives the full length */
};

#define MR_WECOM_MSG_FIELD(name, kind, member) \
	{ name, kind, offsetof(struct mr_wecom_msg, member), sizeof(((struct mr_wecom_msg *)0)->member), 0 }

static const struct mr_wecom_field mr_wecom_inner[] = {
	MR_WECOM_MSG_FIELD("ToUserName", MR_WX_TEXT, to_user),
	MR_WECOM_MSG_FIELD("FromUserName", MR_WX_TEXT, from_user),
	MR_WECOM_MSG_FIELD("CreateTime", MR_WX_INT, create_time),
	MR_WECOM_MSG_FIELD("MsgType", MR_WX_TEXT, msg_type),
	MR_WECOM_MSG_FIELD("Event", MR_WX_TEXT, event),
	MR_WECOM_MSG_FIELD("ChangeType", MR_WX_TEXT, change_type),
	MR_WECOM_MSG_FIELD("UserID", MR_WX_TEXT, user_id),
	MR_WECOM_MSG_FIELD("ExternalUserID", MR_WX_TEXT, external_user_id),
	MR_WECOM_MSG_FIELD("State", MR_WX_TEXT, state),
	MR_WECOM_MSG_FIELD("WelcomeCode", MR_WX_TEXT, welcome_code),
	MR_WECOM_MSG_FIELD("MsgId", MR_WX_TEXT, msg_id),
	MR_WECOM_MSG_FIELD("AgentID", MR_WX_TEXT, agent_id),
	{ "Content", MR_WX_CUT, offsetof(struct mr_wecom_msg, content), MR_WECOM_CONTENT_MAX,
	  offsetof(struct mr_wecom_msg, content_len) },
};

/* The outer body: only Encrypt matters; ToUserName and AgentID are read for completeness. */
struct mr_wecom_outer {
	char to_user[MR_WECOM_ID_MAX];
	char agent_id[MR_WECOM_NAME_MAX];
	struct mr_buf encrypt;
};

static const struct mr_wecom_field mr_wecom_outer_fields[] = {
	{ "ToUserName", MR_WX_TEXT, offsetof(struct mr_wecom_outer, to_user), MR_WECOM_ID_MAX, 0 },
	{ "AgentID", MR_WX_TEXT, offsetof(struct mr_wecom_outer, agent_id), MR_WECOM_NAME_MAX, 0 },
	{ "Encrypt", MR_WX_BUF, offsetof(struct mr_wecom_outer, encrypt), 0, 0 },
};


/* The state of one parse. */
struct mr_wecom_xml {
	XML_Parser p;
	const struct mr_wecom_field *fields;
	size_t nfields;
	char *target;
	int depth;                        /* of the element being read; 1 is <xml> */
	const struct mr_wecom_field *cur; /* the kept field being read, or NULL */
	size_t len;                       /* bytes of its text so far */
	size_t kept;                      /* of which stored (a char array field) */
	char num[MR_WECOM_NUM_MAX];       /* the text of an MR_WX_INT field */
	unsigned seen;                    /* bit i: fields[i] was read */
	int rc;                           /* the first error, or 0 */
	struct mr_err *err;
};

/* Records the first error and stops the parser; later callbacks see x->rc and do nothing. */
static void mr_wecom_xml_fail(struct mr_wecom_xml *x, int code, const char *what, const char *name)
{
	if (x->rc)
		return;
	x->rc = mr_err_set(x->err, code, "the WeCom XML %s%.40s%s", what, name ? name : "",
			   name ? ">" : "");
	x->err->line = (int64_t)XML_GetCurrentLineNumber(x->p);
	x->err->column = (int64_t)XML_GetCurrentColumnNumber(x->p) + 1;
	XML_StopParser(x->p, XML_FALSE);
}

static const struct mr_wecom_field *mr_wecom_field_find(const struct mr_wecom_xml *x, const char *name)
{
	for (size_t i = 0; i < x->nfields; i++) {
		if (strcmp(x->fields[i].name, name) == 0)
			return &x->fields[i];
	}
	return NULL;
}

static void XMLCALL mr_wecom_xml_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct mr_wecom_xml *x = ud;
	const struct mr_wecom_field *f;

	(void)atts;
	if (x->rc)
		return;
	x->depth++;
	if (x->depth > MR_WECOM_XML_DEPTH)
		mr_wecom_xml_fail(x, MR_EINVAL, "is nested too deeply at <", name);
	else if (x->depth == 1 && strcmp(name, "xml") != 0)
		mr_wecom_xml_fail(x, MR_EINVAL, "must have <xml> as its root, not <", name);
	else if (x->cur)
		mr_wecom_xml_fail(x, MR_EINVAL, "has an element inside <", x->cur->name);
	if (x->rc || x->depth != 2)
		return;
	f = mr_wecom_field_find(x, name);
	if (f && (x->seen & (1u << (f - x->fields))))
		mr_wecom_xml_fail(x, MR_EINVAL, "repeats the element <", name);
	x->cur = f;
	x->len = 0;
	x->kept = 0;
	x->num[0] = '\0';
}

/* Keeps the complete UTF-8 characters of the first n bytes of s and NUL-terminates there. */
static void mr_wecom_cut_utf8(char *s, size_t n)
{
	size_t start = n;
	size_t need;
	unsigned char lead;

	while (start > 0 && n - start < 3 && ((unsigned char)s[start - 1] & 0xc0) == 0x80)
		start--;
	s[n] = '\0';
	if (start == 0)
		return;
	lead = (unsigned char)s[start - 1];
	if (lead < 0xc0)
		return;
	need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
	if (n - (start - 1) < need)
		s[start - 1] = '\0';
}

/* Stores n more bytes in a char array of size bytes; past its end, cuts (cut) or fails. */
static void mr_wecom_xml_keep(struct mr_wecom_xml *x, char *dst, size_t size, const char *s, size_t n,
			      int cut)
{
	size_t room = size - 1 - x->kept;
	size_t take = n < room ? n : room;

	if (n > room && !cut) {
		mr_wecom_xml_fail(x, MR_EINVAL, "has too long a value in <", x->cur->name);
		return;
	}
	memcpy(dst + x->kept, s, take);
	x->kept += take;
	dst[x->kept] = '\0';
}

static void XMLCALL mr_wecom_xml_text(void *ud, const XML_Char *s, int len)
{
	struct mr_wecom_xml *x = ud;
	const struct mr_wecom_field *f = x->cur;
	size_t n = len > 0 ? (size_t)len : 0;
	char *dst;

	if (x->rc || !f || x->depth != 2)
		return;
	dst = x->target + f->off;
	if (f->kind == MR_WX_BUF && mr_buf_add((struct mr_buf *)(void *)dst, s, n) < 0)
		mr_wecom_xml_fail(x, MR_ETOOBIG, "has too long an element <", f->name);
	else if (f->kind == MR_WX_INT)
		mr_wecom_xml_keep(x, x->num, sizeof(x->num), s, n, 0);
	else if (f->kind == MR_WX_TEXT || f->kind == MR_WX_CUT)
		mr_wecom_xml_keep(x, dst, f->size, s, n, f->kind == MR_WX_CUT);
	x->len += n;
}

/* Completes the field whose end tag was read: cuts text, stores lengths, parses numbers. */
static void mr_wecom_xml_finish(struct mr_wecom_xml *x)
{
	const struct mr_wecom_field *f = x->cur;
	char *dst = x->target + f->off;
	int64_t v = 0;

	x->seen |= 1u << (f - x->fields);
	if (f->kind == MR_WX_CUT) {
		if (x->len > x->kept)
			mr_wecom_cut_utf8(dst, x->kept);
		memcpy(x->target + f->len_off, &x->len, sizeof(x->len));
	} else if (f->kind == MR_WX_INT) {
		if (mr_parse_i64(x->num, 0, MR_WECOM_TIME_MAX, &v) < 0)
			mr_wecom_xml_fail(x, MR_EINVAL, "has no whole number of seconds in <", f->name);
		memcpy(dst, &v, sizeof(v));
	}
	x->cur = NULL;
}

static void XMLCALL mr_wecom_xml_end(void *ud, const XML_Char *name)
{
	struct mr_wecom_xml *x = ud;

	(void)name;
	if (x->rc)
		return;
	if (x->depth == 2 && x->cur)
		mr_wecom_xml_finish(x);
	x->depth--;
}

/* WeCom never sends a DOCTYPE; refusing it refuses every entity declaration, and so every bomb. */
static void XMLCALL mr_wecom_xml_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
					 const XML_Char *pubid, int has_internal_subset)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal_subset;
	mr_wecom_xml_fail(ud, MR_EINVAL, "has a DOCTYPE, which WeCom never sends", NULL);
}

static void XMLCALL mr_wecom_xml_entity(void *ud, const XML_Char *name, int is_param,
					const XML_Char *value, int value_length, const XML_Char *base,
					const XML_Char *sysid, const XML_Char *pubid,
					const XML_Char *notation)
{
	(void)is_param;
	(void)value;
	(void)value_length;
	(void)base;
	(void)sysid;
	(void)pubid;
	(void)notation;
	mr_wecom_xml_fail(ud, MR_EINVAL, "declares an entity, refused: ", name);
}

/* Parses n bytes of XML whose root is <xml>, storing the children named in fields into target. */
static int mr_wecom_xml_parse(const char *s, size_t n, const struct mr_wecom_field *fields,
			      size_t nfields, void *target, struct mr_err *err)
{
	struct mr_wecom_xml x;
	enum XML_Status st;

	if (n > MR_WECOM_BODY_MAX)
		return mr_err_set(err, MR_ETOOBIG, "the WeCom XML is %zu bytes; at most %d are accepted", n,
				  MR_WECOM_BODY_MAX);
	memset(&x, 0, sizeof(x));
	x.fields = fields;
	x.nfields = nfields;
	x.target = target;
	x.err = err;
	x.p = XML_ParserCreate("UTF-8");
	if (!x.p)
		return mr_err_set(err, MR_EINTERNAL, "libexpat could not create a parser");
	XML_SetUserData(x.p, &x);
	XML_SetElementHandler(x.p, mr_wecom_xml_start, mr_wecom_xml_end);
	XML_SetCharacterDataHandler(x.p, mr_wecom_xml_text);
	XML_SetStartDoctypeDeclHandler(x.p, mr_wecom_xml_doctype);
	XML_SetEntityDeclHandler(x.p, mr_wecom_xml_entity);
	XML_SetParamEntityParsing(x.p, XML_PARAM_ENTITY_PARSING_NEVER);
	st = XML_Parse(x.p, s ? s : "", (int)n, XML_TRUE);
	if (x.rc == 0 && st != XML_STATUS_OK) {
		x.rc = mr_err_set(err, MR_EINVAL, "the WeCom XML is malformed: %s",
				  XML_ErrorString(XML_GetErrorCode(x.p)));
		err->line = (int64_t)XML_GetCurrentLineNumber(x.p);
		err->column = (int64_t)XML_GetCurrentColumnNumber(x.p) + 1;
	}
	XML_ParserFree(x.p);
	return x.rc;
}

#define MR_WECOM_COUNT(t) (sizeof(t) / sizeof((t)[0]))

/* Parses the outer body and checks the signature over its <Encrypt>. */
static int mr_wecom_outer_read(const struct mr_wecom_cfg *cfg, const char *msg_signature,
			       const char *timestamp, const char *nonce, const char *body, size_t n,
			       struct mr_wecom_outer *outer, struct mr_err *err)
{
	int rc = mr_wecom_xml_parse(body, n, mr_wecom_outer_fields, MR_WECOM_COUNT(mr_wecom_outer_fields),
				    outer, err);

	if (rc == 0 && outer->encrypt.len == 0)
		rc = mr_err_set(err, MR_EINVAL, "the body has no <Encrypt>: set the callback to safe"
				" (encrypted) mode in WeCom");
	if (rc == 0)
		rc = mr_wecom_check_sig(cfg, msg_signature, timestamp, nonce, mr_buf_str(&outer->encrypt),
					err);
	return rc;
}

int mr_wecom_open(const struct mr_wecom_cfg *cfg, const char *msg_signature, const char *timestamp,
		  const char *nonce, const char *body, size_t n, struct mr_wecom_msg *out,
		  struct mr_err *err)
{
	unsigned char key[MR_WECOM_AES_BYTES];
	struct mr_wecom_outer outer;
	char *inner = NULL;
	size_t inner_n = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&outer, 0, sizeof(outer));
	mr_buf_init(&outer.encrypt, MR_WECOM_BODY_MAX);
	rc = mr_wecom_prepare(cfg, key, err);
	if (rc == 0)
		rc = mr_wecom_outer_read(cfg, msg_signature, timestamp, nonce, body, n, &outer, err);
	if (rc == 0)
		rc = mr_wecom_decrypt(key, cfg->corp_id, mr_buf_str(&outer.encrypt), outer.encrypt.len,
				      &inner, &inner_n, err);
	if (rc == 0)
		rc = mr_wecom_xml_parse(inner, inner_n, mr_wecom_inner, MR_WECOM_COUNT(mr_wecom_inner), out,
					err);
	if (rc == 0 && !out->msg_type[0])
		rc = mr_err_set(err, MR_EINVAL, "the decrypted callback has no <MsgType>");
	if (rc < 0)
		memset(out, 0, sizeof(*out));
	if (inner)
		sodium_memzero(inner, inner_n);
	free(inner);
	sodium_memzero(key, sizeof(key));
	mr_buf_release(&outer.encrypt);
	return rc;
}

/* ---- mapping to events ---- */

/* The external-contact changes that are about a doctor, and how each counts. */
struct mr_wecom_change {
	const char *change_type;
	const char *type;
	const char *outcome;
};

static const struct mr_wecom_change mr_wecom_changes[] = {
	{ "add_external_contact", "contact_add", "delivered" },
	{ "add_half_external_contact", "contact_add", "delivered" },
	{ "edit_external_contact", "contact_edit", "delivered" },
	{ "del_external_contact", "contact_delete", "sent" },
	{ "del_follow_user", "contact_delete", "sent" },
};

static const struct mr_wecom_change *mr_wecom_change_find(const char *change_type)
{
	for (size_t i = 0; i < MR_WECOM_COUNT(mr_wecom_changes); i++) {
		if (strcmp(mr_wecom_changes[i].change_type, change_type) == 0)
			return &mr_wecom_changes[i];
	}
	return NULL;
}

/* 1 when id has the form of an external contact's id rather than a member's UserID. */
static int mr_wecom_is_external(const char *id)
{
	size_t n = strlen(id);

	return (strncmp(id, "wo", 2) == 0 || strncmp(id, "wm", 2) == 0) && n >= 16 && n <= 64 &&
	       mr_str_charset(id, "_-");
}

static int mr_wecom_ignore(struct mr_err *err, const char *what, const char *name)
{
	mr_err_set(err, MR_EUNPROC, "WeCom %s '%.60s' is not about a doctor: acknowledge and skip it",
		   what, name);
	return mr_err_kind(err, "ignored");
}

/* Sets id, ts, identity and channel, shared by every mapped callback; who is the doctor's id. */
static int mr_wecom_event_common(const struct mr_wecom_msg *m, const char *who, struct mr_arena *a,
				 struct mr_event *ev, struct mr_err *err)
{
	struct mr_buf id;
	int rc = 0;

	if (!*who)
		return mr_err_field(err, MR_EINVAL, "ExternalUserID",
				    "the callback does not name the external contact");
	if (m->create_time <= 0)
		return mr_err_field(err, MR_EINVAL, "CreateTime", "the callback has no CreateTime");
	mr_buf_init(&id, MR_EVENT_ID_MAX);
	if (m->msg_id[0])
		rc = mr_buf_addf(&id, "wecom:%s", m->msg_id);
	else
		rc = mr_buf_addf(&id, "wecom:%s:%s:%s:%lld", m->event[0] ? m->event : m->msg_type,
				 m->change_type, who, (long long)m->create_time);
	ev->id = mr_arena_strdup(a, mr_buf_str(&id));
	mr_buf_release(&id);
	if (rc < 0)
		return mr_err_field(err, MR_EINVAL, "id", "the callback's event id is over %d bytes",
				    MR_EVENT_ID_MAX);
	ev->ts = m->create_time * MR_US_PER_S;
	ev->channel = MR_CH_WECOM;
	ev->id_kind = "wecom_external_userid";
	ev->id_app = "";
	ev->id_value = mr_arena_strdup(a, who);
	return 0;
}

/* Copies a JSON object into a as compact text and releases it. */
static const char *mr_wecom_props(json_t *o, struct mr_arena *a)
{
	char *text = json_dumps(o, JSON_COMPACT);
	const char *copy = mr_arena_strdup(a, text);

	free(text);
	json_decref(o);
	return copy;
}

static int mr_wecom_change_event(const struct mr_wecom_msg *m, struct mr_arena *a, struct mr_event *ev,
				 struct mr_err *err)
{
	const struct mr_wecom_change *c = mr_wecom_change_find(m->change_type);
	json_t *props;
	int rc;

	if (strcmp(m->event, "change_external_contact") != 0)
		return mr_wecom_ignore(err, "event", m->event);
	if (!c)
		return mr_wecom_ignore(err, "external-contact change", m->change_type);
	rc = mr_wecom_event_common(m, m->external_user_id, a, ev, err);
	if (rc < 0)
		return rc;
	ev->type = c->type;
	ev->outcome = mr_outcome_parse(MR_CH_WECOM, c->outcome);
	props = json_object();
	if (m->user_id[0])
		json_object_set_new(props, "wecom_user", json_string(m->user_id));
	json_object_set_new(props, "change_type", json_string(m->change_type));
	if (m->state[0])
		json_object_set_new(props, "state", json_string(m->state));
	ev->props = mr_wecom_props(props, a);
	return 0;
}

static int mr_wecom_message_event(const struct mr_wecom_msg *m, struct mr_arena *a,
				  struct mr_event *ev, struct mr_err *err)
{
	int rc;

	if (!mr_wecom_is_external(m->from_user))
		return mr_wecom_ignore(err, "message from member", m->from_user);
	rc = mr_wecom_event_common(m, m->from_user, a, ev, err);
	if (rc < 0)
		return rc;
	ev->type = "message";
	ev->outcome = mr_outcome_parse(MR_CH_WECOM, "responded");
	ev->props = mr_wecom_props(json_pack("{s:s, s:I}", "msg_type", m->msg_type, "length",
					     (json_int_t)m->content_len), a);
	return 0;
}

int mr_wecom_to_event(const struct mr_wecom_msg *m, struct mr_arena *a, struct mr_event *ev,
		      struct mr_err *err)
{
	mr_event_init(ev);
	ev->source = "wecom";
	ev->channel = MR_CH_WECOM;
	if (!m->msg_type[0])
		return mr_err_field(err, MR_EINVAL, "MsgType", "the callback has no MsgType");
	if (strcmp(m->msg_type, "event") == 0)
		return mr_wecom_change_event(m, a, ev, err);
	return mr_wecom_message_event(m, a, ev, err);
}
