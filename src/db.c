/* db.c - see db.h. */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "alloc.h"
#include "db.h"
#include "log.h"

/* Statements prepared on this connection, by their text: the first run of a
 * statement prepares it (named wsp_<index>), later runs skip the server's
 * parse and plan (issue 18: a third of PostgreSQL's time per REST publish was
 * parsing and planning one INSERT).  Bounded: past WSP_DB_STMTS distinct texts
 * the rest run unprepared. */
#define WSP_DB_STMTS 64

struct wsp_db {
	PGconn *conn;
	char sqlstate[6];
	char *stmt[WSP_DB_STMTS];
	int nstmt;
	bool noprep;   /* a pooler moved us between server sessions: never prepare */
};

static void forget_statements(wsp_db *db)
{
	for (int i = 0; i < db->nstmt; i++) {
		wsp_free(db->stmt[i]);
		db->stmt[i] = NULL;
	}
	db->nstmt = 0;
}

struct wsp_db_res {
	PGresult *res;
};

static void first_line(const char *msg, char *out, size_t outsz)
{
	size_t n = strcspn(msg, "\n");

	if (n >= outsz)
		n = outsz - 1;
	memcpy(out, msg, n);
	out[n] = '\0';
}

void wsp_db_describe(const char *conninfo, char *out, size_t outsz)
{
	PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
	const char *host = NULL, *port = NULL, *dbname = NULL;

	if (opts) {
		for (PQconninfoOption *o = opts; o->keyword; o++) {
			if (!o->val)
				continue;
			if (strcmp(o->keyword, "host") == 0)
				host = o->val;
			else if (strcmp(o->keyword, "port") == 0)
				port = o->val;
			else if (strcmp(o->keyword, "dbname") == 0)
				dbname = o->val;
		}
	}
	snprintf(out, outsz, "host=%s port=%s dbname=%s", host ? host : "(default)",
		 port ? port : "(default)", dbname ? dbname : "(default)");
	if (opts)
		PQconninfoFree(opts);
}

void wsp_db_redact(const char *conninfo, char *out, size_t outsz)
{
	PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
	size_t o = 0;

	if (!outsz)
		return;
	out[0] = '\0';
	if (!opts) {
		snprintf(out, outsz, "(unparsable)");
		return;
	}
	for (PQconninfoOption *p = opts; p->keyword; p++) {
		const char *v = p->val;
		int n;

		if (!v || !*v)
			continue;
		/* libpq marks the options whose value it hides ("*": the
		 * password, sslpassword). */
		if (p->dispchar && p->dispchar[0] == '*')
			v = "***";
		n = snprintf(out + o, outsz - o, "%s%s=%s", o ? " " : "", p->keyword, v);
		if (n < 0 || (size_t)n >= outsz - o)
			break;
		o += (size_t)n;
	}
	PQconninfoFree(opts);
}

/* Server notices (and its goodbye on shutdown) go to the log as one line,
 * not raw to stderr, at the level their severity deserves: a WARNING (or
 * worse) at warn; NOTICE, INFO, LOG and DEBUG, which are routine (`CREATE
 * TABLE IF NOT EXISTS` on a second init-db says "already exists, skipping"),
 * at debug. */
static void notice(void *arg, const PGresult *res)
{
	const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	const char *msg = PQresultErrorMessage(res);
	static const char *const routine[] = { "NOTICE", "INFO", "LOG", "DEBUG" };
	int quiet = 0;

	(void)arg;
	for (size_t i = 0; sev && i < sizeof(routine) / sizeof(routine[0]); i++)
		if (strcmp(sev, routine[i]) == 0)
			quiet = 1;
	wsp_log(quiet ? WSP_LOG_DEBUG : WSP_LOG_WARN, NULL, "postgres: %.*s",
		(int)strcspn(msg, "\n"), msg);
}

wsp_db *wsp_db_connect(const char *conninfo, wsp_error *err)
{
	wsp_db *db = wsp_calloc(1, sizeof(*db));
	char where[256], why[256];

	if (!db) {
		wsp_error_set(err, WSP_ERR_NOMEM, "out of memory");
		return NULL;
	}
	db->conn = PQconnectdb(conninfo);
	if (!db->conn || PQstatus(db->conn) != CONNECTION_OK) {
		wsp_db_describe(conninfo, where, sizeof(where));
		first_line(db->conn ? PQerrorMessage(db->conn) : "out of memory", why, sizeof(why));
		wsp_error_set(err, WSP_ERR_DB, "cannot connect to PostgreSQL (%s): %s", where, why);
		wsp_db_close(db);
		return NULL;
	}
	PQsetClientEncoding(db->conn, "UTF8");
	PQsetNoticeReceiver(db->conn, notice, NULL);
	return db;
}

void wsp_db_close(wsp_db *db)
{
	if (!db)
		return;
	if (db->conn)
		PQfinish(db->conn);
	forget_statements(db);
	wsp_free(db);
}

int wsp_db_ok(wsp_db *db)
{
	/* Read whatever the server sent while we were idle (never blocks: libpq
	 * sockets are non-blocking underneath): a server that restarted has
	 * closed the socket, which turns the status bad here instead of failing
	 * the next real statement.  Twice: the first read may stop at the
	 * server's goodbye message, the second then sees the end of the stream. */
	if (PQstatus(db->conn) == CONNECTION_OK && PQconsumeInput(db->conn) &&
	    PQconsumeInput(db->conn) && PQstatus(db->conn) == CONNECTION_OK)
		return 1;
	PQreset(db->conn);
	forget_statements(db);  /* a new session has none of them */
	return PQstatus(db->conn) == CONNECTION_OK;
}

const char *wsp_db_last_sqlstate(wsp_db *db) { return db->sqlstate; }

static wsp_db_res *check(wsp_db *db, PGresult *res, wsp_error *err)
{
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	wsp_db_res *r;
	char why[256];

	db->sqlstate[0] = '\0';
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		r = wsp_malloc(sizeof(*r));
		if (!r) {
			PQclear(res);
			wsp_error_set(err, WSP_ERR_NOMEM, "out of memory");
			return NULL;
		}
		r->res = res;
		return r;
	}
	if (res && PQresultErrorField(res, PG_DIAG_SQLSTATE))
		snprintf(db->sqlstate, sizeof(db->sqlstate), "%s",
			 PQresultErrorField(res, PG_DIAG_SQLSTATE));
	first_line(res ? PQresultErrorMessage(res) : PQerrorMessage(db->conn), why, sizeof(why));
	if (!why[0])
		first_line(PQerrorMessage(db->conn), why, sizeof(why));
	/* Class 08 (connection), 57 (shutdown) or no SQLSTATE at all mean the
	 * database is unavailable rather than the request being wrong. */
	if (PQstatus(db->conn) != CONNECTION_OK || !db->sqlstate[0] ||
	    strncmp(db->sqlstate, "08", 2) == 0 || strncmp(db->sqlstate, "57", 2) == 0)
		wsp_error_set(err, WSP_ERR_DB, "database unavailable: %s", why);
	else if (strncmp(db->sqlstate, "23", 2) == 0 || strncmp(db->sqlstate, "22", 2) == 0)
		wsp_error_set(err, WSP_ERR_INVALID, "%s (SQLSTATE %s)", why, db->sqlstate);
	else  /* The server answered: a bug or a trigger said no, not an outage. */
		wsp_error_set(err, WSP_ERR_INTERNAL, "query failed: %s (SQLSTATE %s)", why, db->sqlstate);
	PQclear(res);
	return NULL;
}

/* The index of sql among the prepared statements, preparing it if there is
 * room; -1 to run it unprepared (no room, or the server refused to prepare:
 * the unprepared run then reports the error). */
static int prepared(wsp_db *db, const char *sql, int n)
{
	char name[16];
	PGresult *res;
	char *copy;
	int i;

	for (i = 0; i < db->nstmt; i++)
		if (strcmp(db->stmt[i], sql) == 0)
			return i;
	if (db->nstmt == WSP_DB_STMTS || db->noprep)
		return -1;
	copy = wsp_strdup(sql);
	if (!copy)
		return -1;
	snprintf(name, sizeof(name), "wsp_%d", db->nstmt);
	res = PQprepare(db->conn, name, sql, n, NULL);
	if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
		/* 42P05: the name exists already, so this is not the session we
		 * prepared in (PgBouncer in transaction mode). */
		if (res && PQresultErrorField(res, PG_DIAG_SQLSTATE) &&
		    strcmp(PQresultErrorField(res, PG_DIAG_SQLSTATE), "42P05") == 0)
			db->noprep = true;
		PQclear(res);
		wsp_free(copy);
		return -1;
	}
	PQclear(res);
	db->stmt[db->nstmt] = copy;
	return db->nstmt++;
}

static PGresult *run(wsp_db *db, const char *sql, int n, const char *const *params)
{
	char name[16];
	PGresult *res;
	const char *st;
	int i = prepared(db, sql, n);

	if (i < 0)
		return PQexecParams(db->conn, sql, n, NULL, params, NULL, NULL, 0);
	snprintf(name, sizeof(name), "wsp_%d", i);
	res = PQexecPrepared(db->conn, name, n, params, NULL, NULL, 0);
	st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	/* The statement is gone (26000: a pooler gave us another server session,
	 * or ran DISCARD ALL: stop preparing on this connection) or its plan no
	 * longer fits the table (0A000 after a migration changed it: prepare
	 * afresh).  Either way this one runs unprepared. */
	if (st && strcmp(st, "26000") == 0) {
		PQclear(res);
		forget_statements(db);
		db->noprep = true;
		return PQexecParams(db->conn, sql, n, NULL, params, NULL, NULL, 0);
	}
	if (st && strcmp(st, "0A000") == 0) {
		PQclear(res);
		forget_statements(db);
		if (PQstatus(db->conn) == CONNECTION_OK && PQtransactionStatus(db->conn) == PQTRANS_IDLE)
			PQclear(PQexec(db->conn, "DEALLOCATE ALL"));
		return PQexecParams(db->conn, sql, n, NULL, params, NULL, NULL, 0);
	}
	return res;
}

wsp_db_res *wsp_db_query(wsp_db *db, const char *sql, int n, const char *const *params,
			 wsp_error *err)
{
	if (PQstatus(db->conn) != CONNECTION_OK && !wsp_db_ok(db)) {
		wsp_error_set(err, WSP_ERR_DB, "database unavailable: connection lost");
		return NULL;
	}
	return check(db, run(db, sql, n, params), err);
}

int wsp_db_exec(wsp_db *db, const char *sql, int n, const char *const *params, wsp_error *err)
{
	wsp_error e;
	wsp_db_res *r;

	wsp_error_init(&e);
	r = wsp_db_query(db, sql, n, params, &e);
	if (!r) {
		wsp_error_set(err, e.code, "%s", e.text);
		return e.code;
	}
	wsp_db_res_free(r);
	return 0;
}

int wsp_db_exec_script(wsp_db *db, const char *sql, wsp_error *err)
{
	wsp_error e;
	wsp_db_res *r;

	wsp_error_init(&e);
	r = check(db, PQexec(db->conn, sql), &e);
	if (!r) {
		wsp_error_set(err, e.code, "%s", e.text);
		return e.code;
	}
	wsp_db_res_free(r);
	return 0;
}

int wsp_db_nrows(const wsp_db_res *r) { return PQntuples(r->res); }

const char *wsp_db_get(const wsp_db_res *r, int row, int col)
{
	return PQgetvalue(r->res, row, col);
}

int wsp_db_isnull(const wsp_db_res *r, int row, int col) { return PQgetisnull(r->res, row, col); }

long wsp_db_affected(const wsp_db_res *r)
{
	const char *s = PQcmdTuples(r->res);

	return s && *s ? strtol(s, NULL, 10) : 0;
}

void wsp_db_res_free(wsp_db_res *r)
{
	if (!r)
		return;
	PQclear(r->res);
	wsp_free(r);
}
