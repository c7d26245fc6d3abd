/* access.c - see access.h. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <strings.h>

#include "access.h"
#include "cidr.h"

/* Copy host[:port] lower-cased into out, dropping a default port. */
static void norm_hostport(const char *s, size_t n, const char *scheme, char *out, size_t outsz)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 1 < outsz; i++)
		out[o++] = (char)tolower((unsigned char)s[i]);
	out[o] = '\0';
	if (o > 3 && strcmp(out + o - 3, ":80") == 0 && (!scheme || strcmp(scheme, "http") == 0))
		out[o - 3] = '\0';
	else if (o > 4 && strcmp(out + o - 4, ":443") == 0 && (!scheme || strcmp(scheme, "https") == 0))
		out[o - 4] = '\0';
}

int wsp_origin_allowed(const char *origin, const char *host, char *const *allowed, int nallowed)
{
	char o_host[256], h_host[256], scheme[16];
	const char *p, *hp;
	size_t sl, hl;

	if (!origin)
		return 1;
	if (nallowed > 0) {
		size_t ol = strlen(origin);

		while (ol && origin[ol - 1] == '/')
			ol--;
		for (int i = 0; i < nallowed; i++) {
			size_t al = strlen(allowed[i]);

			while (al && allowed[i][al - 1] == '/')
				al--;
			if (strcmp(allowed[i], "*") == 0 ||
			    (al == ol && strncasecmp(allowed[i], origin, ol) == 0))
				return 1;
		}
		return 0;
	}
	if (!host || !*host)
		return 0;
	p = strstr(origin, "://");
	if (!p)
		return 0;
	sl = (size_t)(p - origin);
	if (sl == 0 || sl >= sizeof(scheme))
		return 0;
	for (size_t i = 0; i < sl; i++)
		scheme[i] = (char)tolower((unsigned char)origin[i]);
	scheme[sl] = '\0';
	hp = p + 3;
	hl = strcspn(hp, "/?#");
	if (!hl || hl >= sizeof(o_host) || strlen(host) >= sizeof(h_host))
		return 0;
	norm_hostport(hp, hl, scheme, o_host, sizeof(o_host));
	norm_hostport(host, strlen(host), NULL, h_host, sizeof(h_host));
	return strcmp(o_host, h_host) == 0;
}

int wsp_peer_is_local(const char *peer)
{
	if (!peer || !*peer)
		return 1;
	return strncmp(peer, "127.", 4) == 0 || strcmp(peer, "::1") == 0 ||
	       strncasecmp(peer, "::ffff:127.", 11) == 0;
}

static size_t trim_copy(const char *s, size_t n, char *out, size_t outsz)
{
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (n >= outsz)
		n = outsz - 1;
	memcpy(out, s, n);
	out[n] = '\0';
	return n;
}

const char *wsp_client_ip(const char *peer, const char *xreal, const char *xff, char *out,
			  size_t outsz)
{
	if (wsp_peer_is_local(peer)) {
		if (xreal && trim_copy(xreal, strlen(xreal), out, outsz))
			return out;
		if (xff && *xff) {
			const char *last = strrchr(xff, ',');

			last = last ? last + 1 : xff;
			if (trim_copy(last, strlen(last), out, outsz))
				return out;
		}
	}
	snprintf(out, outsz, "%s", peer && *peer ? peer : "local");
	return out;
}

/* Parse an address (IPv4-mapped IPv6 as IPv4) into 16 bytes; *bits is 32
 * for IPv4 (in the first 4 bytes), 128 for IPv6.  0 on success. */
static int parse_addr(const char *s, unsigned char out[16], int *bits)
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, s, out) == 1) {
		*bits = 32;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out) != 1)
		return -1;
	*bits = 128;
	if (memcmp(out, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
		memmove(out, out + 12, 4);
		memset(out + 4, 0, 12);
		*bits = 32;
	}
	return 0;
}

static int in_net(const unsigned char a[16], int abits, const char *entry)
{
	char host[64];
	const char *slash = strchr(entry, '/');
	size_t hl = slash ? (size_t)(slash - entry) : strlen(entry);
	unsigned char net[16];
	int nbits, plen;

	if (hl >= sizeof(host))
		return 0;
	memcpy(host, entry, hl);
	host[hl] = '\0';
	if (parse_addr(host, net, &nbits) < 0 || nbits != abits)
		return 0;
	plen = nbits;
	if (slash) {
		char *end;
		long v = strtol(slash + 1, &end, 10);

		if (end == slash + 1 || *end || v < 0 || v > nbits)
			return 0;
		plen = (int)v;
	}
	for (int i = 0; i < plen / 8; i++)
		if (a[i] != net[i])
			return 0;
	if (plen % 8) {
		unsigned char mask = (unsigned char)(0xff << (8 - plen % 8));

		if ((a[plen / 8] & mask) != (net[plen / 8] & mask))
			return 0;
	}
	return 1;
}

int wsp_addr_allowed(const char *addr, char *const *list, int n)
{
	static char *const loopback[] = { "127.0.0.0/8", "::1" };
	unsigned char a[16];
	int bits;

	if (!addr || parse_addr(addr, a, &bits) < 0)
		return 0;
	if (n == 0) {
		list = loopback;
		n = 2;
	}
	for (int i = 0; i < n; i++)
		if (in_net(a, bits, list[i]))
			return 1;
	return 0;
}

/* trusted_proxies is one key with wspulse.fcgi (X-Real-IP trust): its
 * entries are read by src/cidr.h, plus "unix" for the daemon. */
int wsp_proxy_entry_valid(const char *entry)
{
	return entry && (strcmp(entry, "unix") == 0 || wsp_cidr_valid(entry));
}

int wsp_peer_trusted(const char *peer, char *const *list, int n)
{
	int unix_peer = !peer || !*peer;

	for (int i = 0; i < n; i++) {
		if (strcmp(list[i], "unix") == 0) {
			if (unix_peer)
				return 1;
		} else if (!unix_peer && wsp_cidr_match(peer, list[i])) {
			return 1;
		}
	}
	return 0;
}

int wsp_header_name_ok(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == ',')
			return 0;
	return 1;
}
