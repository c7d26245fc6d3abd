/* reader.h - one database reader per daemon, shared by its workers
 * (issue 18).
 *
 * Why: PostgreSQL wakes every LISTENing backend of a database on every commit
 * that NOTIFYs (whatever channels they listen to), and each wakes its client.
 * With `workers = N` every worker LISTENed on its own connection, so one REST
 * publish cost N backend wake-ups and N worker wake-ups: the publish rate fell
 * by half from 1 to 16 workers.  Now, with workers, the SUPERVISOR alone
 * LISTENs (on the channels given to wsp_reader_new: relay.h's, which main.c
 * passes to wsp_workers_run) and hands every notification to every worker
 * over a socketpair; the workers keep their own connections for queries only
 * (fetches, replays, history pages, stats, presence), which PostgreSQL does
 * not wake.  A daemon without workers listens itself, as before.
 *
 * The supervisor side is a small non-blocking libpq state machine stepped from
 * the supervisor's poll() loop (wsp_reader_fd / wsp_reader_step): connect
 * (PQconnectStart/PQconnectPoll, 5 s limit), LISTEN, then read.  It never
 * blocks: a worker's socketpair is written with MSG_DONTWAIT; what a worker
 * cannot take is dropped and that worker is marked LOST.
 *
 * Waking every worker once per commit is itself the cost that grows with the
 * workers (a wake-up is tens of µs on a busy machine, a notification a few),
 * so under load the hand-off is coalesced: notifications read within the
 * window (WSP_READER_COALESCE_MS, longer with many workers: below) of the
 * previous hand-off are sent together when it is up, so each worker wakes at
 * most ~330 times a second however many commits there are (the workers
 * together ~1 500 with more than 4), and a notification waits at most the
 * window; one after a quiet moment is sent at once (a steady 100 a second
 * never waits).
 *
 * The protocol (SOCK_SEQPACKET, one datagram at a time, at most
 * WSP_READER_DGRAM bytes):
 *   'U'                     the reader is listening now (after each connect,
 *                           and to a LOST worker once it has room again): every
 *                           notification from before this one may be missing,
 *                           so the worker replays the outbox from its floor
 *                           and reloads the revoked sessions (relay.c).
 *   'N' {channel \0 payload \0}...   notifications, in the order PostgreSQL
 *                           delivered them (commit order).
 * So "none lost" holds as with a worker's own LISTEN: every committed outbox
 * row either reaches a worker as a notification, or is committed before a
 * 'U' that worker receives later, and so is found by the replay that 'U'
 * starts (ARCHITECTURE.md, "None lost").  NOTIFY-only module broadcasts
 * (wsp_bcast) sent while the reader was down, or dropped for a full
 * socketpair, are lost, as they are for a daemon whose own connection is down.
 *
 * A worker that dies loses only its own end; the reader and the other workers
 * carry on, and the restarted worker gets a fresh socketpair and catches up
 * by its own floor (relay.c).  If the supervisor dies, the workers die with it
 * (PR_SET_PDEATHSIG, workers.c).
 */
#ifndef WSP_READER_H
#define WSP_READER_H

#include <stdbool.h>
#include <libwebsockets.h>

#define WSP_READER_DGRAM 65536
/* Under load the workers are woken at most once per this many ms: what
 * PostgreSQL delivers within that long of the last hand-off waits for the
 * next one (a notification after a quiet moment goes at once). */
#define WSP_READER_COALESCE_MS 3
/* ... and, with many workers, all of them together at most this many times
 * a second: the window is max(WSP_READER_COALESCE_MS, workers * 1000 / this
 * rounded up) ms: 3 ms up to 4 workers, 6 with 8, 11 with 16.  Every hand-off
 * wakes every worker, and a wake-up costs 25-60 us of CPU here, so with 16
 * workers a 3-ms window was ~5 300 wake-ups a second and wspulsed's share of
 * a REST publish grew from 10 us (1 worker) to 55 (BENCHMARKS.md). */
#define WSP_READER_WAKES_PER_S 1500

/* ---- in the supervisor */

typedef struct wsp_reader wsp_reader;

/* A reader for conninfo and the NULL-terminated channels (both copied), for
 * worker slots 1..nslots; it starts connecting at the first step.  NULL when
 * out of memory. */
wsp_reader *wsp_reader_new(const char *conninfo, const char *const *channels, int nslots);
/* The coalescing window for `workers` workers, in ms (see above); inline
 * so that the unit tests check it without the reader's libpq. */
static inline int wsp_reader_window_ms(int workers)
{
	int ms = (workers * 1000 + WSP_READER_WAKES_PER_S - 1) / WSP_READER_WAKES_PER_S;

	return ms < WSP_READER_COALESCE_MS ? WSP_READER_COALESCE_MS : ms;
}
/* Close the connection (PQfinish) and every worker end. */
void wsp_reader_free(wsp_reader *r);
/* In a child right after fork(): close the inherited descriptors WITHOUT
 * talking to PostgreSQL (the connection stays the supervisor's) and free. */
void wsp_reader_forget(wsp_reader *r);

/* A socketpair for a worker: fds[0] for the supervisor (wsp_reader_attach),
 * fds[1] for the worker (wsp_reader_worker_start).  Both non-blocking and
 * close-on-exec.  0, or -1 with errno. */
int wsp_reader_pair(int fds[2]);
/* Give slot k its supervisor end (the reader owns and closes it), or -1 when
 * the worker is gone.  A previous end of that slot is closed. */
void wsp_reader_attach(wsp_reader *r, int k, int fd);

/* What to poll for: the descriptor (-1 for none right now) and the events. */
int wsp_reader_fd(const wsp_reader *r, short *events);
/* Milliseconds until held notifications are due to the workers (0: now),
 * or -1 when none are held: the most the supervisor may sleep in poll(). */
int wsp_reader_timeout_ms(const wsp_reader *r);
/* Advance: connect, LISTEN, read notifications and hand them on, retry a
 * LOST worker.  Call after every poll() wake-up or timeout (it does nothing
 * that waits). */
void wsp_reader_step(wsp_reader *r);

/* ---- in a worker */

typedef struct wsp_reader_hooks {
	void (*up)(void *arg);   /* 'U': replay from the floor, reload revocations */
	void (*notify)(void *arg, const char *channel, const char *payload);
} wsp_reader_hooks;

/* The protocol the worker's lws context lists ("wsp-reader"). */
extern const struct lws_protocols wsp_reader_protocol;

/* Adopt the worker's end `fd` into the event loop; hooks are called with
 * arg.  0, or WSP_ERR_IO (not adopted: the caller listens itself). */
int wsp_reader_worker_start(struct lws_vhost *vh, int fd, const wsp_reader_hooks *hooks, void *arg);

#endif
