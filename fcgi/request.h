/* request.h - one REST request as the FastCGI program sees it.
 *
 * Built from the CGI parameters through a lookup callback (so this module
 * never sees FastCGI types and can be unit-tested with a plain table), and a
 * body reader callback.  Owns the copies it makes; freed by
 * wsp_request_cleanup at the bottom of the accept loop.
 */
#ifndef WSP_REQUEST_H
#define WSP_REQUEST_H

#include <stddef.h>

#include "error.h"

/* Returns the value of CGI parameter `name` or NULL. */
typedef const char *(*wsp_param_fn)(const char *name, void *ud);
/* Reads up to n body bytes into buf; returns the count, 0 at the end, <0 on error. */
typedef long (*wsp_read_fn)(void *ud, char *buf, size_t n);

#define WSP_ADDR_MAX 64

/* One per request; caller-owned. */
typedef struct wsp_request {
	const char *method;          /* REQUEST_METHOD ("GET" if absent) */
	char *path;                  /* REQUEST_URI without the query (owned) */
	const char *query;           /* QUERY_STRING or "" */
	const char *content_type;    /* CONTENT_TYPE or NULL */
	long long content_length;    /* CONTENT_LENGTH, -1 when absent or bad */
	const char *cookie;          /* HTTP_COOKIE or NULL */
	const char *authorization;   /* HTTP_AUTHORIZATION or NULL */
	char client_addr[WSP_ADDR_MAX]; /* see wsp_client_address */
	char limit_key[WSP_ADDR_MAX];   /* client_addr as the rate limits count it (wsp_limit_key) */
	int secure;                  /* came over HTTPS (see wsp_request_init) */
	char *body;                  /* NUL-terminated, owned; NULL before reading */
	size_t body_len;
} wsp_request;

/* Fill rq from the parameters.  Client address and `secure` follow one rule:
 * REMOTE_ADDR and HTTPS are trusted; X-Real-IP / X-Forwarded-For and
 * X-Forwarded-Proto only when REMOTE_ADDR is in `trusted` (the configured
 * trusted_proxies: a NULL-terminated list of addresses and CIDR blocks, NULL
 * or empty for none).  Returns 0 or WSP_ERR_NOMEM. */
int wsp_request_init(wsp_request *rq, wsp_param_fn param, void *ud, char *const *trusted);
void wsp_request_cleanup(wsp_request *rq);

/* Read the whole body (at most max bytes).  A declared or actual length over
 * max is WSP_ERR_TOOBIG (the rest is drained so the connection stays in
 * sync); a read error WSP_ERR_IO.  An empty body gives body = "" and 0. */
int wsp_request_read_body(wsp_request *rq, wsp_read_fn rd, void *ud, long max, wsp_error *err);

/* Discard what is left of the body (used when answering without reading it). */
void wsp_request_drain(wsp_read_fn rd, void *ud);

/* The value of cookie `name` and its length, or NULL. */
const char *wsp_request_cookie(const wsp_request *rq, const char *name, size_t *len);

/* The client address for remote_addr and the forwarding headers (any may be
 * NULL), by the rule above, into out (size WSP_ADDR_MAX): X-Real-IP if it is
 * an address, else the right-most X-Forwarded-For entry that is not itself a
 * trusted proxy, else REMOTE_ADDR ("unknown" if that is not an address). */
void wsp_client_address(const char *remote_addr, const char *x_real_ip, const char *xff,
			char *const *trusted, char *out, size_t outsz);

/* The key the per-address limits (failed logins, anonymous writes) count a
 * client address under, into out (size WSP_ADDR_MAX): an IPv6 address as
 * its /64 ("2001:db8:1:2::/64": one subscriber holds a whole /64 and could
 * take a fresh address for every try), an IPv4-mapped one as its IPv4
 * address, anything else as it is. */
void wsp_limit_key(const char *addr, char *out, size_t outsz);

#endif
