/* supervisor.h - `workers = N|auto`: one supervisor, N worker processes on
 * one listening socket (listener.h), each accepting on it (accept.h).
 *
 * Why not LWS_SERVER_OPTION_ALLOW_LISTEN_SHARE: in libwebsockets 4.1.6
 * (lib/roles/http/server/server.c) that option sets SO_REUSEPORT only when
 * the context has more than one service thread, and Debian builds lws with
 * LWS_MAX_SMP 1, so a second process gets EADDRINUSE.  The documented
 * equivalent used here: the supervisor opens the listening socket once
 * (TCP or unix), every worker inherits it across fork(), adopts it into its
 * own lws loop as a raw descriptor, accept()s non-blocking on POLLIN and
 * hands each connection to lws with lws_adopt_socket_vhost().  The kernel
 * wakes the workers on new connections; the first accept() wins, the others
 * see EAGAIN.  Because the socket lives in the supervisor, a restarted
 * worker never leaves a moment without a listener, and a unix socket works
 * the same way as TCP.
 *
 * Each worker is a whole wspulsed: its own event loop, its own PostgreSQL
 * bus connection, its own daemon id `<daemon_id or host:port>/w<k>` (k from
 * 1), its own stats row.  Only its notifications come from the supervisor,
 * which alone LISTENs (reader.h).
 *
 * Supervisor signals: SIGTERM/SIGINT are forwarded (workers close their
 * sockets with 1001) and it exits once they are gone; SIGHUP reopens its
 * log and is forwarded; SIGUSR2 is a rolling restart: for each slot a new
 * worker is started, and only once it is accepting is the old one told to
 * drain (SIGUSR2 to a worker: close 1012 "service restart", exit).  A worker
 * that dies unexpectedly is restarted (after 1 s, backing off to 10 s when it
 * keeps dying at once).
 *
 * A worker starts with SIGHUP blocked: its caller unblocks it once its own
 * SIGHUP handler is installed, so a SIGHUP forwarded during its start-up is
 * a reload, not a death by SIG_DFL.  A worker started after a SIGHUP (a
 * replacement) starts with one pending: it re-reads the file too.  While a
 * rolling restart waits for a new worker or an old one, the shared reader
 * keeps handing notifications to every worker.
 */
#ifndef WSP_SUPERVISOR_H
#define WSP_SUPERVISOR_H

#include <stdbool.h>

#include "conf.h"
#include "error.h"

/* The number of workers `workers` asks for (auto: online CPUs), or a
 * negative WSP_ERR_INVALID with a message in err. */
int wsp_workers_count(const wsp_config *cfg, wsp_error *err);

/* With n > 1: open the listening socket, fork the workers and supervise
 * them; the supervisor's shared reader (reader.h) LISTENs to `channels`
 * (NULL-terminated, BORROWED: copied).  Returns in each WORKER with 0 (wsp_worker_index() is then >= 1);
 * in the supervisor it only returns when everything has stopped, with 1
 * (exit status in *status).  A negative return is a start-up error (err).
 * cfg is BORROWED for the whole run: the supervisor reads its stop_notice
 * when SIGTERM comes, so a reload that changes it in place counts. */
int wsp_workers_run(const wsp_config *cfg, int n, const char *const *channels, int *status,
		    wsp_error *err);

/* In a worker: its slot (1..n), 0 when not running under a supervisor. */
int wsp_worker_index(void);
/* In a worker: how many workers its supervisor runs; 0 without one. */
int wsp_worker_total(void);
/* In a worker: its end of the supervisor's shared reader (reader.h), from
 * which it gets every notification instead of LISTENing; -1 when it has none
 * (not under a supervisor) and must LISTEN itself. */
int wsp_worker_reader_fd(void);
/* Ready: listening, connected to PostgreSQL and caught up (relay.c calls
 * it on every such moment; only the first counts).  In a worker: tell the
 * supervisor, which sends systemd READY=1 (notify.h) once every worker of
 * its first start has said so.  Without workers: send READY=1 itself. */
void wsp_worker_ready(void);
/* In a supervisor: call fn(arg) on SIGHUP before forwarding it to the
 * workers (wspulsed re-reads its own log settings there, reload.h). */
void wsp_workers_on_hup(void (*fn)(void *arg), void *arg);
/* In a worker: SIGUSR2 was received; drain with 1012 instead of 1001. */
extern volatile int wsp_worker_restarting;

#endif
