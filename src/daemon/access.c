/* access.c - see access.h. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

const char *wsp_client_ip(const char *peer, const char *xreal, const char *xff, char *const *trusted,
			  char *out, size_t outsz)
{
	if (wsp_cidr_match_any(peer, trusted)) {
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
