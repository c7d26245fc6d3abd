/* fuzz_token.c - the session cookie: wsp_cookie_find on a Cookie header and
 * wsp_token_verify on what it finds.  A second pass signs the input with the
 * test key first, so the fields behind the HMAC check are fuzzed too (a
 * fuzzer cannot forge the MAC on its own). */
#include "config.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "fuzz.h"
#include "token.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void check_token(const wsp_secret *s, const char *str, size_t len)
{
	wsp_token t;
	int rc = wsp_token_verify(s, str, len, 1700000000LL, &t);

	if (rc == 0 || rc == WSP_ERR_EXPIRED) {
		char again[WSP_TOKEN_MAX];

		/* What verified must be well-formed: NUL-terminated fields that
		 * sign again into a token that verifies to the same contents. */
		if (strlen(t.sid) != WSP_SID_LEN || strlen(t.username) > WSP_USERNAME_MAX ||
		    strlen(t.roles) > WSP_ROLES_MAX)
			abort();
		if (rc == 0 && strchr(t.roles, ',') == NULL && t.username[0]) {
			int n = wsp_token_sign(s, &t, again, sizeof(again));
			wsp_token t2;

			if (n > 0 && (wsp_token_verify(s, again, (size_t)n, 1700000000LL, &t2) != 0 ||
				      strcmp(t.username, t2.username) || strcmp(t.roles, t2.roles) ||
				      t.exp != t2.exp))
				abort();
		}
		(void)wsp_roles_has(t.roles, "admin");
	} else if (rc != WSP_ERR_INVALID) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static wsp_secret s;
	char *hdr = fuzz_cstr(data, size);
	const char *v;
	size_t len = 0;

	if (!s.len) {
		for (int i = 0; i < 32; i++)
			s.key[i] = (unsigned char)(i * 7 + 1);
		s.len = 32;
	}
	/* 1. The header as a browser (or an attacker) sends it. */
	v = wsp_cookie_find(hdr, "wsp_session", &len);
	if (v) {
		if (v < hdr || v + len > hdr + size)
			abort();
		check_token(&s, v, len);
	}
	(void)wsp_roles_has(hdr, "admin");
	check_token(&s, (const char *)data, size);

	/* 2. The input signed with the key: exercises the field parsing. */
	if (size < 512) {
		unsigned char m[32];
		unsigned int mlen = 32;
		char signed_tok[512 + 64];
		size_t o = size;

		memcpy(signed_tok, data, size);
		if (HMAC(EVP_sha256(), s.key, (int)s.len, data, size, m, &mlen)) {
			signed_tok[o++] = '.';
			for (size_t i = 0; i < 32; i += 3) {
				unsigned x = (unsigned)m[i] << 16 | (i + 1 < 32 ? (unsigned)m[i + 1] << 8 : 0) |
					     (i + 2 < 32 ? m[i + 2] : 0);

				signed_tok[o++] = b64[(x >> 18) & 63];
				signed_tok[o++] = b64[(x >> 12) & 63];
				if (i + 1 < 32)
					signed_tok[o++] = b64[(x >> 6) & 63];
				if (i + 2 < 32)
					signed_tok[o++] = b64[x & 63];
			}
			check_token(&s, signed_tok, o);
		}
	}
	free(hdr);
	return 0;
}
