/* workers.h - `workers = N|auto`: one supervisor, N worker processes on one
 * listening socket.
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
 */
#ifndef WSP_WORKERS_H
#define WSP_WORKERS_H

#include <stdbool.h>

#include <libwebsockets.h>

#include "conf.h"
#include "error.h"

/* The number of workers `workers` asks for (auto: online CPUs), or a
 * negative WSP_ERR_INVALID with a message in err. */
int wsp_workers_count(const wsp_config *cfg, wsp_error *err);

/* With n > 1: open the listening socket, fork the workers and supervise
 * them.  Returns in each WORKER with 0 (wsp_worker_index() is then >= 1);
 * in the supervisor it only returns when everything has stopped, with 1
 * (exit status in *status).  A negative return is a start-up error (err). */
int wsp_workers_run(const wsp_config *cfg, int n, int *status, wsp_error *err);

/* In a worker: its slot (1..n), 0 when not running under a supervisor. */
int wsp_worker_index(void);
int wsp_worker_total(void);
/* The listening descriptor this process accepts on (inherited by a
 * worker, or opened by wsp_listen_open()), -1 before. */
int wsp_worker_listen_fd(void);
/* In a worker: its end of the supervisor's shared reader (reader.h), from
 * which it gets every notification instead of LISTENing; -1 when it has none
 * (not under a supervisor) and must LISTEN itself. */
int wsp_worker_reader_fd(void);
/* A daemon without workers: open cfg->listen itself (TCP or unix:), so
 * that it accepts exactly as a worker does.  0 or a negative WSP_ERR_*. */
int wsp_listen_open(const wsp_config *cfg, wsp_error *err);
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

/* The protocol that accepts on the listening socket ("wsp-accept").
 * Every process accepts itself, never lws: it accept4()s up to 64
 * connections per wake-up, sets TCP_NODELAY and hands each to lws
 * (lws_adopt_socket_vhost), then calls `adopted`.  At the descriptor limit
 * it never spins: a connection whose descriptor lands in the last 64 below
 * RLIMIT_NOFILE is answered 503 and closed, and on EMFILE/ENFILE a spare
 * descriptor is freed to accept and refuse one the same way, and the
 * listening socket is not watched for 100 ms.  Every refusal is logged at
 * warn (at most 10 lines a second, the rest counted). */
extern const struct lws_protocols wsp_accept_protocol;
/* Adopt the listening socket into the loop (after the vhost exists). */
int wsp_worker_accept_start(struct lws_vhost *vh, void (*adopted)(struct lws *wsi));
/* Stop accepting (draining). */
void wsp_worker_accept_stop(void);

#endif
