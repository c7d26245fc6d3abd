/* history.c - ?since= catch-up of one client (see history.h).
 *
 * A client that reconnects with ?since=S has every message for it with an
 * id <= S.  It is sent the committed public rows of its namespace with
 * id > S in PAGES, oldest first.  A page is sized to the free half of the
 * client's send queue (rows and bytes) and the next page is queried only
 * when the queue has drained to a quarter: the socket's pace sets the
 * catch-up's, so however much the client missed it converges and is never
 * closed for a full queue.  Rows addressed to a clientId are never replayed
 * (a clientId is not a credential); rows addressed to a user are, to that
 * user's sockets.
 *
 * Live outbox messages for the client meanwhile (history_live) need no
 * holding: the bus runs one query at a time, in order, so every live
 * message that reaches the client before a page's answer was fetched (or
 * inserted) by a query that ran before the page's, i.e. it committed before
 * the page's snapshot.  So a live id above the cursor is dropped (the page
 * in flight or the next one returns it: it is committed) and one at or
 * below it committed out of order after an earlier page's query and is
 * sent.  Ids the pages sent that this daemon has not yet delivered live are
 * remembered (until the daemon's floor passes them) so the live copy is
 * skipped.  So nothing is sent twice and nothing is lost.
 *
 * A worker fed by the supervisor's shared reader (reader.h) gets its
 * notifications on another connection than its page queries, so a live
 * message may arrive before a page's answer and yet have committed after
 * that page's snapshot.  There, a live id above the cursor that arrives
 * while a page query is in flight is HELD (at most HOLD_MAX) until the page
 * answers: dropped if the page has it, or if it is above the page's last
 * row and another page follows (that page's query comes after its commit);
 * otherwise the page's snapshot did not see it, and it is sent.  A client
 * that would need more held is closed with 1013 (it reconnects with its
 * cursor).
 *
 * The floor each message carries (envelope.h) is the client's cursor: for a
 * page row r, min(r, the daemon's floor when the page was queried), never
 * below S (every id <= that floor was committed before the query, so it was
 * in a page); live messages sent during the catch-up carry none (the
 * daemon's floor is ahead of the client); after the last page the live
 * stream's floor is true for the client too.
 *
 * Past the retention window: wsp_outbox_gone records, per namespace, the
 * highest id pruned (prune.c), and every page query reads it in the page's
 * snapshot.  When it is above the cursor C (S for the first page; pruning
 * can also overtake a catch-up that runs for long), the client first gets
 * {"success":true,"floor":U,"data":{"type":"history-gap","from":C+1,
 * "to":U,...}}: rows in [from, to] may be gone, reload the state; the
 * catch-up then goes on from U.
 *
 * A full queue (wsp__history_overflow): the relay hands a namespace's
 * clients what one fetch brought at once -- the ids NOTIFYd while a fetch
 * was in flight, a 500-row replay page after a reconnect.  Such a burst can
 * be more than a client's queue holds although the client reads well.
 * Closing it 1008 would lose those rows for a reader that did nothing
 * wrong; instead it gets the same paged catch-up from the row that did not
 * fit: S = min(the daemon's floor, that id - 1), and a copy of the daemon's
 * window (cursor.h) says which ids above S it has already been given (or
 * that came before it connected), so the pages skip those -- all but the
 * id that did not fit.  Such a catch-up also pages the rows addressed to
 * its own clientId (live delivery would have sent them to this very
 * socket), and, in a namespace without history, not this daemon's own
 * module broadcasts (those were delivered locally without an id; their
 * outbox row is only for the other daemons).  A peer that stopped reading
 * (its socket full) is not a burst: it is closed 1008 as before.
 *
 * From memory first: while the namespace's backlog (backlog.h) is within
 * its bounds, such a client does not page at all.  It joins the backlog at
 * the row that did not fit, the fan-out skips it for outbox rows and keeps
 * them there (wsp__history_keep), and after each write it reads on (pull)
 * as the fan-out would have given them -- the same sequence, later, so
 * order and floors are live delivery's -- until it reaches the end and
 * takes live rows again (mem_done).  Each row it passes is marked in its
 * window copy; when the backlog passes a bound and the client is among
 * those furthest behind, it pages from the outbox after all (to_pages),
 * from that window: the pages skip what the backlog gave it. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "daemon/backlog.h"
#include "daemon/bus.h"
#include "daemon/cursor.h"
#include "daemon/envelope.h"
#include "daemon/history.h"
#include "daemon/idwin.h"
#include "json.h"
#include "log.h"
#include "outbox.h"

#define PAGE_ROWS 256
/* A page row is WSP_OUTBOX_COLS, the count of rows the LIMIT let in, and
 * the namespace's highest pruned id (wsp_outbox_gone, NULL: none). */
#define PAGE_COL_TOTAL WSP_OUTBOX_NCOLS
#define PAGE_COL_GONE (WSP_OUTBOX_NCOLS + 1)
#define HOLD_MAX 4096       /* live messages held for one page answer */
#define RETRY_MS 1000       /* a failed page query is tried again after this */
#define ROW_OVERHEAD 256    /* envelope bytes around a payload, generously */

/* One per client with a ?since= catch-up, from connect until it is done and
 * no id it sent can come live any more. */
struct wsp_catchup {
	long long since;             /* the client has every id <= since */
	long long from;              /* the next page starts after this id */
	long long qfloor;            /* the daemon's floor (cursor.h) when the page was queried */
	int limit;                   /* rows asked of the page in flight */
	bool query;                  /* a page query is in flight */
	bool wait;                   /* the next page waits for the queue to drain */
	bool pending;                /* the next page waits for the bus */
	bool replaying;              /* pages still to come (not caught up yet) */
	unsigned pages;
	long long rows;
	long long *ids;              /* ids pages sent above the daemon's floor, sorted */
	int nids, capids;
	bool queue;                  /* started by a full queue, not by ?since= (top of file) */
	wsp_idwin *skip;             /* queue: the daemon's window when it started: ids c was given ... */
	long long skip_not;          /* ... except this one, the id that did not fit */
	bool mem;                    /* queue: reading the namespace's backlog, no page yet */
	unsigned long long pos;      /* mem: the next backlog entry (backlog.h) */
	wsp_msg **held;              /* live messages held for the page in flight (shared reader) */
	long long *held_ids;
	int nheld, capheld;
};

/* Forget the held live messages. */
static void release_held(struct wsp_catchup *cu)
{
	for (int i = 0; i < cu->nheld; i++)
		wsp_msg_unref(cu->held[i]);
	cu->nheld = 0;
}

/* Hold m (a reference is taken).  false: over HOLD_MAX or out of memory. */
static bool hold(struct wsp_catchup *cu, wsp_msg *m, long long id)
{
	if (cu->nheld == cu->capheld) {
		int ncap = cu->capheld ? cu->capheld * 2 : 16;
		wsp_msg **h;
		long long *hi;

		if (ncap > HOLD_MAX)
			return false;
		h = wsp_realloc(cu->held, sizeof(*h) * (size_t)ncap);
		if (!h)
			return false;
		cu->held = h;
		hi = wsp_realloc(cu->held_ids, sizeof(*hi) * (size_t)ncap);
		if (!hi)
			return false;
		cu->held_ids = hi;
		cu->capheld = ncap;
	}
	cu->held[cu->nheld] = wsp_msg_ref(m);
	cu->held_ids[cu->nheld++] = id;
	return true;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

static bool has_id(const struct wsp_catchup *cu, long long id)
{
	return cu->nids && bsearch(&id, cu->ids, (size_t)cu->nids, sizeof(*cu->ids), cmp_ll) != NULL;
}

/* Forget ids the daemon's floor has passed: no live copy can come now. */
static void prune_ids(wsp_client *c)
{
	struct wsp_catchup *cu = c->cu;
	long long floor = wsp__cursor_floor(c->srv->cursor);
	int k = 0;

	while (k < cu->nids && cu->ids[k] <= floor)
		k++;
	if (k) {
		memmove(cu->ids, cu->ids + k, sizeof(*cu->ids) * (size_t)(cu->nids - k));
		cu->nids -= k;
	}
}

/* Remember id, kept sorted (a page's ids come in order, after every id an
 * earlier page of the same catch-up sent; a burst catch-up that follows an
 * earlier one may remember ids above its own).  false: out of memory. */
static bool add_id(struct wsp_catchup *cu, long long id)
{
	int at = cu->nids;

	while (at > 0 && cu->ids[at - 1] >= id)
		at--;
	if (at < cu->nids && cu->ids[at] == id)
		return true;
	if (cu->nids == cu->capids) {
		int ncap = cu->capids ? cu->capids * 2 : 64;
		long long *p = wsp_realloc(cu->ids, sizeof(*p) * (size_t)ncap);

		if (!p)
			return false;
		cu->ids = p;
		cu->capids = ncap;
	}
	memmove(cu->ids + at + 1, cu->ids + at, sizeof(*cu->ids) * (size_t)(cu->nids - at));
	cu->ids[at] = id;
	cu->nids++;
	return true;
}

static void page_done(void *arg, const wsp_bus_res *r, const char *error);

/* A client that reconnected with ?since=S has every id <= S, also when
 * this daemon (or worker) is behind it and delivers such an id live after
 * the catch-up ended (or found nothing above S). */
static bool since_has(const wsp_client *c, long long id)
{
	return c->since >= 0 && id <= c->since && c->ns->opts.history;
}

/* The catch-up has sent what it had to: live delivery again.  The ids its
 * pages sent are still skipped (has_id) until the daemon's floor passes
 * them; with none left, the catch-up goes. */
static void caught_up(wsp_client *c)
{
	struct wsp_catchup *cu = c->cu;

	cu->replaying = false;
	wsp_free(cu->skip);
	cu->skip = NULL;
	prune_ids(c);
	if (!cu->nids)
		wsp__history_drop(c);
}

void wsp__history_drop(wsp_client *c)
{
	bool query;

	if (!c->cu)
		return;
	if (c->cu->mem)
		wsp_backlog_leave(&c->ns->backlog, c->cu->pos);
	query = c->cu->query;
	release_held(c->cu);
	wsp_free(c->cu->held);
	wsp_free(c->cu->held_ids);
	wsp_free(c->cu->ids);
	wsp_free(c->cu->skip);
	wsp_free(c->cu);
	c->cu = NULL;
	/* A page query still queued behind others is nobody's now: taken
	 * back, so clients that connect with ?since= and go cannot pile
	 * queries up on the daemon's one connection (page_done then only
	 * drops the query's reference). */
	if (query && wsp_bus_cancel(c->srv->bus, page_done, c) > 0)
		wsp_debug(c->ns->path, "client %s: its queued catch-up page query cancelled", c->id);
}

/* Send a live message to a client whose catch-up is not done: without the
 * daemon's floor, which is ahead of the client's. */
static void push_unfloored(wsp_client *c, wsp_msg *m)
{
	wsp_msg *u = wsp_envelope_unfloor(m);

	if (u) {
		wsp__client_push(c, u);
		wsp_msg_unref(u);
	}
}

bool wsp__history_live(wsp_client *c, wsp_msg *m, long long id, bool addressed)
{
	struct wsp_catchup *cu = c->cu;
	bool hit;

	if (since_has(c, id))
		return true;
	if (!cu)
		return false;
	if (!c->wsi || c->closing)
		return true;
	if (!cu->replaying) {
		/* Done: only skip what a page already sent. */
		hit = has_id(cu, id);
		prune_ids(c);
		if (!cu->nids)
			wsp__history_drop(c);
		return hit;
	}
	if (id <= cu->since || has_id(cu, id))
		return true;            /* the client has it */
	if ((!addressed || cu->queue) && id > cu->from) {
		/* Committed: this page or the next returns it -- unless it came
		 * through the shared reader while a page query was in flight
		 * (see the top of this file). */
		if (cu->query && c->srv->shared_reader && !hold(cu, m, id))
			wsp_client_close(c, 1013, "catch-up overrun, reconnect");
		return true;
	}
	push_unfloored(c, m);
	return true;
}

static void start(wsp_client *c);
static void pull(wsp_client *c);

void wsp__history_drained(wsp_client *c)
{
	struct wsp_catchup *cu = c->cu;
	const wsp_config *cfg = c->srv->cfg;

	if (cu && cu->mem && !c->closing && c->wsi) {
		pull(c);
		return;
	}
	if (!cu || !cu->wait || c->closing || !c->wsi)
		return;
	if (c->q.count > (unsigned)cfg->send_queue_max_messages / 4 ||
	    c->q.bytes > (size_t)cfg->send_queue_max_bytes / 4)
		return;
	cu->wait = false;
	start(c);
}

/* The gap notice: rows of this namespace in (after, upto] may have been
 * pruned before a page reached them; the catch-up goes on after upto. */
static void gap(wsp_client *c, long long after, long long upto)
{
	struct wsp_catchup *cu = c->cu;
	json_t *e = json_pack("{s:b, s:I, s:{s:s, s:I, s:I, s:s}}", "success", 1, "floor", (json_int_t)upto, "data",
			      "type", "history-gap", "from", (json_int_t)(after + 1), "to", (json_int_t)upto,
			      "username", "");
	size_t len = 0;
	char *text = e ? wsp_json_dump(e, &len) : NULL;
	wsp_msg *m = text ? wsp_msg_new(text, len) : NULL;

	wsp_info(c->ns->path, "client %s: its catch-up after id %lld is past the retention window (ids up to %lld "
		 "pruned), sent history-gap", c->id, after, upto);
	if (m) {
		wsp__client_push(c, m);
		wsp_msg_unref(m);
	}
	wsp_free(text);
	json_decref(e);
	cu->since = upto;
	cu->from = upto;
}

static void retry_cb(lws_sorted_usec_list_t *sul)
{
	wsp_server *srv = lws_container_of(sul, wsp_server, history_sul);

	srv->history_retry = false;
	wsp__history_resume(srv);
}

/* Page queries failed while the bus stayed up: every catch-up that waits
 * is started again in RETRY_MS (once per failure burst; a query that keeps
 * failing is tried once a RETRY_MS, never in a tight loop). */
static void retry_later(wsp_server *srv)
{
	if (srv->history_retry)
		return;
	srv->history_retry = true;
	wsp_info(NULL, "a catch-up page query failed: trying again in %d ms", RETRY_MS);
	lws_sul_schedule(srv->ctx, 0, &srv->history_sul, retry_cb, (lws_usec_t)RETRY_MS * 1000);
}

void wsp__history_stop(wsp_server *srv)
{
	if (srv->history_retry && srv->ctx)
		lws_sul_cancel(&srv->history_sul);
	srv->history_retry = false;
}

static void page_done(void *arg, const wsp_bus_res *r, const char *error)
{
	wsp_client *c = arg;
	struct wsp_catchup *cu = c->cu;
	int n = wsp_bus_nrows(r), sent = 0;
	long long total, last = 0, gone, after, *page = NULL;
	bool more;

	(void)error;
	if (!cu || !c->wsi || c->closing) {
		wsp__client_unref(c);
		return;
	}
	cu->query = false;
	if (!r) {
		/* The connection dropped: the query runs again once the bus is
		 * back and the daemon has replayed its own backlog (and its
		 * snapshot sees every held message, committed by then).  Or the
		 * query failed on a connection that stays up (a statement
		 * timeout, a cancel; the bus logged why): nothing else would
		 * start it again, so it is tried again shortly.  Held live
		 * messages are committed: the next page returns them. */
		release_held(cu);
		cu->pending = true;
		if (wsp_bus_up(c->srv->bus))
			retry_later(c->srv);
		wsp__client_unref(c);
		return;
	}
	/* Every answer has a row, for the gap check: one with no outbox row
	 * (NULL id) when the page is empty.  A burst catch-up's client had
	 * every id below the row that did not fit, or that id was not
	 * committed when the catch-up started (a rolled-back hole holds the
	 * daemon's floor back for up to WSP_IDWIN_BITS ids, and its cursor
	 * with it); pruning takes old rows, so only ids from that row on can
	 * be missing. */
	after = cu->skip && cu->from < cu->skip_not - 1 ? cu->skip_not - 1 : cu->from;
	if (n > 0 && !wsp_bus_isnull(r, 0, PAGE_COL_GONE) &&
	    (gone = atoll(wsp_bus_get(r, 0, PAGE_COL_GONE))) > after)
		gap(c, after, gone);
	if (n == 1 && wsp_bus_isnull(r, 0, 0))
		n = 0;
	total = n ? atoll(wsp_bus_get(r, 0, PAGE_COL_TOTAL)) : 0;
	more = n && (n < total || total >= cu->limit);
	page = n ? wsp_calloc((size_t)n, sizeof(*page)) : NULL;
	for (int i = 0; i < n; i++) {
		const char *col[WSP_OUTBOX_NCOLS];
		wsp_outbox_row row;
		long long floor;
		json_t *data;
		wsp_msg *m;

		for (int k = 0; k < WSP_OUTBOX_NCOLS; k++)
			col[k] = wsp_bus_get(r, i, k);
		if (wsp_outbox_row_decode(col, &row) < 0)
			continue;       /* page[i] stays 0: no id */
		if (page)
			page[i] = row.id;
		if (row.id > last)
			last = row.id;
		if (row.id <= cu->since || has_id(cu, row.id) ||
		    (cu->skip && row.id != cu->skip_not && wsp_idwin_seen(cu->skip, row.id)))
			continue;       /* behind a gap notice, or c has it */
		data = wsp_envelope_from_payload(row.payload, strlen(row.payload), row.username);
		floor = row.id < cu->qfloor ? row.id : cu->qfloor;
		if (floor < cu->since)
			floor = cu->since;
		if (data && (m = wsp_envelope_success_floor(data, row.id, floor))) {
			wsp__client_push(c, m);
			wsp_msg_unref(m);
			sent++;
		}
		json_decref(data);
	}
	if (last > cu->from)
		cu->from = last;
	/* Held live messages (shared reader): sent unless the page has them or
	 * the next page will. */
	for (int i = 0; i < cu->nheld; i++) {
		long long id = cu->held_ids[i];
		bool in_page = false;

		for (int j = 0; page && j < n && !in_page; j++)
			in_page = page[j] == id;
		if (!in_page && (id <= cu->from || !more))
			push_unfloored(c, cu->held[i]);
	}
	release_held(cu);
	cu->pages++;
	cu->rows += sent;
	/* Remember what this page sent above the daemon's floor: its live
	 * copy may still come. */
	for (int i = 0; page && i < n; i++)
		if (page[i] > wsp__cursor_floor(c->srv->cursor) && page[i] > cu->since && !add_id(cu, page[i]))
			break;
	wsp_free(page);
	if (more) {
		cu->wait = true;
		wsp__history_drained(c);
	} else {
		if (cu->rows && cu->queue)
			wsp_debug(c->ns->path, "client %s: caught up %lld message%s after a burst in %u page%s",
				  c->id, cu->rows, cu->rows == 1 ? "" : "s", cu->pages, cu->pages == 1 ? "" : "s");
		else if (cu->rows)
			wsp_debug(c->ns->path, "client %s: caught up %lld message%s after id %lld in %u page%s",
				  c->id, cu->rows, cu->rows == 1 ? "" : "s", c->since, cu->pages,
				  cu->pages == 1 ? "" : "s");
		caught_up(c);
	}
	wsp__client_unref(c);
}

static void start(wsp_client *c)
{
	struct wsp_catchup *cu = c->cu;
	const wsp_config *cfg = c->srv->cfg;
	char from[32], limit[16], bytes[32], to[sizeof(WSP_TO_USER) + WSP_USERNAME_MAX];
	const char *p[7] = { c->ns->path, from, limit, bytes, c->user ? to : NULL,
			     cu->queue ? c->id : NULL, cu->queue && !c->ns->opts.history ? c->srv->id : NULL };
	long rows = cfg->send_queue_max_messages / 2 - (long)c->q.count;
	long long budget, floor;

	cu->pending = false;
	if (!wsp_bus_up(c->srv->bus) || wsp__cursor_replaying(c->srv->cursor)) {
		cu->pending = true;
		return;
	}
	if (rows > PAGE_ROWS)
		rows = PAGE_ROWS;
	if (rows < 1)
		rows = 1;
	budget = (long long)(cfg->send_queue_max_bytes / 2) - (long long)c->q.bytes - rows * ROW_OVERHEAD;
	if (budget < 1)
		budget = 1;     /* the first row always comes */
	snprintf(from, sizeof(from), "%lld", cu->from);
	snprintf(limit, sizeof(limit), "%ld", rows);
	snprintf(bytes, sizeof(bytes), "%lld", budget);
	if (c->user)
		snprintf(to, sizeof(to), WSP_TO_USER "%s", c->user->name);
	/* Rows in id order up to `limit`, cut where their payloads pass the
	 * byte budget (the first always comes); `total` says whether the cut
	 * left some, i.e. whether another page follows.  With them, in the
	 * same snapshot, the highest id pruning took from the namespace
	 * (pruning deletes rows and records that in one transaction): rows
	 * above the cursor pruned before this page reached them are named in
	 * a history-gap, on the first page (a ?since= from before the
	 * retention window) or any later one. */
	/* Marked in flight before it is queued: a connection that fails while
	 * it is sent answers it (page_done with NULL) before wsp_bus_query
	 * returns. */
	cu->query = true;
	cu->limit = (int)rows;
	floor = wsp__cursor_floor(c->srv->cursor);
	cu->qfloor = floor >= 0 ? floor : cu->since;
	wsp__client_ref(c);
	if (wsp_bus_query(c->srv->bus,
			  "SELECT p.*, g.upto FROM (SELECT (SELECT upto FROM wsp_outbox_gone WHERE namespace = $1) "
			  "AS upto) g LEFT JOIN (SELECT " WSP_OUTBOX_COLS ", total FROM (SELECT s.*, "
			  "count(*) OVER () AS total, sum(octet_length(payload)) OVER (ORDER BY id) - "
			  "octet_length(payload) AS before FROM (SELECT * FROM wsp_outbox "
			  "WHERE namespace = $1 AND id > $2::bigint "
			  "AND (client_id IS NULL OR client_id = $5 OR client_id = $6) "
			  "AND ($7::text IS NULL OR origin <> $7) "
			  "ORDER BY id LIMIT $3::int) s) t WHERE before < $4::bigint) p ON true ORDER BY p.id",
			  7, p, page_done, c) < 0) {
		wsp__client_unref(c);
		cu->query = false;
		cu->pending = true;
	}
}

void wsp__history_start(wsp_client *c)
{
	struct wsp_catchup *cu;

	if (!c->ns->opts.history || c->since < 0)
		return;
	cu = wsp_calloc(1, sizeof(*cu));
	if (!cu) {
		wsp__closing_warn(c, "out of memory for its catch-up, closing 1011");
		wsp_client_close(c, 1011, "out of memory");
		return;
	}
	cu->since = cu->from = c->since;
	cu->replaying = true;
	c->cu = cu;
	c->srv->metrics.replays_client++;
	start(c);
}

bool wsp__history_overflow(wsp_client *c, long long id)
{
	struct wsp_catchup *cu = c->cu;
	wsp_backlog *b = &c->ns->backlog;
	wsp_idwin *w;

	if (cu && cu->replaying)
		return false;   /* pages or the backlog pace it already: that pace is too slow */
	w = wsp_malloc(sizeof(*w));
	if (!w || !wsp__cursor_copy(c->srv->cursor, w) || (!cu && !(cu = wsp_calloc(1, sizeof(*cu))))) {
		wsp_free(w);
		return false;
	}
	/* A catch-up that ended but still remembers ids its pages sent keeps
	 * them: the pages skip those too (has_id). */
	wsp_free(cu->skip);
	cu->skip = w;
	cu->skip_not = id;
	cu->queue = true;
	cu->since = cu->from = w->floor < id - 1 ? w->floor : id - 1;
	/* Never below a ?since= of its own: it has those ids already. */
	if (c->ns->opts.history && c->since > cu->since)
		cu->since = cu->from = c->since;
	cu->replaying = true;
	cu->pages = 0;
	cu->rows = 0;
	c->cu = cu;
	c->srv->metrics.replays_queue++;
	/* From memory while the namespace's backlog has room: this row and
	 * the rest come from there (wsp__history_keep keeps them). */
	wsp_backlog_bound(b, (unsigned)c->srv->cfg->backlog_max_messages, (size_t)c->srv->cfg->backlog_max_bytes);
	cu->mem = wsp_backlog_open(b);
	if (cu->mem)
		cu->pos = wsp_backlog_join(b);
	cu->wait = !cu->mem;    /* the first page once the queue has drained */
	if (!cu->mem)
		c->srv->metrics.replays_queue_pages++;
	if (wsp_log_limit_ok(&c->srv->burst_rl, 10, WSP_LOG_INFO, "burst catch-ups")) {
		if (cu->mem)
			wsp_info(c->ns->path, "client %s: outbox id %lld would pass its send queue (%u messages, "
				 "%zu bytes) while its socket takes bytes: it catches up from memory (the "
				 "namespace's backlog, %u entries kept)", c->id, id, c->q.count, c->q.bytes, b->count);
		else
			wsp_info(c->ns->path, "client %s: outbox id %lld would pass its send queue (%u messages, "
				 "%zu bytes) while its socket takes bytes: it catches up from the outbox after id %lld",
				 c->id, id, c->q.count, c->q.bytes, cu->since);
	}
	return true;
}

bool wsp__history_lagging(const wsp_client *c)
{
	return c->cu && c->cu->mem;
}

/* A client the backlog left behind (its bounds, or no memory to keep a
 * row) gets the rest from the outbox in pages.  What it was given from
 * the backlog is marked in its window (pull), so the pages skip it; every
 * id at or below the window's floor it has -- but the row that did not fit
 * while the backlog has not given it yet (the daemon's floor may have
 * passed it). */
static void to_pages(wsp_client *c, const char *why)
{
	struct wsp_catchup *cu = c->cu;
	unsigned long long behind = wsp_backlog_end(&c->ns->backlog) - cu->pos;
	long long has = cu->skip->floor;

	wsp_backlog_leave(&c->ns->backlog, cu->pos);
	cu->mem = false;
	if (cu->skip_not >= 0 && has >= cu->skip_not)
		has = cu->skip_not - 1;
	if (has > cu->since)
		cu->since = cu->from = has;
	cu->wait = true;
	c->srv->metrics.replays_queue_pages++;
	if (wsp_log_limit_ok(&c->srv->burst_rl, 10, WSP_LOG_INFO, "burst catch-ups"))
		wsp_info(c->ns->path, "client %s: %llu deliveries behind in the namespace's backlog (%s): it catches "
			 "up from the outbox after id %lld", c->id, behind, why, cu->since);
	wsp__history_drained(c);
}

/* Every lagging client of ns before backlog entry `upto` goes to pages. */
static void shed(wsp_namespace *ns, unsigned long long upto, const char *why)
{
	wsp_client *c, *next;

	for (c = ns->clients; c; c = next) {
		next = c->next;
		if (c->cu && c->cu->mem && c->cu->pos < upto)
			to_pages(c, why);
	}
}

void wsp__history_keep(wsp_namespace *ns, wsp_msg *m, const char *to, long long id)
{
	wsp_backlog *b = &ns->backlog;

	if (wsp_backlog_append(b, m, id, to) < 0)
		shed(ns, wsp_backlog_end(b) + 1, "out of memory");
	else if (wsp_backlog_over(b))
		shed(ns, wsp_backlog_shed_to(b), "its bounds passed");
}

/* The backlog's catch-up is done: it leaves the backlog (caught_up). */
static void mem_done(wsp_client *c)
{
	struct wsp_catchup *cu = c->cu;

	wsp_backlog_leave(&c->ns->backlog, cu->pos);
	cu->mem = false;
	if (cu->rows)
		wsp_debug(c->ns->path, "client %s: caught up %lld message%s after a burst from memory", c->id,
			  cu->rows, cu->rows == 1 ? "" : "s");
	caught_up(c);
}

/* Read on in the backlog up to half of c's queue: each entry as the fan-out
 * would have given it, marked in c's window (to_pages).  At its end, c
 * takes live rows again (the fan-out has skipped it until now, so the
 * order is the fan-out's). */
static void pull(wsp_client *c)
{
	struct wsp_catchup *cu = c->cu;
	wsp_backlog *b = &c->ns->backlog;
	const wsp_backlog_entry *e;

	/* The queue's own bounds (set at connect; a reload changes new
	 * connections' only). */
	while ((e = wsp_backlog_get(b, cu->pos))) {
		if (c->q.count > c->q.max_msgs / 2 || c->q.bytes > c->q.max_bytes / 2 ||
		    (c->q.count && !wsp_msgq_fits(&c->q, e->m)))
			return;
		if ((!e->to || wsp__client_is(c, e->to)) &&
		    !since_has(c, e->id) && !has_id(cu, e->id)) {
			wsp__client_push(c, e->m);
			cu->rows++;
		}
		wsp_idwin_mark(cu->skip, e->id);
		if (e->id == cu->skip_not)
			cu->skip_not = -1;
		wsp_backlog_pass(b, cu->pos++);
		if (c->closing || !c->wsi)
			return;
	}
	mem_done(c);
}

void wsp__history_resume(wsp_server *srv)
{
	for (int i = 0; i < srv->nns; i++) {
		for (wsp_client *c = srv->nss[i]->clients; c; c = c->next)
			if (c->cu && c->cu->pending && c->wsi && !c->closing)
				start(c);
	}
}
