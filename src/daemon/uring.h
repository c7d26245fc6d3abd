/* uring.h - many sockets' sends in one system call (issue 18).
 *
 * A broadcast to n sockets is n small writes.  One send() each costs a
 * system call per socket, and on a paravirtualised VM (PVM, with page-table
 * isolation) the entry and exit dominate the loopback TCP work itself: 7.8
 * µs of CPU per send against 4.3-4.7 µs when the same 1000 sends go as one
 * io_uring submission (a 1000-socket microbenchmark on this machine).  This
 * module gathers the sends of one loop iteration and submits them together.
 *
 * Contract:
 * - Every send is non-blocking (MSG_DONTWAIT): the kernel completes it
 *   during the submission, with the bytes taken (maybe fewer than asked,
 *   a stream socket's partial write) or -EAGAIN when the socket had no room
 *   at all.  Nothing is left in flight: wsp__uring_run() returns with every
 *   queued send answered, so the caller's buffers need live only that long.
 * - The caller queues at most one send per socket per run, so no send can
 *   overtake another on the wire.
 * - No lws: the caller (client.c) picks the sockets whose output lws holds
 *   none of, writes the frame header itself and hands any unsent rest back
 *   to lws.
 *
 * Loop thread only; one per process (a ring is not shared across fork()). */
#ifndef WSP_URING_H
#define WSP_URING_H

#include <stddef.h>

#include "error.h"

typedef struct wsp_uring wsp_uring;

/* Called by wsp__uring_run() exactly once per queued send (in completion
 * order): `res` is the bytes the socket took (0..len), or a negative errno:
 * -EAGAIN (the socket was full) and -ECANCELED (the ring failed before the
 * kernel took it) mean nothing was sent; any other means the send failed
 * or, when the ring failed after the kernel took it, that its outcome is
 * unknown (-EIO): close that connection rather than write it again. */
typedef void (*wsp_uring_done)(void *ud, int res, void *arg);

/* A ring for up to `entries` sends per submission.  NULL with err set when
 * the kernel refuses io_uring (too old, disabled by
 * kernel.io_uring_disabled, filtered by a seccomp profile) or memory runs
 * out: the caller then writes each socket the usual way. */
wsp_uring *wsp__uring_new(unsigned entries, wsp_error *err);
void wsp__uring_free(wsp_uring *u);

/* Queue a send of buf[0..len) (BORROWED until the next wsp__uring_run) on
 * the socket fd, answered with `ud`.  Returns 0, or -1 when the ring is
 * full: run it, then queue again. */
int wsp__uring_add(wsp_uring *u, int fd, const void *buf, size_t len, void *ud);

/* Queued sends waiting for a run. */
unsigned wsp__uring_pending(const wsp_uring *u);

/* Submit every queued send and answer each through done(ud, res, arg).
 * Returns 0, or -1 when the ring failed (answers as wsp_uring_done says);
 * it then takes no more sends: free it. */
int wsp__uring_run(wsp_uring *u, wsp_uring_done done, void *arg);

#endif
