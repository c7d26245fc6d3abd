/* h_todo.c - the hello-todo API (jPulse's routes and error codes) with its
 * broadcasts: every mutation writes the todo change and its outbox row for
 * /api/1/ws/hello-todo in ONE statement (TODO_MUTATION), so the NOTIFY that
 * wakes the daemons is sent if and only if the change committed.
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

/* One todo as JSON, built by PostgreSQL from the row `t` (a table alias):
 * the ONE place that says what a todo looks like.  The REST answers parse it
 * (todo_json), and the mutations store it in their outbox row in the same
 * statement, so a broadcast carries exactly the todo its REST answer gives. */
#define TODO_JSON(t) \
	"json_build_object('_id', " t ".id::text, 'id', " t ".id, 'title', " t ".title," \
	" 'completed', " t ".completed, 'username', " t ".username, 'userFirstName', ''," \
	" 'userLastName', '', 'createdAt', " WSP_SQL_ISO(t ".created_at") "," \
	" 'updatedAt', " WSP_SQL_ISO(t ".updated_at") ")"

/* The todo of a TODO_JSON column (new reference), or NULL with err set:
 * out of memory, or (a bug: TODO_JSON builds an object) not a JSON object. */
static json_t *todo_json(const wsp_db_res *r, int row, int col, wsp_error *err)
{
	json_error_t jerr;
	json_t *todo = json_loads(wsp_db_get(r, row, col), 0, &jerr);

	if (todo && json_is_object(todo))
		return todo;
	json_decref(todo);
	if (!todo && json_error_code(&jerr) == json_error_out_of_memory)
		wsp_error_set(err, WSP_ERR_NOMEM, "out of memory");
	else
		wsp_error_set(err, WSP_ERR_INTERNAL, "PostgreSQL returned a todo that is not a JSON object");
	return NULL;
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
 * to the page, one row with the todo NULL when the page is empty.  The todo's
 * JSON is built above the LIMIT, for the page's rows only (inside the
 * subquery PostgreSQL would build it for every row before the sort); the
 * outer ORDER BY says the order rather than trust the join to keep it. */
#define TODO_LIST_SQL \
	"WITH s (total, done) AS (" TODO_STATS_SQL ")" \
	" SELECT CASE WHEN p.id IS NOT NULL THEN " TODO_JSON("p") " END, s.total, s.done" \
	" FROM s LEFT JOIN LATERAL (SELECT * FROM wsp_hello_todos ORDER BY created_at DESC, id DESC" \
	"  LIMIT $1::int OFFSET $2::bigint) p ON true ORDER BY p.created_at DESC, p.id DESC"
#define TODO_LIST_TOTAL 1   /* the columns after the todo */
#define TODO_LIST_DONE 2

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
	for (int i = 0; list && i < n; i++) {
		json_t *todo = todo_json(r, i, 0, &err);

		if (!todo || json_array_append_new(list, todo) < 0) {
			json_decref(list);   /* append_new took todo, even on failure */
			list = NULL;
		}
	}
	wsp_db_res_free(r);
	if (!list) {
		/* todo_json's error, else out of memory (the first one stays). */
		wsp_error_set(&err, WSP_ERR_NOMEM, "out of memory");
		return wsp_ctx_fail(ctx, &err, "helloTodo list");
	}
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

/* A mutation and its broadcast in ONE statement, run in autocommit: `change`
 * is the todo statement (RETURNING *, one row or none; $1 its value, $2 the
 * acting user), and the outbox row for the namespace ($3) is inserted from
 * its result, so both commit together or not at all and the NOTIFY that
 * wakes the daemons is sent if and only if the change committed.  `message`
 * is the payload, a json_build_object over `j.todo` (the TODO_JSON of the
 * row); the daemon stamps the username into it.  One round trip where
 * BEGIN, the change, the outbox INSERT and COMMIT took four. */
#define TODO_MUTATION(change, message) \
	"WITH t AS (" change "), j AS (SELECT " TODO_JSON("t") " AS todo FROM t)," \
	" o AS (" WSP_OUTBOX_INSERT_INTO " SELECT $3, (" message ")::text, $2, NULL, '' FROM j)" \
	" SELECT todo FROM j"

/* Run a TODO_MUTATION with (value, user): the todo (new reference), NULL
 * with *missing set when no row matched, or NULL with err set. */
static json_t *mutate(wsp_db *db, const char *sql, const char *value, const char *user, int *missing,
		      wsp_error *err)
{
	const char *p[3] = { value, user, WSP_NS_HELLO_TODO };
	wsp_db_res *r;
	json_t *todo;

	*missing = 0;
	r = wsp_db_query(db, sql, 3, p, err);
	if (!r)
		return NULL;
	if (wsp_db_nrows(r) != 1) {
		wsp_db_res_free(r);
		*missing = 1;
		return NULL;
	}
	todo = todo_json(r, 0, 0, err);
	wsp_db_res_free(r);
	return todo;
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
	todo = mutate(db, TODO_MUTATION("INSERT INTO wsp_hello_todos (title, username) VALUES ($1, $2) RETURNING *",
					"json_build_object('type', 'todo-created', 'todo', j.todo)"),
		      title, user, &missing, &err);
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

static int change(wsp_ctx *ctx, const char *sql, const char *what, const char *message_done)
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
		return wsp_ctx_fail(ctx, &err, what);
	todo = mutate(db, sql, id, user, &missing, &err);
	if (!todo && missing)
		return wsp_ctx_error(ctx, 404, "Todo not found", "HELLO_TODO_NOT_FOUND");
	if (!todo)
		return wsp_ctx_fail(ctx, &err, what);
	if (!message_done)
		message_done = json_is_true(json_object_get(todo, "completed")) ? "Todo completed successfully"
										  : "Todo reopened successfully";
	return wsp_response_success(ctx->resp, todo, json_pack("{s:s}", "message", message_done));
}

int wsp_h_todo_toggle(wsp_ctx *ctx)
{
	return change(ctx, TODO_MUTATION("UPDATE wsp_hello_todos SET completed = NOT completed, updated_at = now()"
					 " WHERE id = $1::bigint RETURNING *",
					 "json_build_object('type', 'todo-updated', 'todo', j.todo)"),
		      "helloTodo toggle", NULL);
}

int wsp_h_todo_delete(wsp_ctx *ctx)
{
	/* jPulse's todo-deleted names the todo by todoId (the _id string); the
	 * deleted todo rides along. */
	return change(ctx, TODO_MUTATION("DELETE FROM wsp_hello_todos WHERE id = $1::bigint RETURNING *",
					 "json_build_object('type', 'todo-deleted', 'todoId', j.todo->>'_id', 'todo', j.todo)"),
		      "helloTodo delete", "Todo deleted successfully");
}
