/* validate.c - see validate.h. */
#include "config.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "nspaths.h"
#include "validate.h"

/* Length of the UTF-8 sequence at s (n bytes left) or 0 if invalid; the
 * code point goes to *cp. */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c;
	size_t len;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		len = 2;
		c = s[0] & 0x1F;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		len = 3;
		c = s[0] & 0x0F;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		len = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
	    (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
}

int wsp_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;

	for (size_t i = 0; i < len;) {
		size_t l = utf8_seq(p + i, len - i, &cp);

		if (!l)
			return 0;
		i += l;
	}
	return 1;
}

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

int wsp_valid_todo_title(const char *s, size_t len, char *out, size_t outsz, wsp_error *err)
{
	const unsigned char *p;
	size_t chars = 0;
	uint32_t cp;

	while (len && is_ws(*s)) {
		s++;
		len--;
	}
	while (len && is_ws(s[len - 1]))
		len--;
	if (len == 0)
		return wsp_error_set(err, WSP_ERR_INVALID, "Title is required");
	p = (const unsigned char *)s;
	for (size_t i = 0; i < len;) {
		size_t l = utf8_seq(p + i, len - i, &cp);

		if (!l)
			return wsp_error_set(err, WSP_ERR_INVALID, "Title is not valid UTF-8");
		if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0))
			return wsp_error_set(err, WSP_ERR_INVALID, "Title must not contain control characters");
		i += l;
		if (++chars > WSP_TODO_TITLE_MAX)
			return wsp_error_set(err, WSP_ERR_INVALID,
					     "Title must be at most %d characters", WSP_TODO_TITLE_MAX);
	}
	if (len + 1 > outsz)
		return wsp_error_set(err, WSP_ERR_INVALID, "Title is too long");
	memcpy(out, s, len);
	out[len] = '\0';
	return 0;
}

int wsp_parse_id(const char *s, size_t len, long long *out)
{
	unsigned long long v = 0;

	if (!s || len == 0 || len > 19 || s[0] == '0')
		return WSP_ERR_INVALID;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return WSP_ERR_INVALID;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > (unsigned long long)INT64_MAX)
		return WSP_ERR_INVALID;
	*out = (long long)v;
	return 0;
}

static int all_in(const char *s, size_t n, const char *extra)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      (c && strchr(extra, c))))
			return 0;
	}
	return 1;
}

int wsp_valid_username(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n >= 1 && n <= 64 && all_in(s, n, "_.@-");
}

int wsp_valid_client_id(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n >= 1 && n <= WSP_CLIENT_ID_MAX && all_in(s, n, "_-");
}

int wsp_valid_namespace(const char *s)
{
	static const char prefix[] = WSP_NAMESPACE_PREFIX;
	size_t n = s ? strlen(s) : 0;
	const char *p;

	if (n <= sizeof(prefix) - 1 || n > WSP_NAMESPACE_MAX ||
	    strncmp(s, prefix, sizeof(prefix) - 1) != 0 || !all_in(s, n, "_.~/-"))
		return 0;
	/* Every segment after the prefix: non-empty, not "." or "..". */
	p = s + sizeof(prefix) - 1;
	for (;;) {
		size_t l = strcspn(p, "/");

		if (l == 0 || (l == 1 && p[0] == '.') || (l == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (!p[l])
			return 1;
		p += l + 1;
	}
}

int wsp_content_type_is_json(const char *ct)
{
	static const char want[] = "application/json";
	size_t n = sizeof(want) - 1;

	if (!ct)
		return 0;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, want, n) != 0)
		return 0;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

const char *wsp_bearer_token(const char *authz, size_t *len)
{
	size_t n;

	if (!authz)
		return NULL;
	while (*authz == ' ')
		authz++;
	if (strncasecmp(authz, "Bearer", 6) != 0 || (authz[6] != ' ' && authz[6] != '\t'))
		return NULL;
	authz += 6;
	while (*authz == ' ' || *authz == '\t')
		authz++;
	n = strlen(authz);
	while (n && (authz[n - 1] == ' ' || authz[n - 1] == '\t'))
		n--;
	if (!n)
		return NULL;
	*len = n;
	return authz;
}

int wsp_query_long(const char *query, const char *name, long min, long max, long *out)
{
	size_t n = strlen(name);
	const char *p = query;

	while (p && *p) {
		const char *end = p + strcspn(p, "&");

		if ((size_t)(end - p) > n && strncmp(p, name, n) == 0 && p[n] == '=') {
			const char *v = p + n + 1;
			long long x = 0;

			if (v == end || end - v > 18)
				return -1;
			for (; v < end; v++) {
				if (*v < '0' || *v > '9')
					return -1;
				x = x * 10 + (*v - '0');
			}
			if (x < min || x > max)
				return -1;
			*out = (long)x;
			return 1;
		}
		if ((size_t)(end - p) == n && strncmp(p, name, n) == 0)
			return -1;   /* "name" without a value */
		p = *end ? end + 1 : end;
	}
	return 0;
}
