/* bus.h - wspulsed's one PostgreSQL connection, non-blocking, inside the lws
 * event loop.  The only daemon file that includes libpq-fe.h.
 *
 * How it is driven: PQconnectStart + PQconnectPoll are stepped from a 10 ms
 * lws_sul timer until the connection is up (or 5 s pass).  Then the socket
 * is dup()ed and the duplicate adopted into lws as a RAW file descriptor of
 * the "wsp-bus" protocol; lws polls it with every other socket and calls
 * back on POLLIN (PQconsumeInput, results, PQnotifies) and POLLOUT (PQflush
 * of a large query).  One query is in flight at a time; the rest wait in a
 * FIFO.  Nothing here ever blocks the loop (a host NAME in the conninfo is
 * resolved by libpq synchronously: use a socket path or hostaddr=).
 *
 * On any failure every queued query's callback gets NULL, `down` is called,
 * and reconnection is retried with backoff (0.25 s doubling to 5 s); after
 * reconnecting the channels are LISTENed again and `up` is called, where
 * the caller replays what it missed.
 */
#ifndef WSP_BUS_H
#define WSP_BUS_H

#include <stdbool.h>

#include <libwebsockets.h>

typedef struct wsp_bus wsp_bus;
typedef struct wsp_bus_res wsp_bus_res;

/* A query's answer: res is NULL when the query failed or the connection
 * was lost (error says why).  res is valid only during the call. */
typedef void (*wsp_bus_cb)(void *arg, const wsp_bus_res *res, const char *error);

typedef struct wsp_bus_hooks {
	void (*up)(void *arg);       /* connected and LISTENing */
	void (*down)(void *arg);     /* connection lost (not called if never up) */
	void (*notify)(void *arg, const char *channel, const char *payload);
} wsp_bus_hooks;

/* The protocol the lws context must list (its name is "wsp-bus"). */
extern const struct lws_protocols wsp_bus_protocol;

/* Create the bus and start connecting.  `channels` is NULL-terminated and
 * copied; hooks are called with `arg`.  NULL on allocation failure. */
wsp_bus *wsp_bus_new(struct lws_context *ctx, struct lws_vhost *vh, const char *conninfo,
		     const char *const *channels, const wsp_bus_hooks *hooks, void *arg);
void wsp_bus_free(wsp_bus *bus);

bool wsp_bus_up(const wsp_bus *bus);
/* Queries queued or in flight. */
int wsp_bus_pending(const wsp_bus *bus);

/* Queue a parameterised query (params are copied; NULL entries are SQL
 * NULL).  cb may be NULL: the result or error is then dropped.  Returns 0,
 * or WSP_ERR_DB when the connection is down (cb is then NOT called). */
int wsp_bus_query(wsp_bus *bus, const char *sql, int nparams, const char *const *params,
		  wsp_bus_cb cb, void *arg);

/* The caller cannot go on without the answer of a query that failed on a
 * connection that stays up (relay.c's replay: a statement timeout, a
 * cancel): on the next loop turn the connection is dropped as if lost
 * (every queued query's callback gets NULL, `down`) and made again, with
 * the usual `up`.  Restarts that follow each other within a minute back
 * off as reconnects do (0.25 s doubling to 5 s), so a query that keeps
 * failing never loops tightly.  Nothing when the bus is not up. */
void wsp_bus_restart(wsp_bus *bus, const char *why);

/* Take back the queued queries of (cb, arg) that have not been sent yet
 * (the one in flight runs on): each is dropped and cb gets NULL with the
 * error "cancelled" before this returns.  Returns how many.  For a caller
 * whose answer nobody wants any more (a catch-up page of a client that
 * closed): a client must not be able to fill the one connection's queue
 * by connecting and going. */
int wsp_bus_cancel(wsp_bus *bus, wsp_bus_cb cb, void *arg);

int wsp_bus_nrows(const wsp_bus_res *r);
const char *wsp_bus_get(const wsp_bus_res *r, int row, int col);   /* "" for NULL */
bool wsp_bus_isnull(const wsp_bus_res *r, int row, int col);

#endif
