/* evtimer.c - see evtimer.h. */
#include "config.h"

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1   /* RTLD_NEXT */
#endif
#include <dlfcn.h>
#include <stdlib.h>

#include "daemon/evtimer.h"

typedef void (*timer_start_fn)(struct ev_loop *, ev_timer *);

void ev_timer_start(struct ev_loop *loop, ev_timer *w)
{
	static timer_start_fn real;

	if (!real) {
		real = (timer_start_fn)dlsym(RTLD_NEXT, "ev_timer_start");
		if (!real)
			abort();   /* libev is linked into wspulsed: cannot happen */
	}
	if (ev_is_active(w)) {
		/* ev_timer_set() has just put the new relative time in w->at;
		 * ev_timer_stop() rewrites w->at, so keep it and set it again. */
		ev_tstamp after = w->at, repeat = w->repeat;

		ev_timer_stop(loop, w);
		ev_timer_set(w, after, repeat);
	}
	real(loop, w);
}
