/* router.c - see router.h. */
#include "config.h"

#include <string.h>

#include "router.h"

/* Match one pattern against path; fills params on success. */
static int match_pattern(const char *pat, const char *path, wsp_route_match *m)
{
	m->nparams = 0;
	for (;;) {
		size_t pl, sl;

		if (*pat != '/' || *path != '/')
			return *pat == *path;  /* both at the end */
		pat++;
		path++;
		pl = strcspn(pat, "/");
		sl = strcspn(path, "/");
		if (pl > 0 && pat[0] == ':') {
			if (sl == 0 || m->nparams >= WSP_ROUTE_PARAMS_MAX)
				return 0;
			m->params[m->nparams].name = pat + 1;
			m->params[m->nparams].name_len = pl - 1;
			m->params[m->nparams].value = path;
			m->params[m->nparams].len = sl;
			m->nparams++;
		} else if (pl != sl || memcmp(pat, path, pl) != 0) {
			return 0;
		}
		pat += pl;
		path += sl;
	}
}

static void allow_add(wsp_route_match *m, const char *method)
{
	size_t len = strlen(m->allow), ml = strlen(method);
	const char *p = m->allow;

	/* Skip duplicates: compare whole comma-separated items. */
	while (*p) {
		size_t il = strcspn(p, ",");

		if (il == ml && memcmp(p, method, ml) == 0)
			return;
		p += il;
		while (*p == ',' || *p == ' ')
			p++;
	}
	if (len + ml + 3 > sizeof(m->allow))
		return;
	if (len) {
		memcpy(m->allow + len, ", ", 2);
		len += 2;
	}
	memcpy(m->allow + len, method, ml + 1);
}

int wsp_router_match(const wsp_route *table, size_t n, const char *method, const char *path,
		     wsp_route_match *m)
{
	wsp_route_match tmp;
	int path_seen = 0;

	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < n; i++) {
		if (!match_pattern(table[i].pattern, path, &tmp))
			continue;
		if (strcmp(table[i].method, method) == 0) {
			memcpy(m->params, tmp.params, sizeof(m->params));
			m->nparams = tmp.nparams;
			m->route = &table[i];
			m->allow[0] = '\0';
			return WSP_ROUTE_FOUND;
		}
		path_seen = 1;
		allow_add(m, table[i].method);
	}
	return path_seen ? WSP_ROUTE_BAD_METHOD : WSP_ROUTE_NOT_FOUND;
}

const char *wsp_route_param(const wsp_route_match *m, const char *name, size_t *len)
{
	size_t nl = strlen(name);

	for (int i = 0; i < m->nparams; i++) {
		if (m->params[i].name_len == nl && memcmp(m->params[i].name, name, nl) == 0) {
			if (len)
				*len = m->params[i].len;
			return m->params[i].value;
		}
	}
	return NULL;
}
