/* token.h - the session cookie both programs understand.
 *
 * wspulse.fcgi issues the cookie at login; wspulsed verifies it during the
 * WebSocket handshake WITHOUT a database round trip (the event loop never
 * blocks, and a page that logs in and connects at once is never refused
 * because a row has not been seen yet).  Format, all ASCII:
 *
 *     v1.<sid>.<exp>.<b64url(username)>.<b64url(roles)>.<b64url(hmac)>
 *
 * sid: 32 hex digits (the sessions table key); exp: Unix seconds; roles:
 * comma-separated; hmac: HMAC-SHA256 under the server secret of everything
 * before the last dot, compared in constant time.  Revocation (logout, role
 * change, expiry) is announced over PostgreSQL NOTIFY `wsp_session`; the
 * daemon keeps the revoked sids and refuses/closes them.
 */
#ifndef WSP_TOKEN_H
#define WSP_TOKEN_H

#include <stddef.h>

#include "error.h"
#include "secret.h"

/* The cookie's name, in both programs (fcgi sets it, the daemon reads it). */
#define WSP_SESSION_COOKIE "wsp_session"

#define WSP_SID_LEN 32          /* hex digits */
#define WSP_USERNAME_MAX 64
#define WSP_ROLES_MAX 256
#define WSP_TOKEN_MAX 600

/* A verified token's contents; caller-owned. */
typedef struct wsp_token {
	char sid[WSP_SID_LEN + 1];
	long long exp;
	char username[WSP_USERNAME_MAX + 1];
	char roles[WSP_ROLES_MAX + 1];  /* "admin,root" */
} wsp_token;

/* Write a signed token for t into out (size >= WSP_TOKEN_MAX).  Returns the
 * length or a negative code (WSP_ERR_INVALID if a field is too long or holds
 * a comma in a role name). */
int wsp_token_sign(const wsp_secret *s, const wsp_token *t, char *out, size_t outsz);

/* Verify `str` (len bytes, need not be NUL-terminated) against the secret and
 * the clock `now`.  Returns 0 and fills t, WSP_ERR_INVALID (malformed or bad
 * signature) or WSP_ERR_EXPIRED.  Never reads past len. */
int wsp_token_verify(const wsp_secret *s, const char *str, size_t len, long long now,
		     wsp_token *t);

/* 1 if the comma-separated `roles` holds `role` exactly, else 0. */
int wsp_roles_has(const char *roles, const char *role);

/* Find cookie `name` in a Cookie header value; returns a pointer into
 * `header` and its length in *len, or NULL. */
const char *wsp_cookie_find(const char *header, const char *name, size_t *len);

/* Constant-time comparison of two byte strings: 1 if equal. */
int wsp_ct_equal(const void *a, size_t alen, const void *b, size_t blen);

#endif
