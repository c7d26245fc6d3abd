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
 * Client address for per-address limits: X-Real-IP, else the last entry of
 * X-Forwarded-For, but ONLY when the socket peer is a local proxy (loopback
 * or a unix socket); any other peer could forge those headers.
 */
#ifndef WSP_ACCESS_H
#define WSP_ACCESS_H

#include <stddef.h>

/* 1 if allowed, 0 if not.  origin/host may be NULL (absent header). */
int wsp_origin_allowed(const char *origin, const char *host, char *const *allowed, int nallowed);

/* 1 if `peer` is a loopback address ("127.x.y.z", "::1", "::ffff:127...")
 * or empty (unix socket). */
int wsp_peer_is_local(const char *peer);

/* Write the client address to out (always NUL-terminated) and return out.
 * xreal / xff are the header values or NULL. */
const char *wsp_client_ip(const char *peer, const char *xreal, const char *xff, char *out,
			  size_t outsz);

/* 1 if `addr` (an IPv4 or IPv6 address; "::ffff:a.b.c.d" counts as
 * a.b.c.d) is in one of the n entries of `list`: an address or a CIDR
 * network ("10.0.0.0/8", "fd00::/8").  With n == 0 the list is the loopback
 * networks (127.0.0.0/8 and ::1).  A malformed entry matches nothing. */
int wsp_addr_allowed(const char *addr, char *const *list, int n);

/* Trusted front servers (trusted_proxy_auth).  An entry of trusted_proxies
 * (the key wspulse.fcgi reads for X-Real-IP) is an IPv4 or IPv6 address or
 * CIDR block (src/cidr.h), or "unix" for connections over a unix socket (an
 * empty peer).  1 if valid. */
int wsp_proxy_entry_valid(const char *entry);

/* 1 if `peer` (as lws_get_peer_simple gives it: "" for a unix socket)
 * matches an entry of the n in list (n == 0: nothing is trusted, unlike
 * wsp_addr_allowed's loopback default). */
int wsp_peer_trusted(const char *peer, char *const *list, int n);

/* 1 if s can be a user name from a trusted front server or a connection
 * token: 1..max bytes, no control characters, no comma. */
int wsp_header_name_ok(const char *s, size_t max);

#endif
