/*
 * Unit tests of src/channels/wecom: the WeCom callback protocol and its
 * mapping to events. Two vectors were computed outside this code: WeCom's
 * own published example (加解密方案说明, 举例说明) and one built by hand in a
 * shell (frame with printf, PKCS#7 padding to 32 counted by hand, `openssl
 * enc -aes-256-cbc -nopad`, `base64`, the four strings through `LC_ALL=C
 * sort | sha1sum`). Broken inputs are built here with OpenSSL directly,
 * not with the module, so padding, length and receive-id errors are
 * exercised on ciphertexts the module did not produce.
 */
#include "unit.h"

#include <openssl/evp.h>
#include <sodium.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/str.h"
#include "base/time.h"
#include "channels/wecom.h"
#include "event/event.h"

/* The test app: key, token and corp id of the hand-built vector. */
static const struct mr_wecom_cfg cfg = {
	.token = "medreachToken2024",
	.aes_key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
	.corp_id = "ww1234567890abcdef",
};

/* base64_decode(aes_key + "="), by coreutils' base64 -d and Python's base64 alike. */
static const unsigned char test_key[32] = {
	0x69, 0xb7, 0x1d, 0x79, 0xf8, 0x21, 0x8a, 0x39, 0x25, 0x9a, 0x7a, 0x29, 0xaa, 0xbb, 0x2d, 0xba,
	0xfc, 0x31, 0xcb, 0x3d, 0x35, 0xdb, 0x7e, 0x39, 0xeb, 0xbf, 0x3d, 0x00, 0x10, 0x83, 0x10, 0x51,
};

#define TS "1709600001"
#define NONCE "1372623149"
#define EXT "woAJ2GCAAAXtWyujaWJHDDGi0mACH71w"

/* The hand-built vector: an add_external_contact event, random prefix "0123456789abcdef", pad 15. */
static const char hand_encrypt[] =
	"Q3stYC6hdFzMh9T8HCvyDKYVtoYEBCPQWJi0lS8p5WNPczKaZlHbQ1SJAgdE7OYTIJ5aPd2iyt0eKlYLWPqvGdnW8lSu"
	"9oOMZ7ObZ66o2nz0lNi6qoAJOEo99OLScmoBeBezJSg/Nvc4HNabMXKCLysbpJ0lC4jq0i5PUwZDQo8oCSPGFLlvO6RX"
	"pUXvBkCulNK+oVNJYjwD/DjgbjXNFQXGJgG08FLQ0azN0JXJbCBzaOiy6ZQD+Xu+/TE+AyGpX78RmT6dQ7Y6LaNHgPYJ"
	"f8Iq2VIugPK/b2uih0Rln4GbXVG3KZgBQAVleMzqFckfH6y5802Az9QtUkfHCod9TNyFE9CfwLwV/XIcbDOxqAr4tp9B"
	"U0ffM+uYMjLLksTnQZ/oJy5ZQ4QI8RxDEiMhn/kO29/FKQIuIY8cV9OTS8Z1FF2R/czUJuR52Go/p3vAnaKQ0jw4530A"
	"G8OiBwAHDI98e8FIby5RUIuEQUmBsEUaJ1XP15oe5T01trjU9hVncWnWuPsxbdjezZt8k70pNnvLCa4MXrPPiNV46IOF"
	"9SYABr9wYNh77UZJhnw9NJntfh+6IU39eMirGcIdXsfW3Zlj5M8KHKOU7yIij/+bjTrqix4Yqp7JFMaVLuNqT6azdxDb"
	"R8JclhDVWlVbGaGPd0eu+AalyFp8Pm/mzm+1H4rMGJ7csGAES0L8q//Z320GFeh0hC9cg7ZCet5swEF1sg==";
static const char hand_sig[] = "8d3528a4060d4c906c205db2570d8e9fc0702702";

/* The hand-built echostr: "6785143291836520473", random prefix "fedcba9876543210", pad 7. */
static const char hand_echostr[] =
	"DpQeJfnf/MGZ/+GTIspwVPQwm8/fHr3o8yPqpSxtSuYnaXQvhlYsC+oqkGbhk22xbriUMuED+j1eY1EzzZO/Qg==";
static const char hand_echo_sig[] = "0250f226ded537016e3c44ec9bc67b1d19d21823";

/* The outer body WeCom POSTs around a ciphertext; the caller frees it. */
static char *outer_body(const char *encrypt)
{
	struct mr_buf b;

	mr_buf_init(&b, 4 << 20);
	assert_int_equal(mr_buf_addf(&b, "<xml><ToUserName><![CDATA[%s]]></ToUserName>"
				     "<AgentID><![CDATA[1000002]]></AgentID>"
				     "<Encrypt><![CDATA[%s]]></Encrypt></xml>", cfg.corp_id, encrypt), 0);
	return mr_buf_detach(&b, NULL);
}

/* Opens a body whose Encrypt is encrypt, signed correctly with TS and NONCE. */
static int open_encrypt(const char *encrypt, struct mr_wecom_msg *m, struct mr_err *err)
{
	char sig[41];
	char *body = outer_body(encrypt);
	int rc;

	mr_wecom_sign(cfg.token, TS, NONCE, encrypt, sig);
	mr_err_clear(err);
	rc = mr_wecom_open(&cfg, sig, TS, NONCE, body, strlen(body), m, err);
	free(body);
	return rc;
}

/* Seals inner XML with the module and opens it again as a POST body. */
static int open_inner(const char *inner, struct mr_wecom_msg *m, struct mr_err *err)
{
	char sig[41];
	char *enc = NULL;
	int rc;

	mr_err_clear(err);
	assert_int_equal(mr_wecom_seal(&cfg, inner, TS, NONCE, &enc, sig, err), 0);
	rc = open_encrypt(enc, m, err);
	free(enc);
	return rc;
}

/* AES-256-CBC without padding under the test key, straight through OpenSSL; base64, malloc'd. */
static char *encrypt_raw(const unsigned char *in, size_t n)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	unsigned char *out = malloc(n + 32);
	size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	char *b64 = malloc(cap);
	int len = 0, fin = 0;

	assert_int_equal(n % 16, 0);
	assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, test_key, test_key), 1);
	EVP_CIPHER_CTX_set_padding(ctx, 0);
	assert_int_equal(EVP_EncryptUpdate(ctx, out, &len, in, (int)n), 1);
	assert_int_equal(EVP_EncryptFinal_ex(ctx, out + len, &fin), 1);
	sodium_bin2base64(b64, cap, out, (size_t)len + (size_t)fin, sodium_base64_VARIANT_ORIGINAL);
	EVP_CIPHER_CTX_free(ctx);
	free(out);
	return b64;
}

/* Decrypts base64 under the test key through OpenSSL, no padding removed; returns the length. */
static size_t decrypt_raw(const char *b64, unsigned char *out, size_t cap)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	unsigned char *raw = malloc(cap);
	size_t n = 0;
	int len = 0, fin = 0;

	assert_int_equal(sodium_base642bin(raw, cap, b64, strlen(b64), NULL, &n, NULL,
					   sodium_base64_VARIANT_ORIGINAL), 0);
	assert_int_equal(EVP_DecryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, test_key, test_key), 1);
	EVP_CIPHER_CTX_set_padding(ctx, 0);
	assert_int_equal(EVP_DecryptUpdate(ctx, out, &len, raw, (int)n), 1);
	assert_int_equal(EVP_DecryptFinal_ex(ctx, out + len, &fin), 1);
	EVP_CIPHER_CTX_free(ctx);
	free(raw);
	return (size_t)len + (size_t)fin;
}

/*
 * A plaintext frame built by hand: 16 random bytes, the length field len_field,
 * msg, receive id rid, then pad bytes of value pad_value, total a multiple of 16.
 */
static size_t frame(unsigned char *out, uint32_t len_field, const char *msg, const char *rid,
		    size_t pad, unsigned char pad_value)
{
	size_t n = 0, ml = strlen(msg), rl = strlen(rid);

	memset(out, 'R', 16);
	n = 16;
	out[n++] = (unsigned char)(len_field >> 24);
	out[n++] = (unsigned char)(len_field >> 16);
	out[n++] = (unsigned char)(len_field >> 8);
	out[n++] = (unsigned char)len_field;
	/* NOLINTNEXTLINE(bugprone-not-null-terminated-result): a binary frame, not a string */
	memcpy(out + n, msg, ml);
	n += ml;
	/* NOLINTNEXTLINE(bugprone-not-null-terminated-result) */
	memcpy(out + n, rid, rl);
	n += rl;
	memset(out + n, pad_value, pad);
	return n + pad;
}

/* Pads by hand to 32 as WeCom does and returns the frame length. */
static size_t frame_ok(unsigned char *out, const char *msg, const char *rid)
{
	size_t body = 20 + strlen(msg) + strlen(rid);
	size_t pad = 32 - body % 32;

	return frame(out, (uint32_t)strlen(msg), msg, rid, pad, (unsigned char)pad);
}

/* Verifies the URL with a hand-framed echostr; returns the code, *plain freed here. */
static int verify_frame(const unsigned char *f, size_t n, struct mr_err *err, char *got, size_t cap)
{
	char *enc = encrypt_raw(f, n);
	char sig[41];
	char *plain = NULL;
	int rc;

	mr_wecom_sign(cfg.token, TS, NONCE, enc, sig);
	mr_err_clear(err);
	rc = mr_wecom_verify_url(&cfg, sig, TS, NONCE, enc, &plain, err);
	if (rc == 0)
		snprintf(got, cap, "%s", plain);
	else
		assert_null(plain);
	free(plain);
	free(enc);
	return rc;
}

static void test_cfg_check(void **state)
{
	struct mr_wecom_cfg c = cfg;
	struct mr_err err;

	(void)state;
	mr_err_clear(&err);
	assert_int_equal(mr_wecom_cfg_check(&cfg, &err), 0);
	c.aes_key = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"; /* WeCom's example: stray bits in 'C' */
	assert_int_equal(mr_wecom_cfg_check(&c, &err), 0);
	c.aes_key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF"; /* 42 */
	assert_int_equal(mr_wecom_cfg_check(&c, &err), MR_EINVAL);
	assert_string_equal(err.field, "aes_key");
	c.aes_key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH"; /* 44 */
	assert_int_equal(mr_wecom_cfg_check(&c, &err), MR_EINVAL);
	c.aes_key = "abcdefghijklmnopqrstuvwxyz0123456789ABCD*FG"; /* not base64 */
	assert_int_equal(mr_wecom_cfg_check(&c, &err), MR_EINVAL);
	assert_non_null(strstr(err.msg, "base64"));
	c.aes_key = NULL;
	assert_int_equal(mr_wecom_cfg_check(&c, &err), MR_EINVAL);
	c = cfg;
	c.token = "";
	assert_int_equal(mr_wecom_cfg_check(&c, &err), MR_EINVAL);
	assert_string_equal(err.field, "token");
	c = cfg;
	c.corp_id = NULL;
	assert_int_equal(mr_wecom_cfg_check(&c, &err), MR_EINVAL);
	assert_string_equal(err.field, "corp_id");
}

static void test_sign_matches_independent_vectors(void **state)
{
	char sig[41];

	(void)state;
	/* WeCom's published example */
	mr_wecom_sign("QDG6eK", "1409659589", "263014780",
		      "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==",
		      sig);
	assert_string_equal(sig, "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3");
	/* the shell-built vectors (sha1sum of the sorted strings) */
	mr_wecom_sign(cfg.token, TS, NONCE, hand_encrypt, sig);
	assert_string_equal(sig, hand_sig);
	mr_wecom_sign(cfg.token, TS, NONCE, hand_echostr, sig);
	assert_string_equal(sig, hand_echo_sig);
	/* order of the arguments does not matter, only their sorted order */
	mr_wecom_sign(NONCE, hand_echostr, cfg.token, TS, sig);
	assert_string_equal(sig, hand_echo_sig);
}

static void test_verify_url_wecom_example(void **state)
{
	const struct mr_wecom_cfg c = { "QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
					"wx5823bf96d3bd56c7" };
	struct mr_err err;
	char *plain = NULL;

	(void)state;
	mr_err_clear(&err);
	assert_int_equal(mr_wecom_verify_url(&c, "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", "1409659589",
					     "263014780",
					     "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNd"
					     "tp+4RPcs8TgAE7OaBO+FZXvnaqQ==",
					     &plain, &err), 0);
	assert_string_equal(plain, "1616140317555161061");
	free(plain);
}

static void test_verify_url_hand_vector(void **state)
{
	struct mr_err err;
	char *plain = NULL;
	char upper[41];

	(void)state;
	mr_err_clear(&err);
	assert_int_equal(mr_wecom_verify_url(&cfg, hand_echo_sig, TS, NONCE, hand_echostr, &plain, &err), 0);
	assert_string_equal(plain, "6785143291836520473");
	free(plain);
	/* hex digits in either case */
	for (int i = 0; i < 41; i++)
		upper[i] = (char)(hand_echo_sig[i] >= 'a' && hand_echo_sig[i] <= 'f' ? hand_echo_sig[i] - 32
										     : hand_echo_sig[i]);
	assert_int_equal(mr_wecom_verify_url(&cfg, upper, TS, NONCE, hand_echostr, &plain, &err), 0);
	free(plain);
}

static void test_open_hand_vector(void **state)
{
	struct mr_wecom_msg m;
	struct mr_err err;
	char *body = outer_body(hand_encrypt);

	(void)state;
	mr_err_clear(&err);
	assert_int_equal(mr_wecom_open(&cfg, hand_sig, TS, NONCE, body, strlen(body), &m, &err), 0);
	assert_string_equal(m.to_user, "ww1234567890abcdef");
	assert_string_equal(m.from_user, "sys");
	assert_int_equal(m.create_time, 1709600000);
	assert_string_equal(m.msg_type, "event");
	assert_string_equal(m.event, "change_external_contact");
	assert_string_equal(m.change_type, "add_external_contact");
	assert_string_equal(m.user_id, "rep_zhang");
	assert_string_equal(m.external_user_id, EXT);
	assert_string_equal(m.state, "cardio_2024");
	assert_string_equal(m.welcome_code, "WELCOMECODE");
	assert_string_equal(m.msg_id, "");
	assert_string_equal(m.content, "");
	assert_int_equal(m.content_len, 0);
	free(body);
}

static void test_seal_frames_as_wecom_does(void **state)
{
	const char *msg = "<xml><MsgType>text</MsgType></xml>";
	unsigned char plain[256];
	struct mr_err err;
	char sig[41], want[41];
	char *enc = NULL, *enc2 = NULL;
	size_t n, pad;

	(void)state;
	mr_err_clear(&err);
	assert_int_equal(mr_wecom_seal(&cfg, msg, TS, NONCE, &enc, sig, &err), 0);
	/* decrypted by OpenSSL directly: random(16) + length + msg + corp id + PKCS#7 to 32 */
	n = decrypt_raw(enc, plain, sizeof(plain));
	assert_int_equal(n % 32, 0);
	assert_int_equal(plain[16] << 24 | plain[17] << 16 | plain[18] << 8 | plain[19], strlen(msg));
	assert_memory_equal(plain + 20, msg, strlen(msg));
	assert_memory_equal(plain + 20 + strlen(msg), cfg.corp_id, strlen(cfg.corp_id));
	pad = plain[n - 1];
	assert_int_equal(20 + strlen(msg) + strlen(cfg.corp_id) + pad, n);
	for (size_t i = n - pad; i < n; i++)
		assert_int_equal(plain[i], pad);
	mr_wecom_sign(cfg.token, TS, NONCE, enc, want);
	assert_string_equal(sig, want);
	/* a fresh random prefix each time */
	assert_int_equal(mr_wecom_seal(&cfg, msg, TS, NONCE, &enc2, sig, &err), 0);
	assert_string_not_equal(enc, enc2);
	free(enc);
	free(enc2);
}

static void test_seal_open_round_trip(void **state)
{
	struct mr_wecom_msg m;
	struct mr_err err;

	(void)state;
	assert_int_equal(open_inner("<xml><ToUserName><![CDATA[ww1234567890abcdef]]></ToUserName>"
				    "<FromUserName><![CDATA[" EXT "]]></FromUserName>"
				    "<CreateTime>1348831860</CreateTime><MsgType><![CDATA[text]]></MsgType>"
				    "<Content><![CDATA[王医生: 请问 <b>&amp; 这个]]></Content>"
				    "<MsgId>1234567890123456</MsgId><AgentID>1000002</AgentID></xml>",
				    &m, &err), 0);
	assert_string_equal(m.from_user, EXT);
	assert_int_equal(m.create_time, 1348831860);
	assert_string_equal(m.msg_type, "text");
	assert_string_equal(m.content, "王医生: 请问 <b>&amp; 这个");
	assert_int_equal(m.content_len, strlen("王医生: 请问 <b>&amp; 这个"));
	assert_string_equal(m.msg_id, "1234567890123456");
	assert_string_equal(m.agent_id, "1000002");
	/* entities and character references outside CDATA are decoded */
	assert_int_equal(open_inner("<xml><MsgType>text</MsgType><Content>a&lt;b&#x4e2d;</Content></xml>",
				    &m, &err), 0);
	assert_string_equal(m.content, "a<b中");
}

/* Every message length from 0 to 80 bytes, so the padding takes every value 1..32, including 32. */
static void test_seal_every_padding(void **state)
{
	char msg[81], sig[41];
	struct mr_err err;
	char *enc = NULL, *plain = NULL;
	int saw32 = 0;
	size_t n;

	(void)state;
	for (size_t len = 0; len <= 80; len++) {
		unsigned char raw[256];

		memset(msg, 'x', len);
		msg[len] = '\0';
		mr_err_clear(&err);
		assert_int_equal(mr_wecom_seal(&cfg, msg, TS, NONCE, &enc, sig, &err), 0);
		n = decrypt_raw(enc, raw, sizeof(raw));
		saw32 |= raw[n - 1] == 32;
		assert_int_equal(mr_wecom_verify_url(&cfg, sig, TS, NONCE, enc, &plain, &err), 0);
		assert_string_equal(plain, msg);
		free(plain);
		free(enc);
	}
	assert_true(saw32);
}

static void test_bad_signature(void **state)
{
	struct mr_wecom_msg m;
	struct mr_err err;
	char *body = outer_body(hand_encrypt);
	char *plain = (char *)1;
	char sig[41];

	(void)state;
	snprintf(sig, sizeof(sig), "%s", hand_sig);
	sig[0] = sig[0] == '0' ? '1' : '0';
	mr_err_clear(&err);
	assert_int_equal(mr_wecom_open(&cfg, sig, TS, NONCE, body, strlen(body), &m, &err), MR_EAUTH);
	assert_string_equal(err.msg, "the msg_signature does not match");
	assert_string_equal(m.msg_type, "");
	/* the right signature for another timestamp, nonce or token */
	assert_int_equal(mr_wecom_open(&cfg, hand_sig, "1709600002", NONCE, body, strlen(body), &m, &err),
			 MR_EAUTH);
	assert_int_equal(mr_wecom_open(&cfg, hand_sig, TS, "1", body, strlen(body), &m, &err), MR_EAUTH);
	{
		struct mr_wecom_cfg c = cfg;

		c.token = "anotherToken";
		assert_int_equal(mr_wecom_open(&c, hand_sig, TS, NONCE, body, strlen(body), &m, &err), MR_EAUTH);
	}
	/* too short, too long, missing */
	assert_int_equal(mr_wecom_open(&cfg, "8d3528a4", TS, NONCE, body, strlen(body), &m, &err), MR_EAUTH);
	assert_int_equal(mr_wecom_open(&cfg, "8d3528a4060d4c906c205db2570d8e9fc07027020", TS, NONCE, body,
				       strlen(body), &m, &err), MR_EAUTH);
	assert_int_equal(mr_wecom_open(&cfg, NULL, TS, NONCE, body, strlen(body), &m, &err), MR_EAUTH);
	assert_int_equal(mr_wecom_open(&cfg, "", TS, NONCE, body, strlen(body), &m, &err), MR_EAUTH);
	assert_int_equal(mr_wecom_open(&cfg, hand_sig, NULL, NONCE, body, strlen(body), &m, &err), MR_EINVAL);
	/* URL verification likewise, before any decryption */
	assert_int_equal(mr_wecom_verify_url(&cfg, sig, TS, NONCE, hand_echostr, &plain, &err), MR_EAUTH);
	assert_null(plain);
	assert_string_equal(err.msg, "the msg_signature does not match");
	/* a bad signature wins over bad base64: nothing unsigned is decoded */
	assert_int_equal(mr_wecom_verify_url(&cfg, hand_sig, TS, NONCE, "@@@", &plain, &err), MR_EAUTH);
	free(body);
}

static void test_wrong_receiver(void **state)
{
	struct mr_wecom_cfg c = cfg;
	struct mr_wecom_msg m;
	struct mr_err err;
	unsigned char f[256];
	char got[64];
	char *body = outer_body(hand_encrypt);

	(void)state;
	c.corp_id = "wwffffffffffffffff";
	mr_err_clear(&err);
	assert_int_equal(mr_wecom_open(&c, hand_sig, TS, NONCE, body, strlen(body), &m, &err), MR_EAUTH);
	assert_non_null(err.kind);
	assert_string_equal(err.kind, "wrong_receiver");
	/* a prefix or an extension of the corp id is not the corp id */
	c.corp_id = "ww1234567890abcde";
	assert_int_equal(mr_wecom_open(&c, hand_sig, TS, NONCE, body, strlen(body), &m, &err), MR_EAUTH);
	assert_string_equal(err.kind, "wrong_receiver");
	c.corp_id = "ww1234567890abcdefg";
	assert_int_equal(mr_wecom_open(&c, hand_sig, TS, NONCE, body, strlen(body), &m, &err), MR_EAUTH);
	assert_string_equal(err.kind, "wrong_receiver");
	free(body);
	/* a frame, built here, addressed to another corp; and one with no receive id at all */
	assert_int_equal(verify_frame(f, frame_ok(f, "hello", "wx0000000000000000"), &err, got, sizeof(got)),
			 MR_EAUTH);
	assert_string_equal(err.kind, "wrong_receiver");
	assert_int_equal(verify_frame(f, frame_ok(f, "hello", ""), &err, got, sizeof(got)), MR_EAUTH);
	assert_string_equal(err.kind, "wrong_receiver");
	/* and the same framing with the right receive id opens */
	assert_int_equal(verify_frame(f, frame_ok(f, "hello", cfg.corp_id), &err, got, sizeof(got)), 0);
	assert_string_equal(got, "hello");
}

static void test_truncated_ciphertext_and_bad_base64(void **state)
{
	struct mr_wecom_msg m;
	struct mr_err err;
	unsigned char f[256];
	char cut[64];
	char *enc;

	(void)state;
	/* 24 base64 characters: 18 bytes, not whole AES blocks */
	snprintf(cut, sizeof(cut), "%.24s", hand_encrypt);
	assert_int_equal(open_encrypt(cut, &m, &err), MR_EINVAL);
	assert_non_null(strstr(err.msg, "truncated"));
	/* one block: 16 bytes, shorter than any frame */
	memset(f, 1, sizeof(f));
	enc = encrypt_raw(f, 16);
	assert_int_equal(open_encrypt(enc, &m, &err), MR_EINVAL);
	assert_non_null(strstr(err.msg, "truncated"));
	free(enc);
	/* the first 32 bytes of a longer frame: decrypts, but its last byte is message, not padding */
	frame_ok(f, "a message longer than one block of thirty-two bytes", cfg.corp_id);
	enc = encrypt_raw(f, 32);
	assert_int_equal(open_encrypt(enc, &m, &err), MR_EINVAL);
	assert_non_null(strstr(err.msg, "padding"));
	free(enc);
	/* not base64; base64 with a missing '='; stray whitespace */
	assert_int_equal(open_encrypt("not*base64!", &m, &err), MR_EINVAL);
	assert_non_null(strstr(err.msg, "base64"));
	assert_int_equal(open_encrypt("QUJDRA=", &m, &err), MR_EINVAL);
	assert_int_equal(open_encrypt("QUJD RA==", &m, &err), MR_EINVAL);
	/* the body has no ciphertext at all */
	assert_int_equal(open_encrypt("", &m, &err), MR_EINVAL);
	assert_non_null(strstr(err.msg, "<Encrypt>"));
}

static void test_bad_padding(void **state)
{
	unsigned char f[256];
	struct mr_err err;
	char got[64];
	size_t n;

	(void)state;
	/* body 20 + 5 + 18 = 43 bytes: a correct pad is 21 bytes of 21 */
	assert_int_equal(verify_frame(f, frame(f, 5, "hello", cfg.corp_id, 21, 21), &err, got, sizeof(got)), 0);
	/* the last byte 0, or 33 and more (WeCom pads to 32) */
	assert_int_equal(verify_frame(f, frame(f, 5, "hello", cfg.corp_id, 21, 0), &err, got, sizeof(got)),
			 MR_EINVAL);
	assert_non_null(strstr(err.msg, "padding"));
	assert_int_equal(verify_frame(f, frame(f, 5, "hello", cfg.corp_id, 53, 53), &err, got, sizeof(got)),
			 MR_EINVAL);
	assert_non_null(strstr(err.msg, "padding"));
	/* the pad bytes disagree with the last one */
	n = frame(f, 5, "hello", cfg.corp_id, 21, 21);
	f[n - 5] = 20;
	assert_int_equal(verify_frame(f, n, &err, got, sizeof(got)), MR_EINVAL);
	assert_non_null(strstr(err.msg, "padding"));
	/* a pad of 32 that eats into the receive id: fails as padding, never reads before the frame */
	n = frame(f, 5, "hello", cfg.corp_id, 21, 32);
	assert_int_equal(verify_frame(f, n, &err, got, sizeof(got)), MR_EINVAL);
	/* a correct pad that leaves fewer than the 20 header bytes */
	memset(f, 16, 32);
	assert_int_equal(verify_frame(f, 32, &err, got, sizeof(got)), MR_EINVAL);
	assert_non_null(strstr(err.msg, "header"));
}

static void test_length_field(void **state)
{
	unsigned char f[256];
	struct mr_err err;
	char got[64];
	size_t n;

	(void)state;
	/* larger than what follows: one byte too many, and the largest 32-bit value */
	assert_int_equal(verify_frame(f, frame(f, 5 + 18 + 1, "hello", cfg.corp_id, 21, 21), &err, got,
				      sizeof(got)), MR_EINVAL);
	assert_non_null(strstr(err.msg, "length field"));
	assert_int_equal(verify_frame(f, frame(f, 0xffffffffu, "hello", cfg.corp_id, 21, 21), &err, got,
				      sizeof(got)), MR_EINVAL);
	assert_non_null(strstr(err.msg, "length field"));
	/* smaller: the rest of the message is taken for the receive id, which then does not match */
	assert_int_equal(verify_frame(f, frame(f, 3, "hello", cfg.corp_id, 21, 21), &err, got, sizeof(got)),
			 MR_EAUTH);
	assert_string_equal(err.kind, "wrong_receiver");
	/* a message holding a NUL byte cannot be returned as a string */
	n = frame_ok(f, "heXlo", cfg.corp_id);
	f[20 + 2] = '\0';
	assert_int_equal(verify_frame(f, n, &err, got, sizeof(got)), MR_EINVAL);
	assert_non_null(strstr(err.msg, "NUL"));
}

static void test_malformed_xml(void **state)
{
	static const char *const outer[] = {
		"",
		"<xml><Encrypt>abc</xml>",
		"<xml><Encrypt><![CDATA[abc]]></Encrypt></xml><xml/>",
		"<notxml><Encrypt><![CDATA[abc]]></Encrypt></notxml>",
		"<xml><Encrypt>a</Encrypt><Encrypt>b</Encrypt></xml>",
		"<xml><Encrypt><b>abc</b></Encrypt></xml>",
		"<xml><Encrypt>\xff\xfe</Encrypt></xml>",
		"<xml><Encrypt>&undefined;</Encrypt></xml>",
		"<xml><AgentID>1000002</AgentID></xml>",
	};
	struct mr_wecom_msg m;
	struct mr_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(outer) / sizeof(outer[0]); i++) {
		mr_err_clear(&err);
		assert_int_equal(mr_wecom_open(&cfg, hand_sig, TS, NONCE, outer[i], strlen(outer[i]), &m, &err),
				 MR_EINVAL);
		assert_true(err.msg[0] != '\0');
	}
	/* the inner XML, signed and encrypted correctly, but broken */
	assert_int_equal(open_inner("<xml><MsgType>text</MsgType>", &m, &err), MR_EINVAL);
	assert_non_null(strstr(err.msg, "malformed"));
	assert_int_equal(open_inner("not xml at all", &m, &err), MR_EINVAL);
	assert_int_equal(open_inner("<xml><CreateTime>soon</CreateTime><MsgType>text</MsgType></xml>", &m,
				    &err), MR_EINVAL);
	assert_non_null(strstr(err.msg, "CreateTime"));
	assert_int_equal(open_inner("<xml><CreateTime>-5</CreateTime><MsgType>text</MsgType></xml>", &m, &err),
			 MR_EINVAL);
	assert_int_equal(open_inner("<xml><MsgType>text</MsgType><MsgType>event</MsgType></xml>", &m, &err),
			 MR_EINVAL);
	assert_non_null(strstr(err.msg, "repeats"));
	assert_int_equal(open_inner("<xml><Content>hi</Content></xml>", &m, &err), MR_EINVAL);
	assert_non_null(strstr(err.msg, "MsgType"));
	assert_int_equal(open_inner("<xml><MsgType>text</MsgType><ExternalUserID>"
				    "wmxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
				    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
				    "</ExternalUserID></xml>", &m, &err), MR_EINVAL);
	assert_non_null(strstr(err.msg, "ExternalUserID"));
	assert_string_equal(m.msg_type, "");
}

static void test_doctype_and_entity_bombs(void **state)
{
	static const char bomb[] =
		"<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY a \"aaaaaaaaaa\">"
		"<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">"
		"<!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\"><!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">"
		"<!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\"><!ENTITY g \"&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;\">"
		"<!ENTITY h \"&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;\"><!ENTITY i \"&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;\">]>"
		"<xml><MsgType>text</MsgType><Encrypt>&i;</Encrypt><Content>&i;</Content></xml>";
	static const char xxe[] = "<!DOCTYPE xml [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
				  "<xml><MsgType>text</MsgType><Encrypt>&x;</Encrypt><Content>&x;</Content></xml>";
	static const char plain_doctype[] = "<!DOCTYPE xml><xml><MsgType>text</MsgType><Encrypt>x</Encrypt></xml>";
	struct mr_wecom_msg m;
	struct mr_err err;

	(void)state;
	mr_err_clear(&err);
	assert_int_equal(mr_wecom_open(&cfg, hand_sig, TS, NONCE, bomb, strlen(bomb), &m, &err), MR_EINVAL);
	assert_non_null(strstr(err.msg, "DOCTYPE"));
	assert_int_equal(mr_wecom_open(&cfg, hand_sig, TS, NONCE, xxe, strlen(xxe), &m, &err), MR_EINVAL);
	assert_non_null(strstr(err.msg, "DOCTYPE"));
	assert_int_equal(mr_wecom_open(&cfg, hand_sig, TS, NONCE, plain_doctype, strlen(plain_doctype), &m,
				       &err), MR_EINVAL);
	/* the same inside a correctly signed and encrypted message */
	assert_int_equal(open_inner(bomb, &m, &err), MR_EINVAL);
	assert_non_null(strstr(err.msg, "DOCTYPE"));
	assert_int_equal(open_inner(xxe, &m, &err), MR_EINVAL);
	assert_string_equal(m.content, "");
}

static void test_size_caps(void **state)
{
	struct mr_wecom_msg m;
	struct mr_err err;
	struct mr_buf b;
	char *big = malloc(MR_WECOM_BODY_MAX + 2);
	char *plain = NULL;

	(void)state;
	memset(big, 'A', MR_WECOM_BODY_MAX + 1);
	big[MR_WECOM_BODY_MAX + 1] = '\0';
	mr_err_clear(&err);
	assert_int_equal(mr_wecom_open(&cfg, hand_sig, TS, NONCE, big, MR_WECOM_BODY_MAX + 1, &m, &err),
			 MR_ETOOBIG);
	assert_int_equal(mr_wecom_verify_url(&cfg, hand_sig, TS, NONCE, big, &plain, &err), MR_ETOOBIG);
	assert_null(plain);
	/* sealing refuses the same sizes, and needs all its inputs */
	{
		char sig[41];
		char *enc = (char *)1;

		big[MR_WECOM_BODY_MAX + 1] = '\0';
		assert_int_equal(mr_wecom_seal(&cfg, big, TS, NONCE, &enc, sig, &err), MR_ETOOBIG);
		assert_null(enc);
		assert_int_equal(mr_wecom_seal(&cfg, NULL, TS, NONCE, &enc, sig, &err), MR_EINVAL);
		assert_int_equal(mr_wecom_seal(&cfg, "x", NULL, NONCE, &enc, sig, &err), MR_EINVAL);
		assert_int_equal(mr_wecom_verify_url(&cfg, hand_echo_sig, TS, NONCE, NULL, &plain, &err),
				 MR_EINVAL);
		assert_string_equal(err.field, "echostr");
	}
	free(big);
	/* Content longer than the cap is cut on a character boundary; its full length is kept */
	mr_buf_init(&b, 1 << 20);
	mr_buf_adds(&b, "<xml><MsgType>text</MsgType><Content>xy");
	for (int i = 0; i < 1000; i++)
		mr_buf_adds(&b, "医");
	mr_buf_adds(&b, "</Content></xml>");
	assert_int_equal(open_inner(mr_buf_str(&b), &m, &err), 0);
	assert_int_equal(m.content_len, 2 + 3 * 1000);
	assert_true(strlen(m.content) < MR_WECOM_CONTENT_MAX);
	assert_true(strlen(m.content) > MR_WECOM_CONTENT_MAX - 4);
	assert_int_equal(strlen(m.content), 2 + 3 * 681); /* 2047 bytes would split a character */
	assert_int_equal(mr_utf8_check(m.content, strlen(m.content)), 0);
	mr_buf_release(&b);
}

/* Parses inner XML and maps it, with mr_event_check run as the ingest path runs it. */
static int map(const char *inner, struct mr_arena *a, struct mr_event *ev, struct mr_err *err)
{
	struct mr_wecom_msg m;
	int rc;

	assert_int_equal(open_inner(inner, &m, err), 0);
	rc = mr_wecom_to_event(&m, a, ev, err);
	if (rc == 0)
		assert_int_equal(mr_event_check(ev, INT64_C(1800000000) * MR_US_PER_S, a, err), 0);
	return rc;
}

static void test_map_contact_changes(void **state)
{
	static const struct {
		const char *change, *type, *outcome;
	} rows[] = {
		{ "add_external_contact", "contact_add", "delivered" },
		{ "add_half_external_contact", "contact_add", "delivered" },
		{ "edit_external_contact", "contact_edit", "delivered" },
		{ "del_external_contact", "contact_delete", "sent" },
		{ "del_follow_user", "contact_delete", "sent" },
	};
	struct mr_arena a;
	struct mr_event ev;
	struct mr_err err;
	char xml[1024], id[256], props[256];

	(void)state;
	mr_arena_init(&a);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(xml, sizeof(xml),
			 "<xml><ToUserName><![CDATA[ww1234567890abcdef]]></ToUserName>"
			 "<FromUserName><![CDATA[sys]]></FromUserName><CreateTime>1709600000</CreateTime>"
			 "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_contact]]></Event>"
			 "<ChangeType><![CDATA[%s]]></ChangeType><UserID><![CDATA[rep_zhang]]></UserID>"
			 "<ExternalUserID><![CDATA[" EXT "]]></ExternalUserID></xml>", rows[i].change);
		assert_int_equal(map(xml, &a, &ev, &err), 0);
		snprintf(id, sizeof(id), "wecom:change_external_contact:%s:" EXT ":1709600000", rows[i].change);
		assert_string_equal(ev.id, id);
		assert_int_equal(ev.channel, MR_CH_WECOM);
		assert_string_equal(ev.type, rows[i].type);
		assert_string_equal(mr_outcome_name(MR_CH_WECOM, ev.outcome), rows[i].outcome);
		assert_int_equal(ev.ts, INT64_C(1709600000) * MR_US_PER_S);
		assert_null(ev.hcp);
		assert_string_equal(ev.id_kind, "wecom_external_userid");
		assert_string_equal(ev.id_value, EXT);
		assert_null(ev.rep);
		assert_string_equal(ev.source, "wecom");
		assert_int_equal(ev.duration_s, -1);
		snprintf(props, sizeof(props), "{\"wecom_user\":\"rep_zhang\",\"change_type\":\"%s\"}",
			 rows[i].change);
		assert_string_equal(ev.props, props);
	}
	/* the hand-built vector: the State ("contact me" channel) is kept for attribution */
	{
		struct mr_wecom_msg m;
		char *body = outer_body(hand_encrypt);

		assert_int_equal(mr_wecom_open(&cfg, hand_sig, TS, NONCE, body, strlen(body), &m, &err), 0);
		assert_int_equal(mr_wecom_to_event(&m, &a, &ev, &err), 0);
		assert_string_equal(ev.props,
				    "{\"wecom_user\":\"rep_zhang\",\"change_type\":\"add_external_contact\","
				    "\"state\":\"cardio_2024\"}");
		assert_string_equal(ev.id, "wecom:change_external_contact:add_external_contact:" EXT
				    ":1709600000");
		free(body);
	}
	mr_arena_release(&a);
}

static void test_map_message(void **state)
{
	struct mr_arena a;
	struct mr_event ev;
	struct mr_err err;

	(void)state;
	mr_arena_init(&a);
	assert_int_equal(map("<xml><ToUserName>ww1234567890abcdef</ToUserName><FromUserName>" EXT
			     "</FromUserName><CreateTime>1709600100</CreateTime><MsgType>text</MsgType>"
			     "<Content><![CDATA[我的手机是13800000000]]></Content><MsgId>7355608</MsgId>"
			     "<AgentID>1000002</AgentID></xml>", &a, &ev, &err), 0);
	assert_string_equal(ev.id, "wecom:7355608");
	assert_string_equal(ev.type, "message");
	assert_string_equal(mr_outcome_name(MR_CH_WECOM, ev.outcome), "responded");
	assert_string_equal(ev.id_kind, "wecom_external_userid");
	assert_string_equal(ev.id_value, EXT);
	assert_int_equal(ev.ts, INT64_C(1709600100) * MR_US_PER_S);
	assert_string_equal(ev.props, "{\"msg_type\":\"text\",\"length\":26}");
	assert_null(strstr(ev.props, "13800000000")); /* the text is personal data: never kept */
	/* an image has no Content; without a MsgId the id is built from the sender and the time */
	assert_int_equal(map("<xml><FromUserName>wmW2WmDAAAdooseeQxlUCbwkQiXE2Rbw</FromUserName>"
			     "<CreateTime>1709600200</CreateTime><MsgType>image</MsgType></xml>",
			     &a, &ev, &err), 0);
	assert_string_equal(ev.id, "wecom:image::wmW2WmDAAAdooseeQxlUCbwkQiXE2Rbw:1709600200");
	assert_string_equal(ev.props, "{\"msg_type\":\"image\",\"length\":0}");
	mr_arena_release(&a);
}

static void test_map_ignored_and_incomplete(void **state)
{
	static const char *const ignored[] = {
		/* a member changed in the address book: staff, not a doctor */
		"<xml><FromUserName>sys</FromUserName><CreateTime>1709600000</CreateTime><MsgType>event</MsgType>"
		"<Event>change_contact</Event><ChangeType>update_user</ChangeType><UserID>zhangsan</UserID></xml>",
		/* a member opened the app */
		"<xml><FromUserName>zhangsan</FromUserName><CreateTime>1709600000</CreateTime>"
		"<MsgType>event</MsgType><Event>enter_agent</Event></xml>",
		/* an external-contact change that is no touch: a customer transfer failed */
		"<xml><CreateTime>1709600000</CreateTime><MsgType>event</MsgType>"
		"<Event>change_external_contact</Event><ChangeType>transfer_fail</ChangeType>"
		"<ExternalUserID>" EXT "</ExternalUserID></xml>",
		/* a group chat changed */
		"<xml><CreateTime>1709600000</CreateTime><MsgType>event</MsgType>"
		"<Event>change_external_chat</Event><ChangeType>create</ChangeType></xml>",
		/* a member wrote to the app; an id merely starting "wo" is not an external user id */
		"<xml><FromUserName>zhangsan</FromUserName><CreateTime>1709600000</CreateTime>"
		"<MsgType>text</MsgType><Content>hi</Content><MsgId>1</MsgId></xml>",
		"<xml><FromUserName>wolfgang</FromUserName><CreateTime>1709600000</CreateTime>"
		"<MsgType>text</MsgType><Content>hi</Content><MsgId>2</MsgId></xml>",
	};
	struct mr_arena a;
	struct mr_event ev;
	struct mr_err err;

	(void)state;
	mr_arena_init(&a);
	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++) {
		mr_err_clear(&err);
		assert_int_equal(map(ignored[i], &a, &ev, &err), MR_EUNPROC);
		assert_non_null(err.kind);
		assert_string_equal(err.kind, "ignored");
	}
	/* a contact change that does not say who, or when */
	assert_int_equal(map("<xml><CreateTime>1709600000</CreateTime><MsgType>event</MsgType>"
			     "<Event>change_external_contact</Event><ChangeType>add_external_contact</ChangeType>"
			     "<UserID>rep_zhang</UserID></xml>", &a, &ev, &err), MR_EINVAL);
	assert_string_equal(err.field, "ExternalUserID");
	assert_int_equal(map("<xml><MsgType>event</MsgType><Event>change_external_contact</Event>"
			     "<ChangeType>del_follow_user</ChangeType><ExternalUserID>" EXT
			     "</ExternalUserID></xml>", &a, &ev, &err), MR_EINVAL);
	assert_string_equal(err.field, "CreateTime");
	/* an id built from long fields that would pass the contract's 128 bytes */
	assert_int_equal(map("<xml><FromUserName>wm" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			     "</FromUserName><CreateTime>1709600000</CreateTime>"
			     "<MsgType>a_very_long_message_type_that_nobody_sends_00000</MsgType></xml>",
			     &a, &ev, &err), MR_EINVAL);
	assert_string_equal(err.field, "id");
	mr_arena_release(&a);
}

/* WeCom retries a callback it got no answer to: the retry maps to the same event id. */
static void test_replay_maps_to_same_id(void **state)
{
	static const char inner[] =
		"<xml><CreateTime>1709600300</CreateTime><MsgType>event</MsgType>"
		"<Event>change_external_contact</Event><ChangeType>del_follow_user</ChangeType>"
		"<UserID>rep_li</UserID><ExternalUserID>" EXT "</ExternalUserID></xml>";
	struct mr_arena a;
	struct mr_event ev1, ev2, ev3;
	struct mr_err err;
	struct mr_wecom_msg m;
	char *body = outer_body(hand_encrypt);

	(void)state;
	mr_arena_init(&a);
	/* the same bytes twice */
	assert_int_equal(mr_wecom_open(&cfg, hand_sig, TS, NONCE, body, strlen(body), &m, &err), 0);
	assert_int_equal(mr_wecom_to_event(&m, &a, &ev1, &err), 0);
	assert_int_equal(mr_wecom_open(&cfg, hand_sig, TS, NONCE, body, strlen(body), &m, &err), 0);
	assert_int_equal(mr_wecom_to_event(&m, &a, &ev2, &err), 0);
	assert_string_equal(ev1.id, ev2.id);
	/* the same callback re-encrypted (a fresh random prefix, a new ciphertext) */
	assert_int_equal(map(inner, &a, &ev1, &err), 0);
	assert_int_equal(map(inner, &a, &ev2, &err), 0);
	assert_string_equal(ev1.id, ev2.id);
	/* while another time is another event */
	assert_int_equal(map("<xml><CreateTime>1709600301</CreateTime><MsgType>event</MsgType>"
			     "<Event>change_external_contact</Event><ChangeType>del_follow_user</ChangeType>"
			     "<UserID>rep_li</UserID><ExternalUserID>" EXT "</ExternalUserID></xml>",
			     &a, &ev3, &err), 0);
	assert_string_not_equal(ev1.id, ev3.id);
	free(body);
	mr_arena_release(&a);
}

/* Every prefix of a valid body, and bodies with one byte changed: an error or a result, never a crash. */
static void test_mangled_bodies_never_crash(void **state)
{
	struct mr_wecom_msg m;
	struct mr_err err;
	char *body = outer_body(hand_encrypt);
	size_t n = strlen(body);
	char *copy = malloc(n);

	(void)state;
	for (size_t len = 0; len < n; len++) {
		memcpy(copy, body, len); /* exactly len bytes, no NUL: the parser must not look further */
		mr_err_clear(&err);
		assert_true(mr_wecom_open(&cfg, hand_sig, TS, NONCE, copy, len, &m, &err) < 0);
		assert_true(err.msg[0] != '\0');
	}
	for (size_t i = 0; i < n; i += 3) {
		memcpy(copy, body, n);
		copy[i] = (char)(copy[i] ^ 0x21);
		mr_err_clear(&err);
		if (mr_wecom_open(&cfg, hand_sig, TS, NONCE, copy, n, &m, &err) < 0)
			assert_true(err.msg[0] != '\0');
	}
	/* random plaintexts, correctly sealed */
	for (int i = 0; i < 200; i++) {
		char junk[97];

		randombytes_buf(junk, sizeof(junk) - 1);
		for (size_t j = 0; j < sizeof(junk) - 1; j++)
			junk[j] = (char)(junk[j] ? junk[j] : '<');
		junk[sizeof(junk) - 1] = '\0';
		assert_true(open_inner(junk, &m, &err) < 0);
	}
	free(copy);
	free(body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cfg_check),
		cmocka_unit_test(test_sign_matches_independent_vectors),
		cmocka_unit_test(test_verify_url_wecom_example),
		cmocka_unit_test(test_verify_url_hand_vector),
		cmocka_unit_test(test_open_hand_vector),
		cmocka_unit_test(test_seal_frames_as_wecom_does),
		cmocka_unit_test(test_seal_open_round_trip),
		cmocka_unit_test(test_seal_every_padding),
		cmocka_unit_test(test_bad_signature),
		cmocka_unit_test(test_wrong_receiver),
		cmocka_unit_test(test_truncated_ciphertext_and_bad_base64),
		cmocka_unit_test(test_bad_padding),
		cmocka_unit_test(test_length_field),
		cmocka_unit_test(test_malformed_xml),
		cmocka_unit_test(test_doctype_and_entity_bombs),
		cmocka_unit_test(test_size_caps),
		cmocka_unit_test(test_map_contact_changes),
		cmocka_unit_test(test_map_message),
		cmocka_unit_test(test_map_ignored_and_incomplete),
		cmocka_unit_test(test_replay_maps_to_same_id),
		cmocka_unit_test(test_mangled_bodies_never_crash),
	};
	return cmocka_run_group_tests_name("wecom", tests, NULL, NULL);
}
