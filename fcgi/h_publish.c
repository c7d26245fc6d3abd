/* h_publish.c - POST /api/1/websocket/publish: a broadcast for scripts and
 * backends without a WebSocket.  The body is one message {namespace, data,
 * clientId? | toUser?} or an array of them, committed in ONE transaction:
 * one invalid element and nothing is sent, the error naming its index.  Allowed for an
 * admin/root session or `Authorization: Bearer <api token>` (compared in
 * constant time).
 *
 * An array is stored by ONE statement, the group commit's (batch_at_once,
 * pubgroup.h's wsp_pubgroup_send): all its rows or none, in one round trip.
 * Every rule of wsp_publish_text() (db/007_publish.sql) is checked here
 * first, the stored size included.  Only when that statement is refused
 * (nothing stored), or a message is over the size limit, does the array go
 * message by message through wsp_publish_text() in one transaction, so the
 * answer names the failing index in the function's words (it alone judges
 * there, with max_message_bytes handed to it as wspulse.max_message_bytes).
 * The payload is stored as this program wrote it (wsp_json_dump).
 * The NOTIFY carries the row, or only its id
 * when the row is over NOTIFY's limit (db/008), so data may be as large as
 * max_message_bytes (64 KiB by default), far past NOTIFY's 8000-byte limit.  clientId
 * sends to the sockets connected with that uuid (public, not a credential;
 * never replayed by ?since=); toUser to the sockets logged in as that user
 * (in a history namespace also replayed to them).  The outbox's client_id
 * holds the uuid or "user:<name>".
 *
 * A single message (not an array) goes through the process's group commit
 * (pubgroup.h): the single publishes being served at the same moment are
 * stored by ONE insert, each answered once that statement has committed.
 * That path writes the outbox directly, so every rule of wsp_publish_text()
 * is checked here first, the stored size included (publish_one). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "app.h"
#include "handlers.h"
#include "json.h"
#include "log.h"
#include "nspaths.h"
#include "pubgroup.h"
#include "validate.h"

#define WSP_PUBLISH_BATCH_MAX 1000

/* One validated message, borrowed from the request body. */
typedef struct pub_msg {
	const char *ns;
	const char *cid;  /* NULL: every client */
	const char *to_user;  /* NULL, or the user to reach (then `to` is "user:<name>") */
	char to[80];
	char *payload;    /* compact JSON (wsp_json_dump), wsp_free()d */
} pub_msg;

/* Check one element.  0, or answers 400 (prefixed "messages[i]: " in a
 * batch) and returns -1. */
static int check_one(wsp_ctx *ctx, json_t *m, int idx, pub_msg *out)
{
	char msg[160], where[32] = "";
	const char *why = NULL;
	json_t *jcid, *jdata, *juser;

	if (idx >= 0)
		snprintf(where, sizeof(where), "messages[%d]: ", idx);
	if (!json_is_object(m)) {
		why = "must be an object {namespace, data, clientId?}";
		goto bad;
	}
	out->ns = json_string_value(json_object_get(m, "namespace"));
	jdata = json_object_get(m, "data");
	jcid = json_object_get(m, "clientId");
	juser = json_object_get(m, "toUser");
	if (!out->ns || !wsp_valid_namespace(out->ns)) {
		why = "namespace must be a path starting with " WSP_NAMESPACE_PREFIX;
		goto bad;
	}
	if (!json_is_object(jdata)) {
		why = "data must be a JSON object";
		goto bad;
	}
	out->cid = NULL;
	if (jcid && !json_is_null(jcid)) {
		out->cid = json_string_value(jcid);
		if (!out->cid || !wsp_valid_client_id(out->cid)) {
			why = "clientId must be a client UUID";
			goto bad;
		}
	}
	out->to_user = NULL;
	if (juser && !json_is_null(juser)) {
		out->to_user = json_string_value(juser);
		if (!out->to_user || !wsp_valid_username(out->to_user)) {
			why = "toUser must be a username";
			goto bad;
		}
		if (out->cid) {
			why = "give clientId or toUser, not both";
			goto bad;
		}
		snprintf(out->to, sizeof(out->to), "user:%s", out->to_user);
	}
	return 0;
bad:
	snprintf(msg, sizeof(msg), "%s%s", where, why);
	wsp_ctx_error(ctx, 400, msg, "VALIDATION_ERROR");
	return -1;
}

/* A refusal of wsp_publish() (SQLSTATE 22023 / 54000) as 400 / 413 with the
 * function's own words; anything else by the usual mapping. */
static int sql_refusal(wsp_ctx *ctx, const char *st, const wsp_error *err, int idx)
{
	const char *p = strstr(err->text, "wsp_publish: ");
	char msg[300], where[32] = "";
	size_t n;

	if (!p || (strcmp(st, "22023") != 0 && strcmp(st, "54000") != 0))
		return wsp_ctx_fail(ctx, err, "publish");
	p += strlen("wsp_publish: ");
	n = strcspn(p, "(");
	while (n > 0 && p[n - 1] == ' ')
		n--;
	if (idx >= 0)
		snprintf(where, sizeof(where), "messages[%d]: ", idx);
	snprintf(msg, sizeof(msg), "%s%.*s", where, (int)n, p);
	return st[0] == '5' ? wsp_ctx_error(ctx, 413, msg, "PAYLOAD_TOO_LARGE")
			    : wsp_ctx_error(ctx, 400, msg, "VALIDATION_ERROR");
}

/* Fill `it` (zeroed first) with message m's row for the group statement
 * and set *len to its data's size.  Returns -1 when that is over the
 * message limit (nothing to send), else 0. */
static int item_of(const wsp_ctx *ctx, wsp_pubgroup_item *it, const pub_msg *m, const char *username, size_t *len)
{
	*len = strlen(m->payload);
	if (*len > (size_t)ctx->app->cfg.max_message_bytes)
		return -1;
	memset(it, 0, sizeof(*it));
	it->ns = m->ns;
	it->payload = m->payload;
	it->username = username;
	it->to = m->to_user ? m->to : m->cid;
	return 0;
}

/* One message (not a batch): through the process's group commit
 * (pubgroup.h), so concurrent publishes share one statement and one
 * commit.  Answered only once its row is committed. */
static int publish_one(wsp_ctx *ctx, const pub_msg *m, const char *username)
{
	wsp_pubgroup_item it;
	size_t len;

	if (item_of(ctx, &it, m, username, &len) < 0) {
		char msg[96];

		/* The words wsp_publish_text() would answer with. */
		snprintf(msg, sizeof(msg), "data is %zu bytes, over the %ld-byte message limit", len,
			 ctx->app->cfg.max_message_bytes);
		return wsp_ctx_error(ctx, 413, msg, "PAYLOAD_TOO_LARGE");
	}
	if (wsp_pubgroup_publish(ctx->pubgroup, &it) < 0)
		return it.sqlstate[0] ? sql_refusal(ctx, it.sqlstate, &it.err, -1) : wsp_ctx_fail(ctx, &it.err, "publish");
	/* Debug, not info: a line per publish is thousands a second. */
	wsp_debug(m->ns, "published %zu bytes as outbox %lld by %s", len, it.id,
		  username[0] ? username : "api token");
	return wsp_response_success(ctx->resp,
				    json_pack("{s:I, s:s, s:s?, s:s?, s:I}", "id", (json_int_t)it.id, "namespace", m->ns,
					      "clientId", m->cid, "toUser", m->to_user, "bytes", (json_int_t)len),
				    json_pack("{s:s}", "message", "Message queued for delivery"));
}

/* A batch as ONE statement (pubgroup.h's wsp_pubgroup_send): every row or
 * none, in one round trip where the per-message path in wsp_h_publish takes
 * n + 3.  Returns 0 once stored, with `ids` and *total filled; 1 when a
 * message is over the size limit or the server refused one (nothing stored:
 * the per-message path then finds and names it, in wsp_publish_text()'s
 * words); or a negative code with err set (WSP_ERR_DB: the database is
 * unreachable or the outcome unknown, so nothing is sent again). */
static int batch_at_once(wsp_ctx *ctx, wsp_db *db, const pub_msg *msgs, size_t n, const char *username,
			 json_t *ids, size_t *total, wsp_error *err)
{
	wsp_pubgroup_item *items = calloc(n, sizeof(*items));
	wsp_pubgroup_item **v = calloc(n, sizeof(*v));
	int rc = 0;

	*total = 0;
	if (!items || !v) {
		rc = wsp_error_set(err, WSP_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		size_t len;

		if (item_of(ctx, &items[i], &msgs[i], username, &len) < 0) {
			rc = 1;
			goto out;
		}
		v[i] = &items[i];
		*total += len;
	}
	if (wsp_pubgroup_send(db, v, (int)n) == 1) {
		rc = 1;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (items[i].rc != 0) {
			/* The outcome is unknown (or memory ran out). */
			*err = items[i].err;
			rc = items[i].rc;
			goto out;
		}
	for (size_t i = 0; i < n; i++)
		if (json_array_append_new(ids, json_integer(items[i].id)) < 0) {
			/* Stored: say so rather than ask for a retry that stores it twice. */
			wsp_error_set(err, WSP_ERR_NOMEM, "out of memory after the batch was stored");
			rc = WSP_ERR_NOMEM;
			break;
		}
out:
	free(items);
	free(v);
	return rc;
}

int wsp_h_publish(wsp_ctx *ctx)
{
	const char *username;
	json_t *body, *ids = NULL;
	pub_msg *msgs = NULL;
	size_t n, total = 0;
	int batch, failed_at = -1, rc = 0;
	char limit[24];
	wsp_error err;
	wsp_db *db;

	if (!wsp_ctx_require_admin_or_token(ctx, &username))
		return 0;
	if (wsp_ctx_json_body_ex(ctx, &body, 1) < 0)
		return 0;
	batch = json_is_array(body);
	n = batch ? json_array_size(body) : 1;
	if (batch && (n == 0 || n > WSP_PUBLISH_BATCH_MAX)) {
		char msg[96];

		snprintf(msg, sizeof(msg), "a batch holds 1 to %d messages (got %zu)", WSP_PUBLISH_BATCH_MAX, n);
		json_decref(body);
		return wsp_ctx_error(ctx, 400, msg, "VALIDATION_ERROR");
	}
	msgs = calloc(n, sizeof(*msgs));
	ids = json_array();
	wsp_error_init(&err);
	if (!msgs || !ids) {
		wsp_error_set(&err, WSP_ERR_NOMEM, "out of memory");
		rc = wsp_ctx_fail(ctx, &err, "publish");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (check_one(ctx, batch ? json_array_get(body, i) : body, batch ? (int)i : -1, &msgs[i]) < 0)
			goto out;
		msgs[i].payload = wsp_json_dump(json_object_get(batch ? json_array_get(body, i) : body, "data"),
						NULL);
		if (!msgs[i].payload) {
			wsp_error_set(&err, WSP_ERR_NOMEM, "out of memory");
			rc = wsp_ctx_fail(ctx, &err, "publish");
			goto out;
		}
	}
	if (!batch) {
		rc = publish_one(ctx, &msgs[0], username);
		goto out;
	}
	db = wsp_ctx_db(ctx, &err);
	if (!db) {
		rc = wsp_ctx_fail(ctx, &err, "publish");
		goto out;
	}
	rc = batch_at_once(ctx, db, msgs, n, username, ids, &total, &err);
	if (rc == 0)
		goto stored;
	if (rc < 0) {
		rc = wsp_ctx_fail(ctx, &err, "publish");
		goto out;
	}
	/* Refused and rolled back: message by message in one transaction, so
	 * the answer names the one that failed. */
	rc = 0;
	total = 0;
	if (wsp_tx_begin(db, &err) < 0) {
		rc = wsp_ctx_fail(ctx, &err, "publish");
		goto out;
	}
	snprintf(limit, sizeof(limit), "%ld", ctx->app->cfg.max_message_bytes);
	{
		const char *p[1] = { limit };

		if (wsp_db_exec(db, "SELECT set_config('wspulse.max_message_bytes', $1, true)", 1, p, &err) < 0)
			failed_at = 0;
	}
	for (size_t i = 0; failed_at < 0 && i < n; i++) {
		const char *p[4] = { msgs[i].ns, msgs[i].payload, username,
				     msgs[i].to_user ? msgs[i].to : msgs[i].cid };
		wsp_db_res *r = wsp_db_query(db, "SELECT wsp_publish_text($1, $2, $3, $4), octet_length($2)",
					     4, p, &err);

		if (!r) {
			failed_at = (int)i;
			break;
		}
		json_array_append_new(ids, json_integer(atoll(wsp_db_get(r, 0, 0))));
		total += (size_t)atoll(wsp_db_get(r, 0, 1));
		wsp_db_res_free(r);
	}
	if (failed_at >= 0) {
		char st[6];

		/* The SQLSTATE before ROLLBACK clears it. */
		snprintf(st, sizeof(st), "%s", wsp_db_last_sqlstate(db));
		wsp_tx_rollback(db);
		rc = sql_refusal(ctx, st, &err, failed_at);
		goto out;
	}
	if (wsp_tx_commit(db, &err) < 0) {
		wsp_tx_rollback(db);
		rc = wsp_ctx_fail(ctx, &err, "publish");
		goto out;
	}
stored:
	wsp_info(NULL, "published %zu messages (%zu bytes) as outbox %lld.. by %s", n, total,
		 (long long)json_integer_value(json_array_get(ids, 0)), username[0] ? username : "api token");
	rc = wsp_response_success(ctx->resp, json_pack("{s:I, s:O, s:I}", "count", (json_int_t)n,
						       "ids", ids, "bytes", (json_int_t)total),
				  json_pack("{s:s}", "message", "Messages queued for delivery"));
out:
	for (size_t i = 0; msgs && i < n; i++)
		wsp_free(msgs[i].payload);
	free(msgs);
	json_decref(ids);
	json_decref(body);
	return rc;
}
