/* cidr.h - the one address matcher: is a peer in a list of addresses, CIDR
 * blocks and `unix`?
 *
 * Serves every key that names peers: `trusted_proxies` (wspulse.fcgi's and
 * wspulsed's X-Real-IP / X-Forwarded-For trust, wspulsed's
 * trusted_proxy_auth) and `metrics_allow`.  An entry is an IPv4 or IPv6
 * address ("10.0.0.5", "::1"), a block ("10.0.0.0/8", "fd00::/8"), or the
 * word "unix", which stands for a peer on a unix socket: an empty (or NULL)
 * peer address, as lws_get_peer_simple gives it.  An IPv4-mapped IPv6
 * address (::ffff:a.b.c.d) is the IPv4 address it carries, on either side.
 * Pure functions, no allocation.
 */
#ifndef WSP_CIDR_H
#define WSP_CIDR_H

/* 1 if entry is an address, an address/prefix-length block or "unix";
 * 0 otherwise (NULL and "" included). */
int wsp_cidr_valid(const char *entry);

/* 1 if addr lies in entry: a literal IP address inside the block, or an
 * empty / NULL addr (a unix-socket peer) against "unix".  0 if not, or if
 * the entry is not valid. */
int wsp_cidr_match(const char *addr, const char *entry);

/* 1 if addr matches any entry of the NULL-terminated list (NULL: none). */
int wsp_cidr_match_any(const char *addr, char *const *list);

/* The loopback networks, NULL-terminated: metrics_allow's default. */
extern char *const wsp_cidr_loopback[];

#endif
