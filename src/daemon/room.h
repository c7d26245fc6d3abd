/* room.h - which of a daemon's workers have room for another connection.
 *
 * The workers race to accept on one listening socket (supervisor.h), and
 * who wins is not a fair coin: one worker can take most of a run of
 * connections.  A worker whose descriptors are used up refuses what it wins
 * (503, accept.h), so without this table a site with workers = N refused
 * connections long before N workers were full.  With it, a full worker
 * stops taking connections while another has room and leaves them to it;
 * only when every worker is full are they refused.
 *
 * The table: a few cells in memory the supervisor maps shared before it
 * forks (wsp_room_open), one per live worker, each holding the worker's pid
 * and whether it is full.  A worker claims a cell when it starts accepting
 * (wsp_room_join), marks itself full or not (wsp_room_full) and gives the
 * cell back when it stops accepting; the supervisor gives back the cell of
 * a worker it reaps (wsp_room_leave), so a dead worker never counts as room.
 * Without a table (a daemon without workers) nothing is recorded and
 * wsp_room_elsewhere() is false: a full daemon refuses, as before.
 *
 * Each cell also holds how many connections its worker has (wsp_room_load):
 * a worker holding clearly more than another with room steps aside for a
 * moment (wsp_room_crowded, accept.h), so that the race's winner does not
 * end up holding most of the sockets and setting the fan-out's tail.
 *
 * Lock-free: each cell is written by its worker (and cleared by the
 * supervisor after the worker is gone), read by all. */
#ifndef WSP_ROOM_H
#define WSP_ROOM_H

#include <stdbool.h>
#include <sys/types.h>

/* The supervisor, before forking `workers` workers: map the table (room for
 * twice as many, as a rolling restart runs an old and a new worker per slot
 * for a moment).  0, or -1 when it cannot be mapped (then there is no table,
 * and every worker refuses when full, as a lone daemon does). */
int wsp_room_open(int workers);
/* Unmap the table (the supervisor at exit; tests). */
void wsp_room_close(void);
/* This process (pid self) takes a cell, not full; the cell it already has
 * if it has one.  No-op without a table or when every cell is taken. */
void wsp_room_join(pid_t self);
/* Whether this process has a cell (it is a worker beside others). */
bool wsp_room_joined(void);
/* Mark this process's cell full or not.  No-op without a cell. */
void wsp_room_full(bool full);
/* Whether another live worker has room: a cell other than this process's,
 * claimed and not full. */
bool wsp_room_elsewhere(void);
/* "Clearly more": more than WSP_ROOM_SLACK connections, or an eighth of this
 * worker's, whichever is larger. */
#define WSP_ROOM_SLACK 8
/* Tell the others how many connections this process holds.  No-op without
 * a cell. */
void wsp_room_load(int n);
/* Whether another live worker with room holds clearly fewer connections
 * than this one (its count as last told).  False without a cell. */
bool wsp_room_crowded(void);
/* Give back pid's cell (the supervisor after reaping it; a worker that stops
 * accepting, with its own pid). */
void wsp_room_leave(pid_t pid);

#endif
