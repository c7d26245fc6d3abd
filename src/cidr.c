/* cidr.c - see cidr.h. */
#include "config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"

/* An address as 16 bytes (IPv4 mapped into ::ffff:0:0/96, so a mapped
 * IPv6 address and its IPv4 form are the same bytes) and how many bits a
 * prefix length written after it counts: 32 for IPv4 notation, 128 for IPv6. */
struct ip {
	unsigned char b[16];
	int bits;
};

static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static int parse_ip(const char *s, size_t n, struct ip *out)
{
	char tmp[64];
	struct in_addr a4;

	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (inet_pton(AF_INET, tmp, &a4) == 1) {
		memcpy(out->b, v4mapped, 12);
		memcpy(out->b + 12, &a4, 4);
		out->bits = 32;
		return 0;
	}
	if (inet_pton(AF_INET6, tmp, out->b) != 1)
		return -1;
	out->bits = 128;
	return 0;
}

/* Parse "addr[/len]" into the block's address and prefix length (counted
 * over all 128 bits).  -1 when it is not one. */
static int parse_block(const char *p, struct ip *net, int *prefix)
{
	const char *slash;
	char *end;
	long len;

	if (!p)
		return -1;
	slash = strchr(p, '/');
	if (parse_ip(p, slash ? (size_t)(slash - p) : strlen(p), net) < 0)
		return -1;
	if (!slash) {
		*prefix = 128;
		return 0;
	}
	if (slash[1] < '0' || slash[1] > '9')
		return -1;
	len = strtol(slash + 1, &end, 10);
	if (*end || len < 0 || len > net->bits)
		return -1;
	*prefix = (int)len + (128 - net->bits);
	return 0;
}

char *const wsp_cidr_loopback[] = { "127.0.0.0/8", "::1", NULL };

int wsp_cidr_valid(const char *entry)
{
	struct ip net;
	int prefix;

	return (entry && strcmp(entry, "unix") == 0) || parse_block(entry, &net, &prefix) == 0;
}

int wsp_cidr_match(const char *addr, const char *entry)
{
	struct ip a, net;
	int prefix, full, rest;

	if (!addr || !*addr)
		return entry && strcmp(entry, "unix") == 0;
	if (parse_ip(addr, strlen(addr), &a) < 0 || parse_block(entry, &net, &prefix) < 0)
		return 0;
	full = prefix / 8;
	rest = prefix % 8;
	if (memcmp(a.b, net.b, (size_t)full) != 0)
		return 0;
	if (rest) {
		unsigned char mask = (unsigned char)(0xff << (8 - rest));

		if ((a.b[full] & mask) != (net.b[full] & mask))
			return 0;
	}
	return 1;
}

int wsp_cidr_match_any(const char *addr, char *const *list)
{
	for (; list && *list; list++)
		if (wsp_cidr_match(addr, *list))
			return 1;
	return 0;
}
