/* h_todo.c - the hello-todo API (jPulse's routes and error codes) with its
 * broadcasts: every mutation writes the todo change and its outbox row for
 * /api/1/ws/hello-todo in ONE transaction, so the NOTIFY that wakes the
 * daemons is sent if and only if the change committed.
 *
 *   GET    /api/1/helloTodo             newest first, paged (?limit=, ?offset=), with stats
 *   POST   /api/1/helloTodo {title}     create (username: session user or guest)
 *   PUT    /api/1/helloTodo/:id/toggle  flip completed
 *   DELETE /api/1/helloTodo/:id         delete
 *   GET    /api/1/helloTodo/stats       {total, completed, pending}
 *
 * A todo has jPulse v1.0.4's fields: _id (a string, as a MongoDB ObjectId
 * reads in JSON), title, completed, username, userFirstName, userLastName
 * (always "": wspulse keeps no names), createdAt, updatedAt; plus "id", the
 * same number as a JSON number.  The broadcasts are jPulse's:
 * todo-created/todo-updated {todo}, todo-deleted {todoId} (the _id string;
 * the deleted todo rides along as "todo"); the daemon stamps username.
 */
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
#include "outbox.h"
#include "validate.h"

#define TODO_COLS "id, title, completed, username, " WSP_SQL_ISO("created_at") ", " WSP_SQL_ISO("updated_at")

/* The JSON of one todo row selected with TODO_COLS (new reference). */
static json_t *todo_json(const wsp_db_res *r, int row)
{
	return json_pack("{s:s, s:I, s:s, s:b, s:s, s:s, s:s, s:s, s:s}",
			 "_id", wsp_db_get(r, row, 0),
			 "id", (json_int_t)atoll(wsp_db_get(r, row, 0)),
			 "title", wsp_db_get(r, row, 1),
			 "completed", wsp_db_get(r, row, 2)[0] == 't',
			 "username", wsp_db_get(r, row, 3),
			 "userFirstName", "",
			 "userLastName", "",
			 "createdAt", wsp_db_get(r, row, 4),
			 "updatedAt", wsp_db_get(r, row, 5));
}

static const char *actor(wsp_ctx *ctx, wsp_error *err, int *rc)
{
	*rc = wsp_ctx_auth(ctx, err);
	return *rc == 1 ? ctx->session.username : "guest";
}

/* The stats' two columns, total and completed (GET /stats, and the list's
 * CTE). */
#define TODO_STATS_SQL "SELECT count(*), count(*) FILTER (WHERE completed) FROM wsp_hello_todos"

/* {total, completed, pending} (new reference). */
static json_t *stats_pack(long long total, long long done)
{
	return json_pack("{s:I, s:I, s:I}", "total", (json_int_t)total, "completed", (json_int_t)done,
			 "pending", (json_int_t)(total - done));
}

static json_t *stats_json(wsp_db *db, wsp_error *err)
{
	wsp_db_res *r = wsp_db_query(db, TODO_STATS_SQL, 0, NULL, err);
	json_t *stats;

	if (!r)
		return NULL;
	stats = stats_pack(atoll(wsp_db_get(r, 0, 0)), atoll(wsp_db_get(r, 0, 1)));
	wsp_db_res_free(r);
	return stats;
}

/* GET /api/1/helloTodo pages: ?limit= (default and maximum below) and
 * ?offset=, newest first; `pagination` says where the page lies. */
#define TODO_PAGE_DEFAULT 100
#define TODO_PAGE_MAX 500
#define TODO_OFFSET_MAX 1000000000L

/* The page and the stats in ONE statement, so one snapshot and one round
 * trip (a transaction around two queries took four): the stats row joined
 * to the page, one row with the todo's columns NULL when the page is empty. */
#define TODO_LIST_SQL \
	"WITH s (total, done) AS (" TODO_STATS_SQL ")" \
	" SELECT t.*, s.total, s.done FROM s LEFT JOIN LATERAL" \
	" (SELECT " TODO_COLS " FROM wsp_hello_todos ORDER BY created_at DESC, id DESC" \
	"  LIMIT $1::int OFFSET $2::bigint) t ON true"
#define TODO_LIST_TOTAL 6   /* the columns after TODO_COLS' six */
#define TODO_LIST_DONE 7

int wsp_h_todo_list(wsp_ctx *ctx)
{
	wsp_error err;
	wsp_db *db;
	wsp_db_res *r;
	json_t *list, *stats, *page;
	long limit = TODO_PAGE_DEFAULT, offset = 0;
	long long total, done;
	char lim_s[24], off_s[24];
	const char *pp[2] = { lim_s, off_s };
	int n, rows;

	if (wsp_query_long(ctx->req->query, "limit", 1, TODO_PAGE_MAX, &limit) < 0 ||
	    wsp_query_long(ctx->req->query, "offset", 0, TODO_OFFSET_MAX, &offset) < 0)
		return wsp_ctx_error(ctx, 400, "limit must be 1-500 and offset 0 or more", "VALIDATION_ERROR");
	snprintf(lim_s, sizeof(lim_s), "%ld", limit);
	snprintf(off_s, sizeof(off_s), "%ld", offset);
	wsp_error_init(&err);
	db = wsp_ctx_db(ctx, &err);
	if (!db)
		return wsp_ctx_fail(ctx, &err, "helloTodo list");
	r = wsp_db_query(db, TODO_LIST_SQL, 2, pp, &err);
	if (!r)
		return wsp_ctx_fail(ctx, &err, "helloTodo list");
	rows = wsp_db_nrows(r);
	if (rows < 1) {   /* the stats row is always there */
		wsp_db_res_free(r);
		wsp_error_set(&err, WSP_ERR_DB, "helloTodo list: no stats row");
		return wsp_ctx_fail(ctx, &err, "helloTodo list");
	}
	total = atoll(wsp_db_get(r, 0, TODO_LIST_TOTAL));
	done = atoll(wsp_db_get(r, 0, TODO_LIST_DONE));
	n = wsp_db_isnull(r, 0, 0) ? 0 : rows;
	list = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(list, todo_json(r, i));
	wsp_db_res_free(r);
	stats = stats_pack(total, done);
	page = json_pack("{s:I, s:I, s:I, s:b}", "limit", (json_int_t)limit, "offset", (json_int_t)offset,
			 "count", (json_int_t)n, "hasMore", total > offset + n);
	return wsp_response_success(ctx->resp, list,
				    json_pack("{s:o, s:o, s:s}", "stats", stats, "pagination", page, "message",
					      "Todos retrieved"));
}

int wsp_h_todo_stats(wsp_ctx *ctx)
{
	wsp_error err;
	wsp_db *db;
	json_t *stats;

	wsp_error_init(&err);
	db = wsp_ctx_db(ctx, &err);
	if (!db || !(stats = stats_json(db, &err)))
		return wsp_ctx_fail(ctx, &err, "helloTodo stats");
	return wsp_response_success(ctx->resp, stats, NULL);
}

/* Inside the open transaction: queue {type, todo} for the namespace, and
 * for todo-deleted jPulse's todoId (the _id string) before it. */
static int outbox(wsp_db *db, const char *type, json_t *todo, const char *username, wsp_error *err)
{
	json_t *msg = strcmp(type, "todo-deleted") == 0 ?
		json_pack("{s:s, s:O, s:O}", "type", type, "todoId", json_object_get(todo, "_id"), "todo", todo) :
		json_pack("{s:s, s:O}", "type", type, "todo", todo);
	char *payload = msg ? wsp_json_dump(msg, NULL) : NULL;
	const char *p[WSP_OUTBOX_NPARAMS] = { 0 };
	int rc;

	json_decref(msg);
	if (!payload)
		return wsp_error_set(err, WSP_ERR_NOMEM, "out of memory");
	p[WSP_OUTBOX_P_NAMESPACE] = WSP_NS_HELLO_TODO;
	p[WSP_OUTBOX_P_PAYLOAD] = payload;
	p[WSP_OUTBOX_P_USERNAME] = username;   /* client_id NULL: every socket; origin '': REST */
	rc = wsp_db_exec(db, WSP_OUTBOX_SQL_INSERT, WSP_OUTBOX_NPARAMS, p, err);
	wsp_free(payload);
	return rc;
}

/* Run `sql` (one todo row RETURNING TODO_COLS, or none) and its outbox row
 * in one transaction.  Returns the todo (new reference), NULL with *missing
 * set when no row matched, or NULL with err set. */
static json_t *mutate(wsp_db *db, const char *sql, int n, const char *const *params, const char *type,
		      const char *username, int *missing, wsp_error *err)
{
	wsp_db_res *r;
	json_t *todo;

	*missing = 0;
	if (wsp_tx_begin(db, err) < 0)
		return NULL;
	r = wsp_db_query(db, sql, n, params, err);
	if (!r)
		goto rollback;
	if (wsp_db_nrows(r) != 1) {
		wsp_db_res_free(r);
		*missing = 1;
		goto rollback;
	}
	todo = todo_json(r, 0);
	wsp_db_res_free(r);
	if (!todo) {
		wsp_error_set(err, WSP_ERR_NOMEM, "out of memory");
		goto rollback;
	}
	if (outbox(db, type, todo, username, err) < 0 || wsp_tx_commit(db, err) < 0) {
		json_decref(todo);
		goto rollback;
	}
	return todo;
rollback:
	wsp_tx_rollback(db);
	return NULL;
}

int wsp_h_todo_create(wsp_ctx *ctx)
{
	char title[4 * WSP_TODO_TITLE_MAX + 1];
	json_t *body, *jt, *todo;
	const char *user;
	wsp_error err;
	wsp_db *db;
	int rc, missing;

	if (wsp_ctx_json_body(ctx, &body) < 0)
		return 0;
	wsp_error_init(&err);
	jt = json_object_get(body, "title");
	if (!json_is_string(jt)) {
		json_decref(body);
		return wsp_ctx_error(ctx, 400, "Title is required", "VALIDATION_ERROR");
	}
	if (wsp_valid_todo_title(json_string_value(jt), json_string_length(jt), title, sizeof(title), &err) < 0) {
		json_decref(body);
		return wsp_ctx_error(ctx, 400, err.text, "VALIDATION_ERROR");
	}
	json_decref(body);
	user = actor(ctx, &err, &rc);
	if (rc < 0 || !(db = wsp_ctx_db(ctx, &err)))
		return wsp_ctx_fail(ctx, &err, "helloTodo create");
	{
		const char *p[2] = { title, user };

		todo = mutate(db, "INSERT INTO wsp_hello_todos (title, username) VALUES ($1, $2)"
				  " RETURNING " TODO_COLS, 2, p, "todo-created", user, &missing, &err);
	}
	if (!todo)
		return wsp_ctx_fail(ctx, &err, "helloTodo create");
	return wsp_response_success(ctx->resp, todo, json_pack("{s:s}", "message", "Todo created successfully"));
}

/* The :id parameter, or answer 400 INVALID_TODO_ID and return -1. */
static int todo_id(wsp_ctx *ctx, char *out, size_t outsz)
{
	size_t len = 0;
	const char *s = wsp_route_param(&ctx->match, "id", &len);
	long long id;

	if (!s || wsp_parse_id(s, len, &id) < 0) {
		wsp_ctx_error(ctx, 400, "Invalid todo ID format", "INVALID_TODO_ID");
		return -1;
	}
	snprintf(out, outsz, "%lld", id);
	return 0;
}

static int change(wsp_ctx *ctx, const char *sql, const char *type, const char *message_done)
{
	char id[24];
	const char *user;
	json_t *todo;
	wsp_error err;
	wsp_db *db;
	int rc, missing;

	if (todo_id(ctx, id, sizeof(id)) < 0)
		return 0;
	wsp_error_init(&err);
	user = actor(ctx, &err, &rc);
	if (rc < 0 || !(db = wsp_ctx_db(ctx, &err)))
		return wsp_ctx_fail(ctx, &err, type);
	{
		const char *p[1] = { id };

		todo = mutate(db, sql, 1, p, type, user, &missing, &err);
	}
	if (!todo && missing)
		return wsp_ctx_error(ctx, 404, "Todo not found", "HELLO_TODO_NOT_FOUND");
	if (!todo)
		return wsp_ctx_fail(ctx, &err, type);
	if (!message_done)
		message_done = json_is_true(json_object_get(todo, "completed")) ? "Todo completed successfully"
										  : "Todo reopened successfully";
	return wsp_response_success(ctx->resp, todo, json_pack("{s:s}", "message", message_done));
}

int wsp_h_todo_toggle(wsp_ctx *ctx)
{
	return change(ctx, "UPDATE wsp_hello_todos SET completed = NOT completed, updated_at = now()"
			   " WHERE id = $1::bigint RETURNING " TODO_COLS, "todo-updated", NULL);
}

int wsp_h_todo_delete(wsp_ctx *ctx)
{
	return change(ctx, "DELETE FROM wsp_hello_todos WHERE id = $1::bigint RETURNING " TODO_COLS,
		      "todo-deleted", "Todo deleted successfully");
}
