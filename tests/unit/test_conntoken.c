/* test_conntoken.c - connection tokens (JWT HS256): every refusal reason,
 * every claim, the key file, and a token from an independent signer. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "conntoken.h"
#include "b64url.h"
#include "suites.h"

#define NOW 1800000000LL

static wsp_conntoken_key key(const char *s)
{
	wsp_conntoken_key k;

	memset(&k, 0, sizeof(k));
	k.len = strlen(s);
	memcpy(k.key, s, k.len);
	return k;
}

static const char *KEY = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/* Sign payload with KEY and verify; returns the code, err text in why. */
static int check(const char *payload, wsp_conntoken *t, char *why)
{
	wsp_conntoken_key k = key(KEY);
	char tok[WSP_CONNTOKEN_MAX];
	wsp_error err;
	int n = wsp_conntoken_sign(&k, payload, tok, sizeof(tok)), rc;

	CU_ASSERT_FATAL(n > 0);
	wsp_error_init(&err);
	rc = wsp_conntoken_verify(&k, tok, (size_t)n, NOW, t, &err);
	if (why)
		strcpy(why, err.text);
	return rc;
}

static void test_valid_claims(void)
{
	wsp_conntoken t;

	CU_ASSERT_EQUAL(check("{\"sub\":\"alice\",\"exp\":1800000060,\"roles\":[\"editor\",\"admin\"],"
			      "\"nbf\":1799999990,\"iat\":1799999990,\"ns\":[\"/api/1/ws/chat\",\"/api/1/ws/rooms/\"]}",
			      &t, NULL), 0);
	CU_ASSERT_STRING_EQUAL(t.sub, "alice");
	CU_ASSERT_STRING_EQUAL(t.roles, "editor,admin");
	CU_ASSERT_EQUAL(t.exp, 1800000060LL);
	CU_ASSERT_EQUAL(t.nns, 2);
	CU_ASSERT_TRUE(wsp_conntoken_allows(&t, "/api/1/ws/chat"));
	CU_ASSERT_FALSE(wsp_conntoken_allows(&t, "/api/1/ws/chat2"));
	CU_ASSERT_FALSE(wsp_conntoken_allows(&t, "/api/1/ws/chat/x"));
	CU_ASSERT_TRUE(wsp_conntoken_allows(&t, "/api/1/ws/rooms/42"));
	CU_ASSERT_FALSE(wsp_conntoken_allows(&t, "/api/1/ws/rooms"));
	CU_ASSERT_FALSE(wsp_conntoken_allows(&t, "/api/1/ws/other"));
	/* No roles, no ns: any namespace; a real-valued exp is cut to seconds. */
	CU_ASSERT_EQUAL(check("{\"sub\":\"bob\",\"exp\":1800000001.9}", &t, NULL), 0);
	CU_ASSERT_STRING_EQUAL(t.roles, "");
	CU_ASSERT_EQUAL(t.nns, -1);
	CU_ASSERT_EQUAL(t.exp, 1800000001LL);
	CU_ASSERT_TRUE(wsp_conntoken_allows(&t, "/api/1/ws/anything"));
	/* An empty ns list allows nothing. */
	CU_ASSERT_EQUAL(check("{\"sub\":\"bob\",\"exp\":1800000060,\"ns\":[]}", &t, NULL), 0);
	CU_ASSERT_FALSE(wsp_conntoken_allows(&t, "/api/1/ws/chat"));
}

static void test_time_claims(void)
{
	wsp_conntoken t;
	char why[WSP_ERROR_TEXT_MAX];

	CU_ASSERT_EQUAL(check("{\"sub\":\"a\",\"exp\":1800000000}", &t, why), WSP_ERR_EXPIRED);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "expired"));
	CU_ASSERT_EQUAL(check("{\"sub\":\"a\",\"exp\":1799990000}", &t, why), WSP_ERR_EXPIRED);
	CU_ASSERT_EQUAL(check("{\"sub\":\"a\",\"exp\":1800000060,\"nbf\":1800000001}", &t, why), WSP_ERR_EXPIRED);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "not valid before"));
	CU_ASSERT_EQUAL(check("{\"sub\":\"a\",\"exp\":1800000060,\"nbf\":1800000000}", &t, why), 0);
	CU_ASSERT_EQUAL(check("{\"sub\":\"a\",\"exp\":1800000060,\"iat\":1800000030}", &t, why), WSP_ERR_EXPIRED);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "issued in the future"));
}

static void test_bad_claims(void)
{
	static const char *bad[] = {
		"{\"exp\":1800000060}",                                   /* no sub */
		"{\"sub\":\"\",\"exp\":1800000060}",
		"{\"sub\":42,\"exp\":1800000060}",
		"{\"sub\":\"a\\nb\",\"exp\":1800000060}",
		"{\"sub\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"exp\":1800000060}", /* 65 */
		"{\"sub\":\"a\"}",                                        /* no exp */
		"{\"sub\":\"a\",\"exp\":\"1800000060\"}",
		"{\"sub\":\"a\",\"exp\":1800000060,\"nbf\":\"x\"}",
		"{\"sub\":\"a\",\"exp\":1800000060,\"roles\":\"admin\"}",
		"{\"sub\":\"a\",\"exp\":1800000060,\"roles\":[1]}",
		"{\"sub\":\"a\",\"exp\":1800000060,\"roles\":[\"a,b\"]}",
		"{\"sub\":\"a\",\"exp\":1800000060,\"ns\":\"/api/1/ws/chat\"}",
		"{\"sub\":\"a\",\"exp\":1800000060,\"ns\":[\"/elsewhere\"]}",
		"{\"sub\":\"a\",\"exp\":1800000060,\"sub\":\"b\"}",         /* duplicate key */
		"[\"sub\"]",
		"{\"sub\":\"a\",\"exp\":1e300}",
	};
	wsp_conntoken t;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(check(bad[i], &t, NULL), WSP_ERR_INVALID);
}

/* header.payload.sig from raw JSON parts, correctly signed with keytext
 * (HMAC-SHA256 straight from OpenSSL), whatever the header says. */
static int forge(const char *header, const char *payload, const char *keytext, char *out)
{
	unsigned char mac[32];
	unsigned int mlen = 32;
	size_t o = wsp_b64url_encode((const unsigned char *)header, strlen(header), out);

	out[o++] = '.';
	o += wsp_b64url_encode((const unsigned char *)payload, strlen(payload), out + o);
	HMAC(EVP_sha256(), keytext, (int)strlen(keytext), (unsigned char *)out, o, mac, &mlen);
	out[o++] = '.';
	o += wsp_b64url_encode(mac, 32, out + o);
	return (int)o;
}

static void test_alg_refused(void)
{
	static const char *headers[] = {
		"{\"alg\":\"none\",\"typ\":\"JWT\"}",
		"{\"alg\":\"None\"}",
		"{\"alg\":\"HS384\"}",
		"{\"alg\":\"RS256\"}",
		"{\"alg\":\"hs256\"}",
		"{\"typ\":\"JWT\"}",
		"{\"alg\":\"HS256\",\"crit\":[\"exp\"]}",
	};
	wsp_conntoken_key k = key(KEY);
	wsp_conntoken t;
	char tok[WSP_CONNTOKEN_MAX];
	wsp_error err;

	for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
		int n = forge(headers[i], "{\"sub\":\"a\",\"exp\":1800000060}", KEY, tok);

		wsp_error_init(&err);
		CU_ASSERT_EQUAL(wsp_conntoken_verify(&k, tok, (size_t)n, NOW, &t, &err), WSP_ERR_INVALID);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.text, "refused"));
	}
	/* forge() itself is right: the HS256 header it signs is accepted. */
	{
		int n = forge("{\"alg\":\"HS256\"}", "{\"sub\":\"a\",\"exp\":1800000060}", KEY, tok);

		CU_ASSERT_EQUAL(wsp_conntoken_verify(&k, tok, (size_t)n, NOW, &t, NULL), 0);
	}
	/* alg none with an empty signature, the classic. */
	{
		int n = forge("{\"alg\":\"none\"}", "{\"sub\":\"a\",\"exp\":1800000060}", KEY, tok);
		char *last = strrchr(tok, '.');

		last[1] = '\0';
		n = (int)strlen(tok);
		wsp_error_init(&err);
		CU_ASSERT_EQUAL(wsp_conntoken_verify(&k, tok, (size_t)n, NOW, &t, &err), WSP_ERR_INVALID);
	}
}

static void test_signature(void)
{
	wsp_conntoken_key k = key(KEY), other = key("another key, 32 bytes or more.....");
	wsp_conntoken t;
	char tok[WSP_CONNTOKEN_MAX], tmp[WSP_CONNTOKEN_MAX];
	wsp_error err;
	int n = wsp_conntoken_sign(&k, "{\"sub\":\"alice\",\"exp\":1800000060}", tok, sizeof(tok));

	CU_ASSERT_EQUAL(wsp_conntoken_verify(&k, tok, (size_t)n, NOW, &t, &err), 0);
	wsp_error_init(&err);
	CU_ASSERT_EQUAL(wsp_conntoken_verify(&other, tok, (size_t)n, NOW, &t, &err), WSP_ERR_INVALID);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.text, "bad signature"));
	/* Every single-character change anywhere is refused. */
	for (int i = 0; i < n; i++) {
		memcpy(tmp, tok, (size_t)n);
		tmp[i] = tmp[i] == 'A' ? 'B' : 'A';
		CU_ASSERT_NOT_EQUAL(wsp_conntoken_verify(&k, tmp, (size_t)n, NOW, &t, NULL), 0);
	}
	/* The last character of the signature carries 2 unused bits: the same
	 * used bits with another unused bit is refused (one encoding only). */
	{
		char *last = tok + n - 1;
		static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
		int v = (int)(strchr(b64, *last) - b64);

		memcpy(tmp, tok, (size_t)n);
		tmp[n - 1] = b64[v ^ 1];
		CU_ASSERT_EQUAL(wsp_conntoken_verify(&k, tmp, (size_t)n, NOW, &t, NULL), WSP_ERR_INVALID);
	}
	/* Truncated signature, extra part, nothing at all. */
	CU_ASSERT_EQUAL(wsp_conntoken_verify(&k, tok, (size_t)n - 1, NOW, &t, NULL), WSP_ERR_INVALID);
	memcpy(tmp, tok, (size_t)n);
	memcpy(tmp + n, ".x", 3);
	CU_ASSERT_EQUAL(wsp_conntoken_verify(&k, tmp, (size_t)n + 2, NOW, &t, NULL), WSP_ERR_INVALID);
	CU_ASSERT_EQUAL(wsp_conntoken_verify(&k, "", 0, NOW, &t, NULL), WSP_ERR_INVALID);
	CU_ASSERT_EQUAL(wsp_conntoken_verify(&k, "a.b", 3, NOW, &t, NULL), WSP_ERR_INVALID);
	CU_ASSERT_EQUAL(wsp_conntoken_verify(&k, "..", 2, NOW, &t, NULL), WSP_ERR_INVALID);
	/* The key is the text as it is: its hex is not decoded. */
	{
		wsp_conntoken_key hexk = key("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
		wsp_conntoken_key raw = key("00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF");

		n = wsp_conntoken_sign(&hexk, "{\"sub\":\"a\",\"exp\":1800000060}", tok, sizeof(tok));
		CU_ASSERT_EQUAL(wsp_conntoken_verify(&raw, tok, (size_t)n, NOW, &t, NULL), WSP_ERR_INVALID);
	}
}

/* A token made by another implementation (the example on jwt.io, checked
 * with `openssl dgst -sha256 -hmac`): the signature verifies, and the
 * refusal is for the missing exp, not the signature. */
static void test_independent_signer(void)
{
	static const char tok[] = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
		"eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
		"SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
	wsp_conntoken_key k = key("your-256-bit-secret");
	wsp_conntoken t;
	wsp_error err;

	wsp_error_init(&err);
	CU_ASSERT_EQUAL(wsp_conntoken_verify(&k, tok, sizeof(tok) - 1, NOW, &t, &err), WSP_ERR_INVALID);
	CU_ASSERT_STRING_EQUAL(err.text, "token: exp missing");
}

static void test_key_load(void)
{
	char path[] = "/tmp/wsp-ctkey-XXXXXX";
	int fd = mkstemp(path);
	wsp_conntoken_key k;
	wsp_error err;

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, KEY, strlen(KEY)), (ssize_t)strlen(KEY));
	CU_ASSERT_EQUAL(write(fd, "\n", 1), 1);
	close(fd);
	chmod(path, 0600);
	wsp_error_init(&err);
	CU_ASSERT_EQUAL(wsp_conntoken_key_load(&k, path, &err), 0);
	CU_ASSERT_EQUAL(k.len, strlen(KEY));
	CU_ASSERT_EQUAL(memcmp(k.key, KEY, k.len), 0);
	chmod(path, 0644);
	wsp_error_init(&err);
	CU_ASSERT_EQUAL(wsp_conntoken_key_load(&k, path, &err), WSP_ERR_FORBIDDEN);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.text, path));
	chmod(path, 0600);
	fd = open(path, O_WRONLY | O_TRUNC);
	CU_ASSERT_EQUAL(write(fd, "short\n", 6), 6);
	close(fd);
	wsp_error_init(&err);
	CU_ASSERT_EQUAL(wsp_conntoken_key_load(&k, path, &err), WSP_ERR_INVALID);
	unlink(path);
	wsp_error_init(&err);
	CU_ASSERT_EQUAL(wsp_conntoken_key_load(&k, path, &err), WSP_ERR_IO);
}

/* The key is the file's text with ONE trailing "\n" stripped, nothing else:
 * what a site's JWT library is given when it reads the file the same way. */
static void test_key_newline(void)
{
	static const struct {
		const char *tail;   /* written after KEY */
		const char *want;   /* the key's bytes after KEY */
	} cases[] = {
		{ "", "" },             /* no newline: the whole file */
		{ "\n", "" },           /* openssl rand -hex 32 > file */
		{ "\n\n", "\n" },       /* only one is stripped */
		{ "\r\n", "\r" },       /* a CR stays part of the key */
		{ " \n", " " },         /* so does a space */
	};
	char path[] = "/tmp/wsp-ctkeynl-XXXXXX";
	int fd = mkstemp(path);

	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	chmod(path, 0600);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t kl = strlen(KEY), tl = strlen(cases[i].tail), wl = strlen(cases[i].want);
		wsp_conntoken_key k;
		wsp_error err;

		fd = open(path, O_WRONLY | O_TRUNC);
		CU_ASSERT_FATAL(fd >= 0);
		CU_ASSERT_EQUAL(write(fd, KEY, kl), (ssize_t)kl);
		CU_ASSERT_EQUAL(write(fd, cases[i].tail, tl), (ssize_t)tl);
		close(fd);
		wsp_error_init(&err);
		CU_ASSERT_EQUAL(wsp_conntoken_key_load(&k, path, &err), 0);
		CU_ASSERT_EQUAL(k.len, kl + wl);
		CU_ASSERT_EQUAL(memcmp(k.key, KEY, kl), 0);
		CU_ASSERT_EQUAL(memcmp(k.key + kl, cases[i].want, wl), 0);
	}
	unlink(path);
}

int test_conntoken_register(void)
{
	CU_pSuite s = CU_add_suite("conntoken", NULL, NULL);

	if (!s)
		return CU_get_error();
	WSP_ADD_TEST(s, test_valid_claims);
	WSP_ADD_TEST(s, test_time_claims);
	WSP_ADD_TEST(s, test_bad_claims);
	WSP_ADD_TEST(s, test_alg_refused);
	WSP_ADD_TEST(s, test_signature);
	WSP_ADD_TEST(s, test_independent_signer);
	WSP_ADD_TEST(s, test_key_load);
	WSP_ADD_TEST(s, test_key_newline);
	return CUE_SUCCESS;
}
