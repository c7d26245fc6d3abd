/* token.c - see token.h. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "b64url.h"
#include "token.h"

int wsp_ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	if (alen != blen)
		return 0;
	return CRYPTO_memcmp(a, b, alen) == 0;
}

static int mac(const wsp_secret *s, const char *data, size_t len, unsigned char out[32])
{
	unsigned int outlen = 32;

	return HMAC(EVP_sha256(), s->key, (int)s->len, (const unsigned char *)data, len, out,
		    &outlen) ? 0 : WSP_ERR_INTERNAL;
}

static int valid_sid(const char *sid, size_t n)
{
	if (n != WSP_SID_LEN)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdef", sid[i]) || !sid[i])
			return 0;
	return 1;
}

int wsp_token_sign(const wsp_secret *s, const wsp_token *t, char *out, size_t outsz)
{
	char u[WSP_USERNAME_MAX * 2], r[WSP_ROLES_MAX * 2], sig[64];
	unsigned char m[32];
	size_t ulen = strlen(t->username), rlen = strlen(t->roles);
	int n;

	if (!valid_sid(t->sid, strlen(t->sid)) || ulen == 0 || ulen > WSP_USERNAME_MAX ||
	    rlen > WSP_ROLES_MAX || outsz < WSP_TOKEN_MAX)
		return WSP_ERR_INVALID;
	wsp_b64url_encode((const unsigned char *)t->username, ulen, u);
	wsp_b64url_encode((const unsigned char *)t->roles, rlen, r);
	n = snprintf(out, outsz, "v1.%s.%lld.%s.%s", t->sid, t->exp, u, r);
	if (n < 0 || (size_t)n + 50 > outsz)
		return WSP_ERR_INVALID;
	if (mac(s, out, (size_t)n, m) < 0)
		return WSP_ERR_INTERNAL;
	wsp_b64url_encode(m, sizeof(m), sig);
	n += snprintf(out + n, outsz - (size_t)n, ".%s", sig);
	return n;
}

int wsp_token_verify(const wsp_secret *s, const char *str, size_t len, long long now,
		     wsp_token *t)
{
	const char *field[6];
	size_t flen[6];
	unsigned char m[32], given[40];
	size_t start = 0;
	int nf = 0;
	long n;
	long long exp = 0;

	memset(t, 0, sizeof(*t));
	if (len > WSP_TOKEN_MAX || s->len == 0)
		return WSP_ERR_INVALID;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || str[i] == '.') {
			if (nf == 6)
				return WSP_ERR_INVALID;
			field[nf] = str + start;
			flen[nf++] = i - start;
			start = i + 1;
		}
	}
	if (nf != 6 || flen[0] != 2 || memcmp(field[0], "v1", 2) != 0)
		return WSP_ERR_INVALID;
	/* Check the signature before trusting any field. */
	if (mac(s, str, (size_t)(field[5] - 1 - str), m) < 0)
		return WSP_ERR_INTERNAL;
	n = wsp_b64url_decode(field[5], flen[5], given, sizeof(given));
	if (n != 32 || !wsp_ct_equal(m, 32, given, 32))
		return WSP_ERR_INVALID;
	if (!valid_sid(field[1], flen[1]) || flen[2] == 0 || flen[2] > 18)
		return WSP_ERR_INVALID;
	for (size_t i = 0; i < flen[2]; i++) {
		if (field[2][i] < '0' || field[2][i] > '9')
			return WSP_ERR_INVALID;
		exp = exp * 10 + (field[2][i] - '0');
	}
	memcpy(t->sid, field[1], WSP_SID_LEN);
	t->exp = exp;
	n = wsp_b64url_decode(field[3], flen[3], (unsigned char *)t->username, WSP_USERNAME_MAX);
	if (n <= 0 || memchr(t->username, '\0', (size_t)n))
		return WSP_ERR_INVALID;
	t->username[n] = '\0';
	n = wsp_b64url_decode(field[4], flen[4], (unsigned char *)t->roles, WSP_ROLES_MAX);
	if (n < 0 || memchr(t->roles, '\0', (size_t)n))
		return WSP_ERR_INVALID;
	t->roles[n] = '\0';
	if (exp <= now)
		return WSP_ERR_EXPIRED;
	return 0;
}

int wsp_roles_has(const char *roles, const char *role)
{
	size_t rl = strlen(role);
	const char *p = roles;

	if (!rl)
		return 0;
	while (p && *p) {
		const char *c = strchr(p, ',');
		size_t n = c ? (size_t)(c - p) : strlen(p);

		if (n == rl && memcmp(p, role, rl) == 0)
			return 1;
		p = c ? c + 1 : NULL;
	}
	return 0;
}

const char *wsp_cookie_find(const char *header, const char *name, size_t *len)
{
	size_t nl = strlen(name);
	const char *p = header;

	while (p && *p) {
		const char *end;

		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		end = strchr(p, ';');
		if (!end)
			end = p + strlen(p);
		if ((size_t)(end - p) > nl && memcmp(p, name, nl) == 0 && p[nl] == '=') {
			const char *v = p + nl + 1;
			size_t n = (size_t)(end - v);

			while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
				n--;
			if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
				v++;
				n -= 2;
			}
			*len = n;
			return v;
		}
		p = *end ? end + 1 : end;
	}
	return NULL;
}
