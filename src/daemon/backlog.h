/* backlog.h - a namespace's outbox deliveries kept in memory while some of
 * its clients lag behind them (history.c's memory catch-up).
 *
 * When a burst of outbox rows would pass a reading client's send queue, the
 * client stops taking live rows and reads them from here instead, at its
 * socket's pace: every delivery of the namespace since it joined, in the
 * order the fan-out made them (so ordering and floors are those of live
 * delivery), each entry the same shared wsp_msg the other clients got.
 * Entries are kept only while a reader needs them: each records how many
 * readers have yet to pass it, and the oldest go once none has.  Nothing is
 * appended while no client lags, so a namespace without laggards costs two
 * words.  Bounded in entries and bytes (wsp_backlog_over); the owner moves
 * the readers furthest behind elsewhere (outbox pages) when it passes them.
 *
 * Sequence numbers: entry k of the namespace's life has seq k; a reader
 * holds the seq of the next entry it reads.  Pure (no lws, no libpq); one
 * thread. */
#ifndef WSP_BACKLOG_H
#define WSP_BACKLOG_H

#include <stdbool.h>
#include <stddef.h>

#include "daemon/msgq.h"

/* One delivery: the message, its outbox id, its recipient (NULL: all). */
typedef struct wsp_backlog_entry {
	wsp_msg *m;                  /* a reference held */
	long long id;
	char *to;                    /* allocated, or NULL */
	unsigned need;               /* readers that have not passed it yet */
} wsp_backlog_entry;

/* Caller-owned; zero-initialised is empty, with no bounds (wsp_backlog_bound). */
typedef struct wsp_backlog {
	wsp_backlog_entry *ring;
	unsigned cap, head, count;
	unsigned long long first;    /* seq of the oldest entry kept */
	size_t bytes;                /* payload bytes of the entries kept */
	unsigned readers;            /* clients reading from it */
	unsigned max_entries;        /* 0: no client may join */
	size_t max_bytes;
} wsp_backlog;

/* Set the bounds (taken by later appends). */
void wsp_backlog_bound(wsp_backlog *b, unsigned max_entries, size_t max_bytes);
/* Drop every entry and reader; b is empty and keeps its bounds. */
void wsp_backlog_cleanup(wsp_backlog *b);
/* The seq the next appended entry gets. */
static inline unsigned long long wsp_backlog_end(const wsp_backlog *b)
{
	return b->first + b->count;
}
/* Whether a reader may join: bounds are set and not passed. */
bool wsp_backlog_open(const wsp_backlog *b);
/* A reader joins at the end (it reads what is appended from now on):
 * returns its position. */
unsigned long long wsp_backlog_join(wsp_backlog *b);
/* Append a delivery for the readers there are (none: nothing kept).  A new
 * reference to m is taken and `to` copied.  0 or WSP_ERR_NOMEM (nothing
 * appended: the readers miss it, so the caller moves them elsewhere). */
int wsp_backlog_append(wsp_backlog *b, wsp_msg *m, long long id, const char *to);
/* The entry at seq (borrowed, valid until the next pass, leave or append),
 * or NULL when it is not kept (passed by all, or not appended yet). */
const wsp_backlog_entry *wsp_backlog_get(const wsp_backlog *b, unsigned long long seq);
/* A reader passed the entry at seq (which it needed): the oldest entries no
 * reader needs any more go. */
void wsp_backlog_pass(wsp_backlog *b, unsigned long long seq);
/* A reader at pos leaves: it passes every entry kept from pos on. */
void wsp_backlog_leave(wsp_backlog *b, unsigned long long pos);
/* Whether the entries kept pass a bound. */
bool wsp_backlog_over(const wsp_backlog *b);
/* The seq the oldest entry kept should have for the rest to be within
 * three quarters of both bounds: readers before it should leave. */
unsigned long long wsp_backlog_shed_to(const wsp_backlog *b);

#endif
