/* clock.h - the daemon's two clocks, in milliseconds.
 *
 * Wall clock for what is shown or compared with other processes (stats,
 * session and token expiry); monotonic for every delay and deadline. */
#ifndef WSP_CLOCK_H
#define WSP_CLOCK_H

/* CLOCK_REALTIME in ms since the epoch. */
long long wsp__now_ms(void);
/* CLOCK_MONOTONIC in ms (an arbitrary origin; never goes back). */
long long wsp__mono_ms(void);

#endif
