/* reload.h - wspulse.fcgi's application state across SIGHUP.
 *
 * Every request borrows the current wsp_app (configuration, secret, tokens)
 * for its whole life; SIGHUP (`systemctl reload wspulse-fcgi`) builds a new
 * one from the file and swaps it in, so requests in flight finish with the
 * state they started with and the next ones see the new one.  The old state
 * is freed (its secret wiped) when its last request ends.
 *
 * What can change: the keys of the table in reload.c - the log, the session
 * secret and the token files (re-read even under the same name: a rotated
 * key), session_ttl, max_body_bytes, max_message_bytes, the login limits,
 * stats_interval, metrics_allow, anon_write_rate, trusted_proxies, cookie_domain,
 * www_root.  Every other changed key wspulse.fcgi uses
 * (database, fcgi_listen, fcgi_threads, demo) keeps its old value and is
 * logged as needing a restart; wspulsed's own keys are logged as not used
 * here.  A file that does not parse, or a secret that does not load,
 * changes nothing (logged, with the reason).
 */
#ifndef WSP_FCGI_RELOAD_H
#define WSP_FCGI_RELOAD_H

#include "app.h"

/* Make `app` (heap-allocated, loaded) the current state; the slot owns it. */
void wsp_app_install(wsp_app *app);

/* The current state with a reference for the caller (a request). */
const wsp_app *wsp_app_acquire(void);

/* Give the reference back; frees a replaced state with its last one. */
void wsp_app_release(const wsp_app *app);

/* SIGHUP: reopen the log, re-read `path`, swap in what can change.
 * Returns the number of keys changed live, or a negative WSP_ERR_* when
 * nothing changed. */
int wsp_app_reload(const char *path);

/* At exit (no request running): free the current state. */
void wsp_app_shutdown(void);

#endif
