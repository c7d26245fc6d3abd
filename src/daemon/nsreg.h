/* nsreg.h - namespace paths: the rules, the registry, config declarations.
 *
 * Every namespace path starts with /api/1/ws/ (WSP_NAMESPACE_PREFIX), has a
 * non-empty name after it made of [A-Za-z0-9._~-] segments separated by
 * single '/', no "." or ".." segment, no trailing '/', and at most 200
 * bytes.  A path is registered once.  The registry maps a path to an opaque
 * pointer (the daemon's wsp_namespace) and knows nothing else about it.
 *
 * Config declaration (key `namespace`):  PATH [auth=on|off] [roles=a,b]
 * [history=on|off]  -- a code-free, REST-fed namespace.
 */
#ifndef WSP_NSREG_H
#define WSP_NSREG_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define WSP_NS_PATH_MAX 200

/* 0 if path is a valid namespace path, else WSP_ERR_INVALID with why. */
int wsp_ns_path_check(const char *path, wsp_error *err);

/* Caller-owned; zero-initialise. */
typedef struct wsp_nsreg {
	struct { char *path; void *ns; } *v;
	int n, cap;
} wsp_nsreg;

/* Register path -> ns.  0, WSP_ERR_INVALID (bad path), WSP_ERR_EXISTS
 * (registered already) or WSP_ERR_NOMEM; err says which, naming the path. */
int wsp_nsreg_add(wsp_nsreg *r, const char *path, void *ns, wsp_error *err);
/* The ns of path[0..len), or NULL. */
void *wsp_nsreg_find(const wsp_nsreg *r, const char *path, size_t len);
void wsp_nsreg_cleanup(wsp_nsreg *r);

/* A parsed `namespace =` line; caller-owned, wsp_nsdef_cleanup frees. */
typedef struct wsp_nsdef {
	char *path;
	bool require_auth;
	bool history;
	char **roles;               /* NULL-terminated, or NULL for none */
} wsp_nsdef;

/* Parse one declaration.  0, or WSP_ERR_INVALID/NOMEM with the reason. */
int wsp_nsdef_parse(const char *line, wsp_nsdef *def, wsp_error *err);
void wsp_nsdef_cleanup(wsp_nsdef *def);

/* Split "a,b" into a NEW NULL-terminated array (wsp_strv_free of alloc.h
 * frees); empty items are skipped.  NULL on allocation failure. */
char **wsp_strv_split(const char *s, char sep);

#endif
