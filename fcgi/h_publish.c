/* h_publish.c - POST /api/1/websocket/publish {namespace, data, clientId? | toUser?}:
 * a broadcast for scripts and backends without a WebSocket.  Allowed for an
 * admin/root session or `Authorization: Bearer <api token>` (compared in
 * constant time).  The message goes into the outbox; its NOTIFY carries only
 * the row id, so data may be as large as max_message_bytes (64 KiB by
 * default), far past NOTIFY's 8000-byte payload limit.  clientId sends to
 * the sockets connected with that uuid (public, not a credential; never
 * replayed by ?since=); toUser to the sockets logged in as that user (in a
 * history namespace also replayed to them).  The outbox's client_id holds
 * the uuid or "user:<name>". */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "app.h"
#include "handlers.h"
#include "json.h"
#include "log.h"
#include "validate.h"

int wsp_h_publish(wsp_ctx *ctx)
{
	json_t *body, *jns, *jdata, *jcid, *juser;
	const char *username, *ns, *cid = NULL, *to_user = NULL;
	char to[80];
	char *payload = NULL;
	wsp_db_res *r;
	wsp_error err;
	wsp_db *db;
	size_t plen;

	if (!wsp_ctx_require_admin_or_token(ctx, &username))
		return 0;
	if (wsp_ctx_json_body(ctx, &body) < 0)
		return 0;
	jns = json_object_get(body, "namespace");
	jdata = json_object_get(body, "data");
	jcid = json_object_get(body, "clientId");
	juser = json_object_get(body, "toUser");
	ns = json_string_value(jns);
	if (!ns || !wsp_valid_namespace(ns)) {
		json_decref(body);
		return wsp_ctx_error(ctx, 400, "namespace must be a path starting with /api/1/ws/", "VALIDATION_ERROR");
	}
	if (!json_is_object(jdata)) {
		json_decref(body);
		return wsp_ctx_error(ctx, 400, "data must be a JSON object", "VALIDATION_ERROR");
	}
	if (jcid && !json_is_null(jcid)) {
		cid = json_string_value(jcid);
		if (!cid || !wsp_valid_client_id(cid)) {
			json_decref(body);
			return wsp_ctx_error(ctx, 400, "clientId must be a client UUID", "VALIDATION_ERROR");
		}
	}
	if (juser && !json_is_null(juser)) {
		to_user = json_string_value(juser);
		if (!to_user || !wsp_valid_username(to_user)) {
			json_decref(body);
			return wsp_ctx_error(ctx, 400, "toUser must be a username", "VALIDATION_ERROR");
		}
		if (cid) {
			json_decref(body);
			return wsp_ctx_error(ctx, 400, "give clientId or toUser, not both", "VALIDATION_ERROR");
		}
		snprintf(to, sizeof(to), "user:%s", to_user);
	}
	payload = wsp_json_dump(jdata, NULL);
	if (!payload) {
		json_decref(body);
		wsp_error_init(&err);
		wsp_error_set(&err, WSP_ERR_NOMEM, "out of memory");
		return wsp_ctx_fail(ctx, &err, "publish");
	}
	plen = strlen(payload);
	if ((long)plen > ctx->app->cfg.max_message_bytes) {
		char msg[128];

		snprintf(msg, sizeof(msg), "data is %zu bytes, over the %ld-byte message limit", plen,
			 ctx->app->cfg.max_message_bytes);
		wsp_free(payload);
		json_decref(body);
		return wsp_ctx_error(ctx, 413, msg, "PAYLOAD_TOO_LARGE");
	}
	wsp_error_init(&err);
	db = wsp_ctx_db(ctx, &err);
	r = NULL;
	if (db) {
		const char *p[4] = { ns, payload, username, to_user ? to : cid };

		r = wsp_db_query(db, "INSERT INTO wsp_outbox (namespace, payload, username, client_id)"
				     " VALUES ($1, $2, $3, $4) RETURNING id", 4, p, &err);
	}
	wsp_free(payload);
	if (!r) {
		json_decref(body);
		return wsp_ctx_fail(ctx, &err, "publish");
	}
	wsp_info(ns, "published %zu bytes as outbox %s by %s", plen, wsp_db_get(r, 0, 0),
		 username[0] ? username : "api token");
	wsp_response_success(ctx->resp,
			     json_pack("{s:I, s:s, s:s?, s:s?, s:I}", "id", (json_int_t)atoll(wsp_db_get(r, 0, 0)),
				       "namespace", ns, "clientId", cid, "toUser", to_user, "bytes", (json_int_t)plen),
			     json_pack("{s:s}", "message", "Message queued for delivery"));
	wsp_db_res_free(r);
	json_decref(body);
	return 0;
}
