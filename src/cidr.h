/* cidr.h - match a client address against IP addresses and CIDR blocks.
 *
 * Used for `trusted_proxies`: the peers whose X-Real-IP / X-Forwarded-For /
 * X-Forwarded-Proto headers are believed.  Pure functions, no allocation.
 * An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is treated as the IPv4
 * address it carries, on either side.
 */
#ifndef WSP_CIDR_H
#define WSP_CIDR_H

/* 1 if pattern is an IPv4/IPv6 address or an address/prefix-length block
 * ("10.0.0.0/8", "::1", "fd00::/8"); 0 otherwise (NULL included). */
int wsp_cidr_valid(const char *pattern);

/* 1 if addr (a literal IP address) lies in pattern; 0 if not, or if either
 * is not valid. */
int wsp_cidr_match(const char *addr, const char *pattern);

/* 1 if addr matches any entry of the NULL-terminated list (NULL: none). */
int wsp_cidr_match_any(const char *addr, char *const *patterns);

#endif
