/* conntoken.c - see conntoken.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "b64url.h"
#include "conntoken.h"
#include "nspaths.h"
#include "secret.h"

#define SIG_LEN 32  /* HMAC-SHA256 */

/* Decode one part into a JSON object (new reference) or NULL. */
static json_t *part_json(const char *s, size_t n)
{
	unsigned char buf[WSP_CONNTOKEN_MAX];
	long len = wsp_b64url_decode(s, n, buf, sizeof(buf));
	json_t *j;

	if (len <= 0)
		return NULL;
	j = json_loadb((const char *)buf, (size_t)len, JSON_REJECT_DUPLICATES, NULL);
	if (j && !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static int hmac(const wsp_conntoken_key *k, const char *data, size_t n, unsigned char out[SIG_LEN])
{
	unsigned int olen = 0;

	if (!HMAC(EVP_sha256(), k->key, (int)k->len, (const unsigned char *)data, n, out, &olen) ||
	    olen != SIG_LEN)
		return -1;
	return 0;
}

/* A NumericDate claim: 0 absent, 1 read into *v, -1 wrong type. */
static int numeric_date(json_t *o, const char *name, long long *v)
{
	json_t *j = json_object_get(o, name);
	double d;

	if (!j)
		return 0;
	if (json_is_integer(j)) {
		*v = (long long)json_integer_value(j);
		return 1;
	}
	if (!json_is_real(j))
		return -1;
	d = json_real_value(j);
	if (!(d > -9.2e18 && d < 9.2e18))
		return -1;
	*v = (long long)d;   /* toward zero: the fraction of a positive time is cut off */
	return 1;
}

int wsp_conntoken_name_ok(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == ',')
			return 0;
	return 1;
}

static int path_ok(const char *s)
{
	size_t n = strlen(s), pl = sizeof(WSP_NAMESPACE_PREFIX) - 1;

	return n > pl && n <= WSP_CONNTOKEN_PATH_MAX && strncmp(s, WSP_NAMESPACE_PREFIX, pl) == 0;
}

static int claims(json_t *p, long long now, wsp_conntoken *out, wsp_error *err)
{
	json_t *sub = json_object_get(p, "sub"), *roles = json_object_get(p, "roles"),
	       *ns = json_object_get(p, "ns"), *v;
	long long exp = 0, nbf = 0, iat = 0;
	size_t i, o = 0;
	int r;

	if (!json_is_string(sub) || !wsp_conntoken_name_ok(json_string_value(sub), WSP_USERNAME_MAX))
		return wsp_error_set(err, WSP_ERR_INVALID, "token: sub missing or not a user name (1-%d bytes, no control characters)",
				     WSP_USERNAME_MAX);
	r = numeric_date(p, "exp", &exp);
	if (r <= 0)
		return wsp_error_set(err, WSP_ERR_INVALID, "token: exp %s", r ? "is not a number" : "missing");
	if (numeric_date(p, "nbf", &nbf) < 0 || numeric_date(p, "iat", &iat) < 0)
		return wsp_error_set(err, WSP_ERR_INVALID, "token: nbf or iat is not a number");
	out->roles[0] = '\0';
	if (roles) {
		if (!json_is_array(roles))
			return wsp_error_set(err, WSP_ERR_INVALID, "token: roles is not an array of strings");
		json_array_foreach(roles, i, v) {
			const char *s = json_string_value(v);
			size_t n = s ? strlen(s) : 0;

			if (!s || !wsp_conntoken_name_ok(s, WSP_USERNAME_MAX) || o + n + 1 > WSP_ROLES_MAX)
				return wsp_error_set(err, WSP_ERR_INVALID, "token: roles[%zu] is not a role name (or the roles are over %d bytes)",
						     i, WSP_ROLES_MAX);
			if (o)
				out->roles[o++] = ',';
			memcpy(out->roles + o, s, n + 1);
			o += n;
		}
	}
	out->nns = -1;
	if (ns) {
		if (!json_is_array(ns) || json_array_size(ns) > WSP_CONNTOKEN_NS_MAX)
			return wsp_error_set(err, WSP_ERR_INVALID, "token: ns is not an array of at most %d paths",
					     WSP_CONNTOKEN_NS_MAX);
		out->nns = 0;
		json_array_foreach(ns, i, v) {
			const char *s = json_string_value(v);

			if (!s || !path_ok(s))
				return wsp_error_set(err, WSP_ERR_INVALID, "token: ns[%zu] is not a path under " WSP_NAMESPACE_PREFIX, i);
			snprintf(out->ns[out->nns++], sizeof(out->ns[0]), "%s", s);
		}
	}
	snprintf(out->sub, sizeof(out->sub), "%s", json_string_value(sub));
	out->exp = exp;
	if (exp <= now)
		return wsp_error_set(err, WSP_ERR_EXPIRED, "token: expired %lld s ago", now - exp);
	if (nbf > now)
		return wsp_error_set(err, WSP_ERR_EXPIRED, "token: not valid before %lld (in %lld s)", nbf, nbf - now);
	if (iat > now)
		return wsp_error_set(err, WSP_ERR_EXPIRED, "token: issued in the future (iat %lld, %lld s ahead)", iat, iat - now);
	return 0;
}

int wsp_conntoken_verify(const wsp_conntoken_key *k, const char *tok, size_t len, long long now,
			 wsp_conntoken *out, wsp_error *err)
{
	const char *d1, *d2;
	unsigned char want[SIG_LEN], got[SIG_LEN + 3];
	json_t *h, *p;
	const char *alg;
	long sl;
	int rc;

	memset(out, 0, sizeof(*out));
	if (len == 0 || len > WSP_CONNTOKEN_MAX)
		return wsp_error_set(err, WSP_ERR_INVALID, "token: empty or over %d bytes", WSP_CONNTOKEN_MAX);
	d1 = memchr(tok, '.', len);
	d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - tok)) : NULL;
	if (!d1 || !d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - tok)))
		return wsp_error_set(err, WSP_ERR_INVALID, "token: malformed (not header.payload.signature)");
	h = part_json(tok, (size_t)(d1 - tok));
	if (!h)
		return wsp_error_set(err, WSP_ERR_INVALID, "token: malformed header (not base64url JSON object)");
	alg = json_string_value(json_object_get(h, "alg"));
	if (!alg || strcmp(alg, "HS256") != 0 || json_object_get(h, "crit")) {
		rc = wsp_error_set(err, WSP_ERR_INVALID, "token: alg %s%.16s%s refused (only HS256; no crit)",
				   alg ? "\"" : "", alg ? alg : "missing", alg ? "\"" : "");
		json_decref(h);
		return rc;
	}
	json_decref(h);
	sl = wsp_b64url_decode(d2 + 1, len - (size_t)(d2 + 1 - tok), got, sizeof(got));
	if (k->len == 0 || hmac(k, tok, (size_t)(d2 - tok), want) < 0)
		return wsp_error_set(err, WSP_ERR_INTERNAL, "token: no key or HMAC failed");
	if (sl != SIG_LEN || CRYPTO_memcmp(want, got, SIG_LEN) != 0)
		return wsp_error_set(err, WSP_ERR_INVALID, "token: bad signature");
	p = part_json(d1 + 1, (size_t)(d2 - d1 - 1));
	if (!p)
		return wsp_error_set(err, WSP_ERR_INVALID, "token: malformed payload (not base64url JSON object)");
	rc = claims(p, now, out, err);
	json_decref(p);
	return rc;
}

int wsp_conntoken_allows(const wsp_conntoken *t, const char *path)
{
	if (t->nns < 0)
		return 1;
	for (int i = 0; i < t->nns; i++) {
		size_t n = strlen(t->ns[i]);

		if (t->ns[i][n - 1] == '/' ? strncmp(path, t->ns[i], n) == 0 : strcmp(path, t->ns[i]) == 0)
			return 1;
	}
	return 0;
}

int wsp_conntoken_sign(const wsp_conntoken_key *k, const char *payload_json, char *out,
		       size_t outsz)
{
	static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	size_t pl = strlen(payload_json), o;
	unsigned char sig[SIG_LEN];

	if (outsz < (sizeof(header) + pl) * 4 / 3 + 64 || outsz > (size_t)1 << 30)
		return WSP_ERR_INVALID;
	o = wsp_b64url_encode((const unsigned char *)header, sizeof(header) - 1, out);
	out[o++] = '.';
	o += wsp_b64url_encode((const unsigned char *)payload_json, pl, out + o);
	if (hmac(k, out, o, sig) < 0)
		return WSP_ERR_INTERNAL;
	out[o++] = '.';
	o += wsp_b64url_encode(sig, SIG_LEN, out + o);
	return (int)o;
}

int wsp_conntoken_key_load(wsp_conntoken_key *k, const char *path, wsp_error *err)
{
	unsigned char buf[WSP_CONNTOKEN_KEY_MAX + 3];
	struct stat st;
	ssize_t n;
	size_t len;
	int fd;

	memset(k, 0, sizeof(*k));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return wsp_error_set(err, WSP_ERR_IO, "token secret file %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		close(fd);
		return wsp_error_set(err, WSP_ERR_IO, "token secret file %s: %s", path, strerror(errno));
	}
	/* The same owner and mode rules as secret_file (secret.h). */
	if (wsp_secret_check_stat(&st, path, "token secret file", err) < 0) {
		close(fd);
		return err ? err->code : WSP_ERR_FORBIDDEN;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0)
		return wsp_error_set(err, WSP_ERR_IO, "token secret file %s: %s", path, strerror(errno));
	len = (size_t)n;
	/* One "\n" and nothing else (conntoken.h): a site's JWT library is
	 * given the same text, byte for byte. */
	if (len && buf[len - 1] == '\n')
		len--;
	if (len < WSP_CONNTOKEN_KEY_MIN || len > WSP_CONNTOKEN_KEY_MAX) {
		explicit_bzero(buf, sizeof(buf));
		return wsp_error_set(err, WSP_ERR_INVALID,
				     "token secret file %s: need %d to %d bytes (openssl rand -hex 32 > %s)", path,
				     WSP_CONNTOKEN_KEY_MIN, WSP_CONNTOKEN_KEY_MAX, path);
	}
	memcpy(k->key, buf, len);
	k->len = len;
	explicit_bzero(buf, sizeof(buf));
	return 0;
}
