/* conntoken.h - connection tokens: a site's own user on the socket.
 *
 * A site that has its own users signs a short-lived JWT (RFC 7519) for one
 * of them; wspulsed verifies it during the WebSocket upgrade, without a
 * database and without wspulse's own login.  Only this form is accepted:
 *
 *   header   {"alg":"HS256", ...}        "typ" may be anything; "crit" is refused
 *   payload  {"sub":"alice", "exp":1767225600,            required
 *             "roles":["editor"], "nbf":..., "iat":...,   optional
 *             "ns":["/api/1/ws/chat", "/api/1/ws/rooms/"]} optional
 *   key      the content of token_secret_file as it is, one trailing
 *            newline stripped (so `openssl rand -hex 32 > file` and a JWT
 *            library given that same string agree)
 *
 * Any other alg ("none", "HS384", "RS256", ...) is refused before the
 * signature is looked at; the HMAC-SHA256 is computed with OpenSSL and
 * compared in constant time.  Times are Unix seconds (a fraction is cut
 * off); there is no leeway: the token is valid while nbf <= now < exp, and
 * an iat later than now is refused.  `ns` entries are namespace paths, an
 * entry ending in '/' allowing every path below it.
 *
 * Pure: no sockets, no files except wsp_conntoken_key_load(); unit-tested
 * (tests/unit/test_conntoken.c) and fuzzed (tests/fuzz/fuzz_conntoken.c).
 */
#ifndef WSP_CONNTOKEN_H
#define WSP_CONNTOKEN_H

#include <stddef.h>

#include "error.h"
#include "token.h"

#define WSP_CONNTOKEN_MAX 4096      /* bytes of one token */
#define WSP_CONNTOKEN_KEY_MIN 32    /* bytes of the key (64 hex digits from openssl rand -hex 32) */
#define WSP_CONNTOKEN_KEY_MAX 1024
#define WSP_CONNTOKEN_NS_MAX 16     /* entries of the ns claim */
#define WSP_CONNTOKEN_PATH_MAX 200  /* bytes of one ns entry */

/* The verified claims; caller-owned. */
typedef struct wsp_conntoken {
	char sub[WSP_USERNAME_MAX + 1];
	char roles[WSP_ROLES_MAX + 1];  /* "a,b" ("" without roles) */
	long long exp;
	int nns;                        /* -1: no ns claim (any namespace) */
	char ns[WSP_CONNTOKEN_NS_MAX][WSP_CONNTOKEN_PATH_MAX + 1];
} wsp_conntoken;

/* The key; caller-owned. */
typedef struct wsp_conntoken_key {
	unsigned char key[WSP_CONNTOKEN_KEY_MAX];
	size_t len;
} wsp_conntoken_key;

/* Load the key from `path`: the whole file, one trailing "\n" stripped -
 * only one, and only "\n" ("key\r\n" is the key "key\r", "key\n\n" is
 * "key\n"; a file without a newline is used whole), as README tells sites
 * to read it.  Refused (start-up error naming the file) when it is not a
 * regular file (WSP_ERR_IO), breaks secret_file's owner and mode rules
 * (wsp_secret_check_stat: 0600, or 0640 with one of the process's groups;
 * WSP_ERR_FORBIDDEN), or holds fewer than WSP_CONNTOKEN_KEY_MIN or more
 * than WSP_CONNTOKEN_KEY_MAX bytes (WSP_ERR_INVALID).  Returns 0 or the code. */
int wsp_conntoken_key_load(wsp_conntoken_key *k, const char *path, wsp_error *err);

/* Verify token `tok` (len bytes, need not be NUL-terminated; never read past
 * len) with key at time `now`.  Returns 0 and fills *out, or:
 *   WSP_ERR_INVALID  malformed (not three base64url parts of JSON objects,
 *                    too long, a claim of the wrong type or value), an alg
 *                    other than HS256, a "crit" header, a bad signature;
 *   WSP_ERR_EXPIRED  exp <= now, nbf > now, or iat > now.
 * err->text says which, for the log (it never holds the token or the key). */
int wsp_conntoken_verify(const wsp_conntoken_key *k, const char *tok, size_t len, long long now,
			 wsp_conntoken *out, wsp_error *err);

/* 1 if s can be a user or role name, from a connection token or a trusted
 * front server (X-Wspulse-User / -Roles): 1..max bytes, no control
 * characters, no comma (the roles list is comma-separated).  NULL: 0. */
int wsp_conntoken_name_ok(const char *s, size_t max);

/* 1 if the token's ns claim lets it connect to `path` (no claim: 1). */
int wsp_conntoken_allows(const wsp_conntoken *t, const char *path);

/* Sign `payload_json` (a JSON object text) with the HS256 header into out
 * (NUL-terminated).  Returns the length, or WSP_ERR_INVALID when it does not
 * fit outsz.  For tests and tools; sites sign with their own JWT library. */
int wsp_conntoken_sign(const wsp_conntoken_key *k, const char *payload_json, char *out,
		       size_t outsz);

#endif
