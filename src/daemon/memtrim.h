/* memtrim.h - give the heap's free pages back to the system now and then.
 *
 * A backlog (a burst of broadcasts, slow readers) fills send queues with
 * messages; once they are sent the memory is free but glibc keeps it in the
 * heap, so RSS stays at the burst's high-water mark.  Every
 * WSP_MEMTRIM_EVERY_MS malloc_trim(0) walks the free lists and madvises
 * whole free pages (well under a millisecond for the daemon's heap). */
#ifndef WSP_MEMTRIM_H
#define WSP_MEMTRIM_H

#include "daemon/server.h"

#define WSP_MEMTRIM_EVERY_MS 10000

/* Start the timer (a wsp_server_every timer).  0 or WSP_ERR_NOMEM. */
int wsp__memtrim_start(wsp_server *srv);

#endif
