/* fuzz_conntoken.c - connection tokens (JWT HS256) as they arrive in the
 * upgrade's query string or Authorization header.  Pass 1 verifies the input
 * as it is (a fuzzer cannot forge the HMAC, so this covers the splitting,
 * base64url, the header and the alg check); pass 2 signs the input as the
 * payload with the test key, so the claim parsing behind the signature is
 * fuzzed too. */
#include "config.h"

#include "conntoken.h"
#include "fuzz.h"

static void check(const wsp_conntoken_key *k, const char *tok, size_t len)
{
	wsp_conntoken t;
	wsp_error err;
	int rc;

	wsp_error_init(&err);
	rc = wsp_conntoken_verify(k, tok, len, 1800000000LL, &t, &err);
	if (rc != 0 && rc != WSP_ERR_INVALID && rc != WSP_ERR_EXPIRED)
		abort();
	if (rc != 0 && !err.text[0])
		abort();
	if (rc == 0) {
		/* What verified is well-formed and within its bounds. */
		if (!t.sub[0] || strlen(t.sub) > WSP_USERNAME_MAX || strlen(t.roles) > WSP_ROLES_MAX ||
		    t.exp <= 1800000000LL || t.nns < -1 || t.nns > WSP_CONNTOKEN_NS_MAX)
			abort();
		for (int i = 0; i < t.nns; i++)
			if (strncmp(t.ns[i], "/api/1/ws/", 10) != 0)
				abort();
		(void)wsp_conntoken_allows(&t, "/api/1/ws/chat");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static wsp_conntoken_key k;
	char *s = fuzz_cstr(data, size);
	static char tok[4 * WSP_CONNTOKEN_MAX];
	int n;

	if (!k.len) {
		memcpy(k.key, "0123456789abcdef0123456789abcdef", 32);
		k.len = 32;
	}
	check(&k, (const char *)data, size);
	n = wsp_conntoken_sign(&k, s, tok, sizeof(tok));
	if (n > 0)
		check(&k, tok, (size_t)n);
	free(s);
	return 0;
}
