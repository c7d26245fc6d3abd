/* query.c - see query.h. */
#include "config.h"

#include <string.h>

#include "error.h"
#include "query.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int wsp_query_get(const char *qs, const char *key, char *out, size_t outsz)
{
	size_t kl = strlen(key);
	const char *p = qs;

	while (p && *p) {
		const char *end = p + strcspn(p, "&;");

		if ((size_t)(end - p) >= kl && memcmp(p, key, kl) == 0 && (p[kl] == '=' || p + kl == end)) {
			const char *v = p + kl + (p + kl < end);
			size_t o = 0;

			while (v < end) {
				int c = (unsigned char)*v;

				if (c == '%') {
					int h, l;

					if (end - v < 3 || (h = hexval(v[1])) < 0 || (l = hexval(v[2])) < 0)
						return WSP_ERR_INVALID;
					c = h * 16 + l;
					if (!c)
						return WSP_ERR_INVALID;
					v += 3;
				} else {
					if (c == '+')
						c = ' ';
					v++;
				}
				if (o + 1 >= outsz)
					return WSP_ERR_TOOBIG;
				out[o++] = (char)c;
			}
			out[o] = '\0';
			return (int)o;
		}
		p = *end ? end + 1 : end;
	}
	return -1;
}

int wsp_query_id(const char *s, long long *id)
{
	long long v = 0;

	if (!s || !*s)
		return WSP_ERR_INVALID;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return WSP_ERR_INVALID;
		v = v * 10 + (*s - '0');
		if (v > (1LL << 53))
			return WSP_ERR_INVALID;
	}
	*id = v;
	return 0;
}
