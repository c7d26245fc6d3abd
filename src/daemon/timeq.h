/* timeq.h - a timer queue whose entries all wait the same delay.
 *
 * Appending keeps such a queue sorted, so adding or removing an entry is
 * O(1) and one lws_sul per queue suffices.  (lws 4.1.6 keeps its timers in
 * one sorted list with an O(n) insert: a sul per client made connecting n
 * clients O(n^2).)  Used for pings and pong deadlines (client.c) and
 * handshake deadlines (proto.c).  Loop thread only. */
#ifndef WSP_TIMEQ_H
#define WSP_TIMEQ_H

#include <libwebsockets.h>

struct wsp_timeq;

/* An entry, embedded in what it times (zeroed: in no queue). */
typedef struct wsp_tq_node {
	struct wsp_tq_node *prev, *next;
	struct wsp_timeq *q;         /* NULL: in no queue */
	long long due_ms;            /* monotonic (clock.h) */
} wsp_tq_node;

/* One per kind of deadline; caller-owned, set up with wsp__tq_init. */
typedef struct wsp_timeq {
	wsp_tq_node *head, *tail;
	long long delay_ms;
	void (*due)(wsp_tq_node *n); /* called with n already removed */
	struct lws_context *ctx;
	lws_sorted_usec_list_t sul;  /* scheduled at or before head's due time */
} wsp_timeq;

/* Set q up empty: every entry is due delay_ms after it was added, and then
 * due(entry) is called from the loop (the entry may be added again). */
void wsp__tq_init(wsp_timeq *q, struct lws_context *ctx, long long delay_ms,
		  void (*due)(wsp_tq_node *n));
/* Append n (due delay_ms from now), leaving any queue it was in. */
void wsp__tq_add(wsp_timeq *q, wsp_tq_node *n);
/* Leave its queue (no-op if in none). */
void wsp__tq_remove(wsp_tq_node *n);
/* Stop the queue's timer (before the lws context goes). */
void wsp__tq_stop(wsp_timeq *q);

#endif
