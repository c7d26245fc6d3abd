/* db.h - blocking PostgreSQL access for wspulse.fcgi and wspulse-admin.
 *
 * The only module (with the daemon's non-blocking bus) that includes
 * libpq-fe.h: callers see opaque handles.  Every statement is parameterised
 * (PQexecParams with text parameters); there is deliberately no call that
 * takes SQL built from user input.  The daemon's event loop never uses this
 * module (it must not block); only `wspulsed --check-config` does, before
 * any loop exists.
 */
#ifndef WSP_DB_H
#define WSP_DB_H

#include "error.h"

typedef struct wsp_db wsp_db;         /* one connection; not thread-safe */
typedef struct wsp_db_res wsp_db_res; /* one query result */

/* Connect.  On failure returns NULL and err says which host could not be
 * reached and why, in one line. */
wsp_db *wsp_db_connect(const char *conninfo, wsp_error *err);
void wsp_db_close(wsp_db *db);

/* 1 if the connection is up (input the server sent meanwhile is consumed,
 * so a connection the server closed is noticed); if not, try one reset and
 * report again. */
int wsp_db_ok(wsp_db *db);

/* Run `sql` with `n` text parameters (NULL entries are SQL NULL).  Each
 * distinct text is prepared on the connection the first time it runs (at most
 * 64 per connection; a reset forgets them), so `sql` must be one statement and
 * should be a constant: values go in params.  Returns a
 * result (even with zero rows) or NULL with err set: WSP_ERR_DB when the
 * server is unreachable, WSP_ERR_INVALID for a constraint/data error, and
 * WSP_ERR_INTERNAL for any other failure the server reported (the SQLSTATE is
 * in the text and in wsp_db_last_sqlstate). */
wsp_db_res *wsp_db_query(wsp_db *db, const char *sql, int n, const char *const *params,
			 wsp_error *err);

/* Run a statement that returns no rows; 0 or a negative code as above. */
int wsp_db_exec(wsp_db *db, const char *sql, int n, const char *const *params, wsp_error *err);

/* Run a whole script of several statements with no parameters (migrations
 * only: the text comes from the installed db/ files, never from a user). */
int wsp_db_exec_script(wsp_db *db, const char *sql, wsp_error *err);

/* SQLSTATE of the last failed statement ("" if none). */
const char *wsp_db_last_sqlstate(wsp_db *db);

int wsp_db_nrows(const wsp_db_res *r);
/* Value as text, "" for NULL; valid until wsp_db_res_free. */
const char *wsp_db_get(const wsp_db_res *r, int row, int col);
int wsp_db_isnull(const wsp_db_res *r, int row, int col);
/* Number of rows affected by an UPDATE/DELETE/INSERT. */
long wsp_db_affected(const wsp_db_res *r);
void wsp_db_res_free(wsp_db_res *r);

/* "host=... port=..." of a conninfo for messages (no password). */
void wsp_db_describe(const char *conninfo, char *out, size_t outsz);

/* The conninfo as keyword=value pairs with the password (and any other
 * value libpq itself hides: sslpassword) as ***,
 * for a log line that names a changed `database`; "(unparsable)" when
 * libpq cannot read it. */
void wsp_db_redact(const char *conninfo, char *out, size_t outsz);

#endif
