/* reload.h - SIGHUP (and `systemctl reload`): re-read the configuration
 * file and apply, without dropping a socket, every key that can change.
 *
 * What can change is one table in reload.c, a row per key:
 *   - live keys: the new value replaces the old one in the running
 *     configuration; an `apply` step runs first for keys that need more
 *     than that (log_level, log_file, secret_file).  Most are read where
 *     they are used, so a limit applies to the next message or the next
 *     connection; per-socket limits fixed at connect (send_queue_*) apply to
 *     new sockets, and open sockets keep theirs.
 *   - keys wspulsed does not use (wspulse.fcgi's): taken, logged as such.
 *   - every other key (listen, workers, database, modules, namespace, the
 *     timers...) is left as it was and logged as "needs a restart".
 * Rows marked `every_time` run their apply step on every reload even when
 * the key's value is unchanged: the file it names may have new content
 * (a rotated session secret, a renewed certificate).  A new reloadable key
 * (say the TLS certificate) is one more row with its apply step.
 *
 * A file that does not parse changes nothing: the error is logged with its
 * file and line, and the running configuration stays.  The log file is
 * reopened on every SIGHUP (logrotate), whatever else happens.
 */
#ifndef WSP_DAEMON_RELOAD_H
#define WSP_DAEMON_RELOAD_H

#include "conf.h"
#include "conntoken.h"
#include "secret.h"

struct wsp_server;

/* What SIGHUP re-reads and updates; main.c's, for the process's life. */
typedef struct wsp_reload {
	const char *path;            /* the config file (-c) */
	wsp_config *cfg;             /* the running configuration */
	wsp_secret *secret;          /* the running session secret */
	wsp_conntoken_key *token_key; /* the running connection-token key (empty: none) */
} wsp_reload;

/* Re-read rl->path and apply it.  srv is NULL in a supervisor (workers.h):
 * it only applies what it uses itself (the log) and logs nothing about the
 * rest - its workers, which get the SIGHUP forwarded, each say what they
 * applied.  Returns the number of keys applied, or a negative WSP_ERR_*
 * when the file could not be read (then nothing changed). */
int wsp__reload_run(wsp_reload *rl, struct wsp_server *srv);

#endif
