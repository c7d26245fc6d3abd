/* pubgroup.c - see pubgroup.h. */
#include "config.h"

#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "alloc.h"
#include "buf.h"
#include "pubgroup.h"

enum { QUEUED, LEAD, DONE };

/* A queued request sleeps on its own item's state word, not on a condition
 * variable of the group's mutex: a condition variable signalled under the
 * mutex woke each follower only to make it sleep again on that mutex (7 % of
 * wspulse.fcgi's CPU under ab -c 16, in __pthread_mutex_cond_lock), and one
 * signalled outside it could be destroyed by its returning waiter first.
 * The state is written once by the leader (release) after the item's answer,
 * then the sleeper is woken; the waker touches nothing of the item after the
 * store but the word's address (a wake-up at a reused address is at most a
 * spurious one, and every futex waiter loops). */
static void state_wait(atomic_int *st)
{
	while (atomic_load_explicit(st, memory_order_acquire) == QUEUED)
		syscall(SYS_futex, st, FUTEX_WAIT_PRIVATE, QUEUED, NULL, NULL, 0);
}

static void state_set(atomic_int *st, int v)
{
	atomic_store_explicit(st, v, memory_order_release);
	syscall(SYS_futex, st, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* One per process: the publishes waiting for the next group. */
struct wsp_pubgroup {
	pthread_mutex_t mu;
	wsp_pubgroup_item *head, *tail;   /* queued, in arrival order */
	bool leading;                     /* a group is being sent */
	unsigned long long groups, items;
	char *conninfo;
	wsp_db *db;                       /* used by the leader only: one at a time */
};

wsp_pubgroup *wsp_pubgroup_new(const char *conninfo)
{
	wsp_pubgroup *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->conninfo = strdup(conninfo);
	if (!g->conninfo || pthread_mutex_init(&g->mu, NULL) != 0) {
		free(g->conninfo);
		free(g);
		return NULL;
	}
	return g;
}

void wsp_pubgroup_free(wsp_pubgroup *g)
{
	if (!g)
		return;
	wsp_db_close(g->db);
	pthread_mutex_destroy(&g->mu);
	free(g->conninfo);
	free(g);
}

void wsp_pubgroup_counts(wsp_pubgroup *g, unsigned long long *groups, unsigned long long *items)
{
	pthread_mutex_lock(&g->mu);
	*groups = g->groups;
	*items = g->items;
	pthread_mutex_unlock(&g->mu);
}

/* Append one element to a PostgreSQL array literal: NULL, or a quoted
 * string with '"' and '\' escaped. */
static void array_add(wsp_buf *b, const char *s, bool first)
{
	const char *p;

	if (!first)
		wsp_buf_add(b, ",", 1);
	if (!s) {
		wsp_buf_puts(b, "NULL");
		return;
	}
	wsp_buf_add(b, "\"", 1);
	while ((p = strpbrk(s, "\"\\")) != NULL) {
		wsp_buf_add(b, s, (size_t)(p - s));
		wsp_buf_add(b, "\\", 1);
		wsp_buf_add(b, p, 1);
		s = p + 1;
	}
	wsp_buf_puts(b, s);
	wsp_buf_add(b, "\"", 1);
}

/* Every item of the group failed the same way. */
static void fail_all(wsp_pubgroup_item **v, int n, const wsp_error *err, const char *st)
{
	for (int i = 0; i < n; i++) {
		v[i]->rc = err->code ? err->code : WSP_ERR_INTERNAL;
		v[i]->err = *err;
		snprintf(v[i]->sqlstate, sizeof(v[i]->sqlstate), "%s", st);
	}
}

/* The group's statement: the rows, already checked by the caller against
 * wsp_publish_text()'s rules (h_publish.c), stored by ONE insert in autocommit.
 * The ids are taken in array order first (the MATERIALIZED CTE evaluates
 * nextval once per element, as unnest emits them) and the rows inserted in
 * that order, so the row triggers' NOTIFYs (db/008) follow it too; the ids
 * come back in array order.  Plain SQL, not a function: the plpgsql
 * wsp_publish_batch() (db/009) spent over half of its backend's CPU in the
 * function itself (its re-check of every rule, the SECURITY DEFINER switch,
 * SPI plans) for checks wspulse.fcgi has made already. */
static const char group_sql[] =
	"WITH t AS MATERIALIZED ("
	"SELECT o, nextval('wsp_outbox_id_seq'::regclass) AS id, ns, p, u, c"
	" FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS t(ns, p, u, c, o)),"
	" ins AS (INSERT INTO wsp_outbox (id, namespace, payload, username, client_id)"
	" SELECT id, ns, p, u, c FROM t ORDER BY o)"
	" SELECT id FROM t ORDER BY o";

int wsp_pubgroup_send(wsp_db *db, wsp_pubgroup_item **v, int n)
{
	wsp_buf a[4];
	const char *p[4];
	wsp_db_res *r;
	wsp_error err;
	int rc = 0;

	for (int k = 0; k < 4; k++)
		wsp_buf_init(&a[k]);
	for (int k = 0; k < 4; k++)
		wsp_buf_add(&a[k], "{", 1);
	for (int i = 0; i < n; i++) {
		array_add(&a[0], v[i]->ns, i == 0);
		array_add(&a[1], v[i]->payload, i == 0);
		array_add(&a[2], v[i]->username, i == 0);
		array_add(&a[3], v[i]->to, i == 0);
	}
	for (int k = 0; k < 4; k++)
		wsp_buf_add(&a[k], "}", 1);
	wsp_error_init(&err);
	if (a[0].oom || a[1].oom || a[2].oom || a[3].oom) {
		wsp_error_set(&err, WSP_ERR_NOMEM, "out of memory");
		fail_all(v, n, &err, "");
		goto out;
	}
	for (int k = 0; k < 4; k++)
		p[k] = wsp_buf_str(&a[k]);
	r = wsp_db_query(db, group_sql, 4, p, &err);
	if (!r) {
		const char *st = wsp_db_last_sqlstate(db);

		/* A statement the server refused (an SQLSTATE, connection still
		 * up) was rolled back; anything else has an unknown outcome.
		 * Either way every item carries the failure. */
		if (err.code == WSP_ERR_NOMEM) {
			/* wsp_db_query fails so only on the answer of a statement
			 * that ran: stored.  Not an error a client may retry. */
			wsp_error_set(&err, WSP_ERR_DB, "stored, but out of memory reading its id: do not publish it again");
			st = "";
		} else if (err.code != WSP_ERR_DB && st[0] && wsp_db_ok(db)) {
			rc = 1;
		} else {
			st = "";
		}
		fail_all(v, n, &err, st);
		goto out;
	}
	for (int i = 0; i < n; i++) {
		const char *id = i < wsp_db_nrows(r) ? wsp_db_get(r, i, 0) : "";
		char *end;

		errno = 0;
		v[i]->id = strtoll(id, &end, 10);
		if (end == id || *end || errno) {
			/* Committed, but the answer is not one id per row: stored,
			 * so not an error to retry on (WSP_ERR_DB: the outcome is
			 * not the one the caller can act on). */
			wsp_error_set(&err, WSP_ERR_DB, "stored, but the group statement returned %d rows for %d "
				      "publishes: do not publish them again", wsp_db_nrows(r), n);
			for (int j = i; j < n; j++) {
				v[j]->rc = WSP_ERR_DB;
				v[j]->err = err;
			}
			break;
		}
		v[i]->rc = 0;
	}
	wsp_db_res_free(r);
out:
	for (int k = 0; k < 4; k++)
		wsp_buf_cleanup(&a[k]);
	return rc;
}

/* The leader's work: the group v[0..n) sent on the group's connection
 * ((re)connected first if need be), every item answered. */
static void run_group(wsp_pubgroup *g, wsp_pubgroup_item **v, int n)
{
	wsp_error err;
	wsp_db *db;

	if (g->db && !wsp_db_ok(g->db)) {
		/* The reset inside wsp_db_ok failed: start afresh. */
		wsp_db_close(g->db);
		g->db = NULL;
	}
	if (!g->db) {
		wsp_error_init(&err);
		g->db = wsp_db_connect(g->conninfo, &err);
		if (!g->db) {
			if (!err.code)
				wsp_error_set(&err, WSP_ERR_DB, "PostgreSQL unreachable");
			err.code = WSP_ERR_DB;
			fail_all(v, n, &err, "");
			return;
		}
	}
	db = g->db;
	if (wsp_pubgroup_send(db, v, n) == 0 || n == 1)
		return;
	/* Refused and rolled back: each alone, for its own answer. */
	for (int i = 0; i < n; i++)
		wsp_pubgroup_send(db, &v[i], 1);
}

int wsp_pubgroup_publish(wsp_pubgroup *g, wsp_pubgroup_item *it)
{
	wsp_pubgroup_item *v[WSP_PUBGROUP_MAX], *next;
	int n = 0;

	it->rc = 0;
	it->id = 0;
	it->sqlstate[0] = '\0';
	wsp_error_init(&it->err);
	it->next = NULL;
	atomic_init(&it->state, QUEUED);
	pthread_mutex_lock(&g->mu);
	if (g->tail)
		g->tail->next = it;
	else
		g->head = it;
	g->tail = it;
	if (!g->leading) {
		/* Nothing in flight, so the queue held nothing before it. */
		g->leading = true;
		atomic_store_explicit(&it->state, LEAD, memory_order_relaxed);
	}
	pthread_mutex_unlock(&g->mu);
	state_wait(&it->state);
	if (atomic_load_explicit(&it->state, memory_order_acquire) == DONE)
		return it->rc;
	/* Leading: it is the head; take it and what queued behind it. */
	pthread_mutex_lock(&g->mu);
	while (g->head && n < WSP_PUBGROUP_MAX) {
		v[n++] = g->head;
		g->head = g->head->next;
	}
	if (!g->head)
		g->tail = NULL;
	g->groups++;
	g->items += (unsigned long long)n;
	pthread_mutex_unlock(&g->mu);

	run_group(g, v, n);

	pthread_mutex_lock(&g->mu);
	next = g->head;
	if (!next)
		g->leading = false;
	pthread_mutex_unlock(&g->mu);
	/* The answered ones first: the next leader then takes whatever
	 * queued meanwhile (larger groups, fewer commits). */
	for (int i = 1; i < n; i++)
		state_set(&v[i]->state, DONE);
	if (next)
		state_set(&next->state, LEAD);
	return it->rc;
}
