/* nsreg.c - see nsreg.h. */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include "alloc.h"
#include "nsreg.h"
#include "nspaths.h"

int wsp_ns_path_check(const char *path, wsp_error *err)
{
	size_t pl = strlen(WSP_NAMESPACE_PREFIX), n;
	const char *seg;

	if (!path)
		return wsp_error_set(err, WSP_ERR_INVALID, "namespace path missing");
	n = strlen(path);
	if (strncmp(path, WSP_NAMESPACE_PREFIX, pl) != 0)
		return wsp_error_set(err, WSP_ERR_INVALID, "namespace path '%.200s' must start with %s",
				     path, WSP_NAMESPACE_PREFIX);
	if (n == pl)
		return wsp_error_set(err, WSP_ERR_INVALID, "namespace path '%s' has no name after %s",
				     path, WSP_NAMESPACE_PREFIX);
	if (n > WSP_NS_PATH_MAX)
		return wsp_error_set(err, WSP_ERR_INVALID, "namespace path longer than %d bytes",
				     WSP_NS_PATH_MAX);
	seg = path + pl;
	for (;;) {
		size_t sl = strcspn(seg, "/");

		if (sl == 0 || (sl == 1 && seg[0] == '.') || (sl == 2 && seg[0] == '.' && seg[1] == '.'))
			return wsp_error_set(err, WSP_ERR_INVALID,
					     "namespace path '%s' has an empty, '.' or '..' segment", path);
		for (size_t i = 0; i < sl; i++)
			if (!isalnum((unsigned char)seg[i]) && !strchr("._~-", seg[i]))
				return wsp_error_set(err, WSP_ERR_INVALID,
						     "namespace path '%s' may only hold A-Z a-z 0-9 . _ ~ - and /",
						     path);
		if (!seg[sl])
			break;
		seg += sl + 1;
	}
	return 0;
}

int wsp_nsreg_add(wsp_nsreg *r, const char *path, void *ns, wsp_error *err)
{
	int rc = wsp_ns_path_check(path, err);
	char *copy;

	if (rc < 0)
		return rc;
	if (wsp_nsreg_find(r, path, strlen(path)))
		return wsp_error_set(err, WSP_ERR_EXISTS, "namespace %s is already registered", path);
	if (r->n == r->cap) {
		int ncap = r->cap ? r->cap * 2 : 8;
		void *v = wsp_realloc(r->v, sizeof(*r->v) * (size_t)ncap);

		if (!v)
			return wsp_error_set(err, WSP_ERR_NOMEM, "out of memory");
		r->v = v;
		r->cap = ncap;
	}
	copy = wsp_strdup(path);
	if (!copy)
		return wsp_error_set(err, WSP_ERR_NOMEM, "out of memory");
	r->v[r->n].path = copy;
	r->v[r->n].ns = ns;
	r->n++;
	return 0;
}

void *wsp_nsreg_find(const wsp_nsreg *r, const char *path, size_t len)
{
	for (int i = 0; i < r->n; i++)
		if (strlen(r->v[i].path) == len && memcmp(r->v[i].path, path, len) == 0)
			return r->v[i].ns;
	return NULL;
}

void wsp_nsreg_cleanup(wsp_nsreg *r)
{
	for (int i = 0; i < r->n; i++)
		wsp_free(r->v[i].path);
	wsp_free(r->v);
	memset(r, 0, sizeof(*r));
}

char **wsp_strv_split(const char *s, char sep)
{
	size_t n = 1;
	char **v;
	int k = 0;

	for (const char *p = s; *p; p++)
		n += *p == sep;
	v = wsp_calloc(n + 1, sizeof(*v));
	if (!v)
		return NULL;
	while (*s) {
		size_t l = strcspn(s, (char[]){ sep, '\0' });

		if (l) {
			v[k] = wsp_strndup(s, l);
			if (!v[k]) {
				wsp_strv_free(v);
				return NULL;
			}
			k++;
		}
		s += l;
		if (*s)
			s++;
	}
	return v;
}

static int onoff(const char *v, bool *out)
{
	if (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1"))
		*out = true;
	else if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "0"))
		*out = false;
	else
		return -1;
	return 0;
}

int wsp_nsdef_parse(const char *line, wsp_nsdef *def, wsp_error *err)
{
	char **w = wsp_strv_split(line, ' ');
	int rc = 0;

	memset(def, 0, sizeof(*def));
	if (!w)
		return wsp_error_set(err, WSP_ERR_NOMEM, "out of memory");
	if (!w[0]) {
		rc = wsp_error_set(err, WSP_ERR_INVALID, "namespace: missing path");
		goto out;
	}
	if ((rc = wsp_ns_path_check(w[0], err)) < 0)
		goto out;
	def->path = wsp_strdup(w[0]);
	if (!def->path) {
		rc = wsp_error_set(err, WSP_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (int i = 1; w[i]; i++) {
		char *eq = strchr(w[i], '=');

		if (!eq) {
			rc = wsp_error_set(err, WSP_ERR_INVALID, "namespace %s: expected opt=value, got '%.40s'",
					   def->path, w[i]);
			goto out;
		}
		*eq = '\0';
		if (!strcmp(w[i], "auth") && onoff(eq + 1, &def->require_auth) == 0)
			continue;
		if (!strcmp(w[i], "history") && onoff(eq + 1, &def->history) == 0)
			continue;
		if (!strcmp(w[i], "roles") && !def->roles) {
			def->roles = wsp_strv_split(eq + 1, ',');
			if (!def->roles) {
				rc = wsp_error_set(err, WSP_ERR_NOMEM, "out of memory");
				goto out;
			}
			continue;
		}
		rc = wsp_error_set(err, WSP_ERR_INVALID,
				   "namespace %s: unknown option '%.40s=%.40s' (auth=on|off, roles=a,b, history=on|off)",
				   def->path, w[i], eq + 1);
		goto out;
	}
	/* Roles imply a login. */
	if (def->roles && def->roles[0])
		def->require_auth = true;
out:
	wsp_strv_free(w);
	if (rc < 0)
		wsp_nsdef_cleanup(def);
	return rc;
}

void wsp_nsdef_cleanup(wsp_nsdef *def)
{
	wsp_free(def->path);
	wsp_strv_free(def->roles);
	memset(def, 0, sizeof(*def));
}
