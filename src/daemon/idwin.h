/* idwin.h - which outbox ids this daemon has delivered ("none lost, none
 * doubled").
 *
 * Outbox ids come from a sequence but commit out of order, and rolled-back
 * inserts leave permanent holes.  The window keeps `floor` -- every id <=
 * floor counts as delivered -- and a bitmap of the WSP_IDWIN_BITS ids above
 * it.  Marking advances floor over every contiguous delivered id; when an id
 * lands beyond the bitmap the floor is forced up to keep the newest half, so
 * a hole (rollback) costs at most WSP_IDWIN_BITS rows of re-scan.  After a
 * reconnect the daemon replays `WHERE id > floor` and skips ids already
 * marked.
 */
#ifndef WSP_IDWIN_H
#define WSP_IDWIN_H

#include <stdint.h>

#define WSP_IDWIN_BITS 4096

/* One per daemon; caller-owned. */
typedef struct wsp_idwin {
	long long floor;
	uint64_t bits[WSP_IDWIN_BITS / 64];   /* bit (id % BITS) for id in (floor, floor+BITS] */
} wsp_idwin;

/* Start with every id <= floor delivered. */
void wsp_idwin_init(wsp_idwin *w, long long floor);
/* 1 if id was delivered already (or is <= floor). */
int wsp_idwin_seen(const wsp_idwin *w, long long id);
/* Mark id delivered.  Returns 1 if it was new, 0 if seen before. */
int wsp_idwin_mark(wsp_idwin *w, long long id);

#endif
