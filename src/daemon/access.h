/* access.h - who may open a socket: the Origin rule and the client address.
 *
 * Origin: browsers send an Origin header with every WebSocket handshake, so
 * checking it stops other sites' pages from opening sockets with the user's
 * cookie (cross-site WebSocket hijacking).  With `allowed_origins` set, the
 * Origin must equal one of them ("*" allows any); with the list empty, the
 * Origin's host[:port] must equal the Host header (the shipped nginx config
 * forwards `Host: $http_host`).  Default ports (:80, :443) are ignored on
 * both sides.  A request with no Origin header (not a browser: curl, a
 * server-side client) is allowed; the literal "null" origin is not.
 *
 * Client address for per-address limits and logs: X-Real-IP, else the last
 * entry of X-Forwarded-For, but ONLY when the socket peer is in
 * trusted_proxies (src/cidr.h; "unix" for a unix socket); any other peer,
 * loopback included, could forge those headers.
 */
#ifndef WSP_ACCESS_H
#define WSP_ACCESS_H

#include <stddef.h>

/* 1 if allowed, 0 if not.  origin/host may be NULL (absent header). */
int wsp_origin_allowed(const char *origin, const char *host, char *const *allowed, int nallowed);

/* Write the client address to out (always NUL-terminated) and return out.
 * peer is the socket's address ("" for a unix socket); xreal / xff are the
 * header values or NULL, believed only when peer matches an entry of the
 * NULL-terminated trusted list (NULL: none). */
const char *wsp_client_ip(const char *peer, const char *xreal, const char *xff, char *const *trusted,
			  char *out, size_t outsz);

#endif
