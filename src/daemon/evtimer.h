/* evtimer.h - a correction to lws 4.1.6's libev glue, linked into wspulsed.
 *
 * lws drives its timers (lws_sul: every lws_set_timeout() and every timer
 * of wspulsed's own) from one libev timer, "hrtimer".  After servicing a
 * socket it re-arms that timer for the earliest pending sul with
 * ev_timer_set() + ev_timer_start() - also while the timer is still
 * armed for a later deadline.  libev ignores ev_timer_start() on an active
 * watcher (and ev_timer_set() on one is undefined), so a sul scheduled
 * from a socket callback sooner than the armed deadline waited until that
 * later deadline: e.g. the 1-ms shutdown check after SIGTERM ran a whole
 * ping interval late, and a 1-ms batch flush of module broadcasts could
 * wait seconds.  (lws's own poll() loop recomputes its wait every turn and
 * never had the problem.)
 *
 * wspulsed therefore defines ev_timer_start() itself, and the executable
 * exports it (ld puts it in .dynsym anyway because the linked libev.so has
 * the name too; src/daemon/wspulsed.dynlist lists it explicitly), so the
 * dynamic linker binds the dlopen()ed evlib_ev plugin's calls to this
 * definition - the executable comes first in the global scope: a watcher that is already active is stopped and
 * started again with the value it was just given; an inactive one is
 * started exactly as libev would.  For every other caller the only change
 * is that starting an active timer restarts it instead of doing nothing.
 * lwscheck.c logs an error at start-up if the name no longer binds here.
 */
#ifndef WSP_EVTIMER_H
#define WSP_EVTIMER_H

#include <ev.h>

/* The definition is in evtimer.c; ev.h declares it.  Nothing else to call. */

#endif
