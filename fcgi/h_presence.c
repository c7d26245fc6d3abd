/* h_presence.c - GET /api/1/websocket/presence[?namespace=/api/1/ws/...]
 * (admin session or API token): the cluster-wide presence every daemon
 * worker keeps in wsp_presence (src/presence.h), read with the daemons' own
 * query.  With ?namespace= one object, {namespace, userCount, users,
 * workers}; without, {namespaces: [those objects], expireSeconds}.  A
 * namespace nobody is connected to reads userCount 0 (the REST side does
 * not know which namespaces the daemons register).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "daemon/query.h"
#include "handlers.h"
#include "nspaths.h"
#include "presence.h"

#define NS_MAX 256

static json_t *entry(const char *ns, long long count, long long workers, const char *users_text)
{
	json_t *users = users_text ? json_loads(users_text, 0, NULL) : NULL;

	if (!json_is_array(users)) {
		json_decref(users);
		users = json_array();
	}
	return json_pack("{s:s, s:I, s:I, s:o}", "namespace", ns, "userCount", (json_int_t)count, "workers",
			 (json_int_t)workers, "users", users);
}

int wsp_h_presence(wsp_ctx *ctx)
{
	char ns[NS_MAX + 1];
	const char *who, *p[2];
	wsp_error err;
	wsp_db *db;
	wsp_db_res *r;
	json_t *out, *list;
	int n, rc;

	if (!wsp_ctx_require_admin_or_token(ctx, &who))
		return 0;
	rc = wsp_query_get(ctx->req->query, "namespace", ns, sizeof(ns));
	if (rc == -1)
		ns[0] = '\0';
	else if (rc < 0 || strncmp(ns, WSP_NAMESPACE_PREFIX, strlen(WSP_NAMESPACE_PREFIX)) != 0 ||
		 rc == (int)strlen(WSP_NAMESPACE_PREFIX))
		return wsp_ctx_error(ctx, 400, "namespace must be a path under " WSP_NAMESPACE_PREFIX " (at most 256 bytes)",
				     "VALIDATION_ERROR");
	wsp_error_init(&err);
	db = wsp_ctx_db(ctx, &err);
	if (!db)
		return wsp_ctx_fail(ctx, &err, "presence");
	p[0] = "";
	p[1] = ns;
	r = wsp_db_query(db, WSP_PRESENCE_SQL_READ, 2, p, &err);
	if (!r)
		return wsp_ctx_fail(ctx, &err, "presence");
	n = wsp_db_nrows(r);
	if (ns[0]) {
		out = n ? entry(ns, atoll(wsp_db_get(r, 0, 1)), atoll(wsp_db_get(r, 0, 2)), wsp_db_get(r, 0, 3))
			: entry(ns, 0, 0, NULL);
	} else {
		list = json_array();
		for (int i = 0; list && i < n; i++)
			json_array_append_new(list, entry(wsp_db_get(r, i, 0), atoll(wsp_db_get(r, i, 1)),
							  atoll(wsp_db_get(r, i, 2)), wsp_db_get(r, i, 3)));
		out = list ? json_pack("{s:o, s:i}", "namespaces", list, "expireSeconds", WSP_PRESENCE_EXPIRE_S) : NULL;
	}
	wsp_db_res_free(r);
	if (!out) {
		wsp_error_set(&err, WSP_ERR_NOMEM, "out of memory");
		return wsp_ctx_fail(ctx, &err, "presence");
	}
	return wsp_response_success(ctx->resp, out, NULL);
}
