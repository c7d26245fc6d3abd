/* pubgroup.h - group commit of single REST publishes (issue 18).
 *
 * The single publishes that one wspulse.fcgi process serves at the same time
 * share one statement and one commit.  The first request that finds no group
 * in flight becomes the leader: it takes every publish queued so far (its
 * own first, then in arrival order, at most WSP_PUBGROUP_MAX) and sends them
 * on the group's ONE database connection (only a leader uses it, and there
 * is one leader at a time) as one INSERT of all their rows in autocommit
 * (pubgroup.c): one round trip and one commit for the group, and every
 * listening daemon is woken once for it instead of once per publish.  The
 * caller has checked every item against wsp_publish_text()'s rules
 * (db/007_publish.sql) and the size limit: the statement writes the outbox
 * directly and re-checks nothing but the table's own constraints.
 * Requests arriving meanwhile queue behind it; when the group is answered,
 * the oldest of them leads the next one.  A request is answered
 * only after the statement that holds its row returned, i.e. after that
 * commit: nothing is acknowledged that is not committed (with the database's
 * own synchronous_commit; nothing here turns it off).
 *
 * Order: ids follow the queue order and one group commits before the next is
 * sent, so a client that waits for its answer before it publishes again has
 * its publishes delivered in that order; concurrent publishes of different
 * requests have no order of their own and get one here.
 *
 * Failures.  A refusal by the server (a constraint) rolls the whole
 * statement back, so nothing of the group is stored; the leader then sends
 * the group's publishes one by one, so each gets its own answer (only the
 * bad one fails).  A lost connection (or any
 * failure whose outcome is unknown) answers every publish of the group
 * WSP_ERR_DB: whether the statement committed cannot be known, so nothing is
 * sent again here — this module never stores a publish twice.  So does a
 * statement that ran but whose answer cannot be read (out of memory, not
 * one id per row): stored, and the error's text says not to send it again.
 *
 * Threads: one wsp_pubgroup per process, shared by every worker thread;
 * wsp_pubgroup_publish() blocks the calling thread until its publish is
 * answered.
 */
#ifndef WSP_PUBGROUP_H
#define WSP_PUBGROUP_H

#include <stdatomic.h>

#include "db.h"
#include "error.h"

/* Most publishes one statement carries. */
#define WSP_PUBGROUP_MAX 256

typedef struct wsp_pubgroup wsp_pubgroup;

/* One publish, on the stack of the request that makes it.  The caller fills
 * the inputs (BORROWED: they must live until wsp_pubgroup_publish returns)
 * and reads the results. */
typedef struct wsp_pubgroup_item {
	/* in */
	const char *ns;            /* namespace */
	const char *payload;       /* data as JSON text, stored byte for byte */
	const char *username;      /* "" for the API token */
	const char *to;            /* NULL, a client id or "user:<name>" */
	/* out */
	long long id;              /* the outbox id, when rc == 0 */
	int rc;                    /* 0, or a negative WSP_ERR_* with err set */
	wsp_error err;
	char sqlstate[6];          /* of a refusal by the server, else "" */
	/* private to pubgroup.c */
	struct wsp_pubgroup_item *next;
	atomic_int state;
} wsp_pubgroup_item;

/* A new, empty group that publishes through `conninfo` (copied; connected
 * by the first leader, reconnected by a later one when it dropped).  NULL
 * when out of memory.  Free with wsp_pubgroup_free once no thread uses it
 * (closes the connection). */
wsp_pubgroup *wsp_pubgroup_new(const char *conninfo);
void wsp_pubgroup_free(wsp_pubgroup *g);

/* Publish `it` together with whatever else is being published.  Returns
 * it->rc: 0 with it->id set once the row is committed, or a negative
 * WSP_ERR_* with it->err: WSP_ERR_DB when PostgreSQL cannot be reached or the
 * connection was lost (then whether the group committed is unknown), or the
 * server's refusal with it->sqlstate (22023 bad argument, 54000 over the size
 * limit, or any other SQLSTATE). */
int wsp_pubgroup_publish(wsp_pubgroup *g, wsp_pubgroup_item *it);

/* Send v[0..n) (n >= 1, the items' inputs checked as for
 * wsp_pubgroup_publish) as the group's ONE statement on the caller's
 * connection `db`, in autocommit (not inside a transaction of the caller's),
 * and fill in every item's answer as wsp_pubgroup_publish would.  Returns 1
 * when the server refused the statement (it was rolled back: nothing stored;
 * every item answered with that refusal and its SQLSTATE, which names no
 * item when n > 1), else 0.  h_publish.c sends a batch publish this way: all
 * or nothing, one round trip. */
int wsp_pubgroup_send(wsp_db *db, wsp_pubgroup_item **v, int n);

/* Groups sent and publishes they carried since the start (for the debug log
 * and the tests' figures). */
void wsp_pubgroup_counts(wsp_pubgroup *g, unsigned long long *groups, unsigned long long *items);

#endif
