/* outbox.h - the broadcast outbox contract shared by wspulsed (relay.c
 * writes module rows and reads every row; history.c reads pages) and
 * wspulse.fcgi (h_todo.c writes rows, with its change): the table of db/001_init.sql and
 * db/008_outbox_notify_row.sql, its NOTIFY channels, the row insert and the
 * row read, written once here.  (The SQL function wsp_publish() of
 * db/007_publish.sql is the writer for other programs; it inserts the same
 * row.)
 *
 * A row is (id, namespace, payload, username, client_id, origin):
 * client_id NULL is every socket of the namespace, else one clientId or
 * "user:<name>"; origin '' is a REST broadcast, else the daemon id of the
 * daemon that delivered it itself (it skips its own rows). */
#ifndef WSP_OUTBOX_H
#define WSP_OUTBOX_H

#include <stdbool.h>

/* NOTIFY channels: an outbox row committed (the row itself, or its id:
 * db/008), module broadcasts that fit a NOTIFY (no row), and session
 * revocations ('revoke:<sid>:<reason>', token.h). */
#define WSP_OUTBOX_CHANNEL "wsp_outbox"
#define WSP_BCAST_CHANNEL "wsp_bcast"
#define WSP_SESSION_CHANNEL "wsp_session"

/* The table and the columns every writer of a row names, in this order (an
 * INSERT ... SELECT, as h_todo.c's, gives the values in it too). */
#define WSP_OUTBOX_INSERT_INTO "INSERT INTO wsp_outbox (namespace, payload, username, client_id, origin)"
/* Insert one row.  Parameters in the order of enum wsp_outbox_param; a
 * NULL client_id is every socket; origin '' for a REST broadcast. */
#define WSP_OUTBOX_SQL_INSERT \
	WSP_OUTBOX_INSERT_INTO " VALUES ($1, $2, $3, $4, coalesce($5, ''))"
/* The same, answering the new row's id (one row, one column). */
#define WSP_OUTBOX_SQL_INSERT_ID WSP_OUTBOX_SQL_INSERT " RETURNING id"
enum wsp_outbox_param {
	WSP_OUTBOX_P_NAMESPACE, WSP_OUTBOX_P_PAYLOAD, WSP_OUTBOX_P_USERNAME, WSP_OUTBOX_P_CLIENT_ID,
	WSP_OUTBOX_P_ORIGIN, WSP_OUTBOX_NPARAMS
};

/* The columns every reader of whole rows selects, in this order; decoded
 * by wsp_outbox_row_decode. */
#define WSP_OUTBOX_COLS "id, namespace, payload, username, coalesce(client_id, ''), client_id IS NULL, origin"
#define WSP_OUTBOX_NCOLS 7

/* One row read back.  The strings are BORROWED from the query result (or
 * the NOTIFY text) and valid as long as it is. */
typedef struct wsp_outbox_row {
	long long id;
	const char *ns, *payload, *username;
	const char *client_id;       /* "" when for every socket (all) */
	bool all;                    /* client_id IS NULL */
	const char *origin;          /* "" for a REST broadcast */
} wsp_outbox_row;

/* Decode the WSP_OUTBOX_NCOLS text columns of one row selected with
 * WSP_OUTBOX_COLS (col[i] is column i, "" for SQL NULL).  0, or -1 when the
 * id is not a positive number or the all flag is not t/f (row untouched
 * then). */
int wsp_outbox_row_decode(const char *const col[WSP_OUTBOX_NCOLS], wsp_outbox_row *row);

/* Decode a NOTIFY on WSP_OUTBOX_CHANNEL (db/008_outbox_notify_row.sql):
 * either the whole row, "<id>\n<t|f: all>\n<client_id>\n<origin>\n
 * <username>\n<namespace>\n<payload>", or only "<id>" (a row too large for
 * a NOTIFY).  `text` is modified in place (the newlines become NULs) and
 * row's strings point into it.  Returns 1 for a whole row, 0 for an id
 * alone (only row->id set), -1 for anything else. */
int wsp_outbox_notify_decode(char *text, wsp_outbox_row *row);

#endif
