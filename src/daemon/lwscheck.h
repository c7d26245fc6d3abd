/* lwscheck.h - the start-up self-check of wspulsed's libwebsockets/libev
 * workarounds.
 *
 * Two corrections live in the process by symbol interposition: rxhook.c
 * defines recv() and SSL_read() (the frame pre-check under lws) and
 * evtimer.c defines ev_timer_start() (the re-arm fix for lws's evlib_ev
 * plugin).  Both were written against libwebsockets 4.1.6's internals, and
 * both stop working silently - no error, only unchecked frames or timers up
 * to a second late - if the library changes or the binding is lost (the
 * executable no longer exporting them, a library linked -Bsymbolic, an
 * LD_PRELOAD taking the name first).
 *
 * wsp__lwscheck() is called once at start-up, after the lws context exists:
 *  - it compares lws_get_library_version() with WSP_LWS_WRITTEN_FOR and
 *    logs a warning naming both when they differ (the daemon carries on:
 *    the workarounds may still be right, but nobody has checked);
 *  - it compares dlsym(RTLD_DEFAULT, name) with the daemon's own definition
 *    for recv, SSL_read and ev_timer_start and logs an error for each one
 *    the process does not bind to ours.
 * It returns the number of problems found (0: all as expected).
 */
#ifndef WSP_LWSCHECK_H
#define WSP_LWSCHECK_H

/* The libwebsockets release the workarounds were written and tested for. */
#define WSP_LWS_WRITTEN_FOR "4.1.6"

/* True when an lws version string ("4.1.6", "4.1.6-v4.1.6-3-g...") is the
 * release `want` (the same dotted numbers, then the end or '-' or ' '). */
int wsp__lwscheck_version_is(const char *have, const char *want);

int wsp__lwscheck(void);

#endif
