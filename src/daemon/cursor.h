/* cursor.h - this daemon's outbox cursor: which outbox ids it has
 * delivered (an idwin.h window over its floor), whether the floor is known
 * yet, and whether its own replay of missed rows is in flight.
 *
 * relay.c moves it (floor at first contact, ids as they are delivered, the
 * replay flag); history.c and client.c only read it (a catch-up page's
 * cursor, a welcome's floor).  It lives below both so neither calls the
 * other for it.  Loop thread only. */
#ifndef WSP_CURSOR_H
#define WSP_CURSOR_H

#include <stdbool.h>

#include "daemon/idwin.h"

typedef struct wsp_cursor wsp_cursor;

/* A cursor with no floor known and no replay in flight; NULL when out of
 * memory. */
wsp_cursor *wsp__cursor_new(void);
void wsp__cursor_free(wsp_cursor *cur);   /* NULL-safe */

/* The floor: every id <= it was delivered (or is not ours to deliver);
 * -1 while not known (before the first contact with the database). */
long long wsp__cursor_floor(const wsp_cursor *cur);
/* First contact: start the window at floor (ids above it not seen yet). */
void wsp__cursor_start(wsp_cursor *cur, long long floor);
/* Mark id delivered.  true the first time, false when it was already
 * marked or lies at or below the floor.  Before the floor is known every
 * id counts as new (true) and nothing is recorded. */
bool wsp__cursor_mark(wsp_cursor *cur, long long id);
/* true if id was marked (or is at or below the floor); false before the
 * floor is known. */
bool wsp__cursor_seen(const wsp_cursor *cur, long long id);

/* Copy the window (idwin.h) into *out: what has been delivered up to now.
 * false (nothing copied) while the floor is not known. */
bool wsp__cursor_copy(const wsp_cursor *cur, wsp_idwin *out);
/* The daemon's replay of the rows it missed is in flight: NOTIFYd ids
 * and catch-up pages wait for it. */
bool wsp__cursor_replaying(const wsp_cursor *cur);
void wsp__cursor_set_replaying(wsp_cursor *cur, bool on);

#endif
