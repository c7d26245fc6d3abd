/* bus.c - see bus.h. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "alloc.h"
#include "daemon/bus.h"
#include "error.h"
#include "log.h"

#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 5000
#define CONNECT_TIMEOUT_MS 5000

struct wsp_bus_res {
	PGresult *r;
};

struct query {
	struct query *next;
	char *sql;
	int n;
	char **params;
	wsp_bus_cb cb;
	void *arg;
};

enum state { S_DOWN, S_CONNECTING, S_UP };

struct wsp_bus {
	struct lws_context *ctx;
	struct lws_vhost *vh;
	char *conninfo;
	char **channels;
	wsp_bus_hooks hooks;
	void *arg;
	enum state st;
	PGconn *conn;
	struct lws *wsi;             /* the adopted dup of PQsocket() */
	struct query *head, *tail;   /* head is in flight when `busy` */
	int nq;
	bool busy;
	PGresult *last;
	int backoff_ms;
	long long connect_started;
	bool was_up;
	bool listen_failed;         /* a LISTEN of this connection was refused */
	bool freeing;
	lws_sorted_usec_list_t sul, drain_sul, restart_sul;
	char lasterr[256];
	bool restarting;             /* restart_sul is scheduled */
	char restart_why[200];
	int restart_backoff_ms;      /* the last restart's backoff */
	long long up_ms;             /* when the connection came up */
};

static void fail(wsp_bus *bus, const char *why);
static void pump(wsp_bus *bus);
static void drain(wsp_bus *bus);

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void one_line(char *dst, size_t n, const char *src)
{
	size_t o = 0;

	for (; src && *src && o + 1 < n; src++)
		dst[o++] = (*src == '\n' || *src == '\r') ? ' ' : *src;
	while (o && dst[o - 1] == ' ')
		o--;
	dst[o] = '\0';
}

static void query_free(struct query *q)
{
	for (int i = 0; i < q->n; i++)
		wsp_free(q->params[i]);
	wsp_free(q->params);
	wsp_free(q->sql);
	wsp_free(q);
}

static void connect_step(lws_sorted_usec_list_t *sul);

static void schedule(wsp_bus *bus, int ms, sul_cb_t cb)
{
	lws_sul_schedule(bus->ctx, 0, &bus->sul, cb, (lws_usec_t)ms * 1000);
}

/* Server notices (its FATAL goodbye on shutdown among them) go to the log as
 * one line, not raw to stderr through libpq's default processor. */
static void bus_notice(void *arg, const char *msg)
{
	(void)arg;
	wsp_warn("bus", "postgres: %s", msg);
}

static void start_connect(lws_sorted_usec_list_t *sul)
{
	wsp_bus *bus = lws_container_of(sul, wsp_bus, sul);

	bus->conn = PQconnectStart(bus->conninfo);
	if (!bus->conn || PQstatus(bus->conn) == CONNECTION_BAD) {
		fail(bus, bus->conn ? PQerrorMessage(bus->conn) : "out of memory");
		return;
	}
	PQsetNoticeProcessor(bus->conn, bus_notice, NULL);
	bus->st = S_CONNECTING;
	bus->connect_started = mono_ms();
	connect_step(&bus->sul);
}

/* A LISTEN answered (arg: the bus).  A refusal is an error worth a line
 * (that channel's broadcasts would never arrive); a lost connection was
 * logged by fail(), and the LISTENs are sent again on reconnect. */
static void listen_done(void *arg, const wsp_bus_res *res, const char *error)
{
	wsp_bus *bus = arg;

	(void)res;
	if (error && bus->st == S_UP) {
		wsp_err("bus", "LISTEN failed: %s", error);
		bus->listen_failed = true;
	}
}

/* The last LISTEN answered.  The queries of one connection are answered in
 * order, so every channel is listened to now: from here on a broadcast
 * committed anywhere reaches this daemon (the "connected" line comes a
 * round trip earlier). */
static void listen_last_done(void *arg, const wsp_bus_res *res, const char *error)
{
	wsp_bus *bus = arg;

	listen_done(arg, res, error);
	if (bus->st != S_UP)
		return;
	if (bus->listen_failed)
		wsp_err("bus", "not listening on every broadcast channel: see the LISTEN error above");
	else
		wsp_info("bus", "listening for broadcasts");
}

static void connect_step(lws_sorted_usec_list_t *sul)
{
	wsp_bus *bus = lws_container_of(sul, wsp_bus, sul);
	PostgresPollingStatusType ps = PQconnectPoll(bus->conn);
	lws_sock_file_fd_type fd;

	if (ps == PGRES_POLLING_FAILED) {
		fail(bus, PQerrorMessage(bus->conn));
		return;
	}
	if (ps != PGRES_POLLING_OK) {
		if (mono_ms() - bus->connect_started > CONNECT_TIMEOUT_MS) {
			fail(bus, "connection timed out");
			return;
		}
		schedule(bus, 10, connect_step);
		return;
	}
	if (PQsetnonblocking(bus->conn, 1) != 0) {
		fail(bus, PQerrorMessage(bus->conn));
		return;
	}
	fd.filefd = dup(PQsocket(bus->conn));
	if (fd.filefd < 0) {
		fail(bus, strerror(errno));
		return;
	}
	bus->wsi = lws_adopt_descriptor_vhost(bus->vh, LWS_ADOPT_RAW_FILE_DESC, fd, "wsp-bus", NULL);
	if (!bus->wsi) {
		fail(bus, "cannot adopt the PostgreSQL socket into the event loop");
		return;
	}
	lws_set_opaque_user_data(bus->wsi, bus);
	bus->st = S_UP;
	bus->backoff_ms = 0;
	bus->up_ms = mono_ms();
	bus->lasterr[0] = '\0';
	wsp_info("bus", "connected to PostgreSQL%s", bus->was_up ? " again" : "");
	bus->was_up = true;
	bus->listen_failed = false;
	for (int i = 0; bus->channels[i]; i++) {
		char sql[128];

		snprintf(sql, sizeof(sql), "LISTEN %s", bus->channels[i]);
		wsp_bus_query(bus, sql, 0, NULL, bus->channels[i + 1] ? listen_done : listen_last_done, bus);
	}
	if (bus->hooks.up)
		bus->hooks.up(bus->arg);
	pump(bus);
}

/* Drop the connection and every waiting query; retry later. */
static void fail(wsp_bus *bus, const char *why)
{
	bool was = bus->st == S_UP;
	struct query *q;
	char msg[256];

	one_line(msg, sizeof(msg), why);
	if (bus->freeing)
		wsp_debug("bus", "closing the PostgreSQL connection");
	else if (was || strcmp(msg, bus->lasterr) != 0)
		wsp_warn("bus", "PostgreSQL %s: %s", was ? "connection lost" : "unavailable", msg);
	snprintf(bus->lasterr, sizeof(bus->lasterr), "%s", msg);
	if (bus->wsi) {
		struct lws *w = bus->wsi;

		bus->wsi = NULL;
		lws_set_opaque_user_data(w, NULL);
		lws_set_timeout(w, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	}
	if (bus->last) {
		PQclear(bus->last);
		bus->last = NULL;
	}
	if (bus->conn) {
		PQfinish(bus->conn);
		bus->conn = NULL;
	}
	bus->st = S_DOWN;
	bus->busy = false;
	lws_sul_cancel(&bus->drain_sul);
	while ((q = bus->head)) {
		bus->head = q->next;
		bus->nq--;
		if (q->cb && !bus->freeing)
			q->cb(q->arg, NULL, "database connection lost");
		query_free(q);
	}
	bus->tail = NULL;
	if (bus->freeing)
		return;
	if (was && bus->hooks.down)
		bus->hooks.down(bus->arg);
	bus->backoff_ms = bus->backoff_ms ? bus->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (bus->backoff_ms > BACKOFF_MAX_MS)
		bus->backoff_ms = BACKOFF_MAX_MS;
	schedule(bus, bus->backoff_ms, start_connect);
}

static void flush(wsp_bus *bus)
{
	int r = PQflush(bus->conn);

	if (r < 0)
		fail(bus, PQerrorMessage(bus->conn));
	else if (r == 1 && bus->wsi)
		lws_callback_on_writable(bus->wsi);
}

static void drain_later(lws_sorted_usec_list_t *sul)
{
	wsp_bus *bus = lws_container_of(sul, wsp_bus, drain_sul);

	if (bus->st == S_UP)
		drain(bus);
}

static void pump(wsp_bus *bus)
{
	struct query *q = bus->head;

	if (bus->st != S_UP || bus->busy || !q)
		return;
	if (!PQsendQueryParams(bus->conn, q->sql, q->n, NULL, (const char *const *)q->params, NULL,
			       NULL, 0)) {
		fail(bus, PQerrorMessage(bus->conn));
		return;
	}
	bus->busy = true;
	flush(bus);
	/* PQflush may have read input into libpq's buffer without the socket
	 * staying readable: look at it once more from the loop. */
	if (bus->st == S_UP)
		lws_sul_schedule(bus->ctx, 0, &bus->drain_sul, drain_later, 1000);
}

/* Hand finished results to their callbacks and notifications to the hook,
 * using only what libpq has buffered already. */
static void drain(wsp_bus *bus)
{
	PGnotify *n;

	while (bus->st == S_UP && bus->busy && !PQisBusy(bus->conn)) {
		PGresult *r = PQgetResult(bus->conn);

		if (r) {
			if (bus->last)
				PQclear(bus->last);
			bus->last = r;
			continue;
		}
		/* The query is complete. */
		{
			struct query *q = bus->head;
			PGresult *last = bus->last;
			ExecStatusType es = last ? PQresultStatus(last) : PGRES_FATAL_ERROR;

			bus->last = NULL;
			bus->head = q->next;
			if (!bus->head)
				bus->tail = NULL;
			bus->nq--;
			bus->busy = false;
			if (es == PGRES_COMMAND_OK || es == PGRES_TUPLES_OK) {
				struct wsp_bus_res res = { last };

				if (q->cb)
					q->cb(q->arg, &res, NULL);
			} else {
				char msg[256];

				one_line(msg, sizeof(msg), last ? PQresultErrorMessage(last) : "no result");
				wsp_warn("bus", "query failed: %s", msg);
				if (q->cb)
					q->cb(q->arg, NULL, msg);
			}
			if (last)
				PQclear(last);
			query_free(q);
			pump(bus);
		}
	}
	while (bus->st == S_UP && (n = PQnotifies(bus->conn))) {
		if (bus->hooks.notify)
			bus->hooks.notify(bus->arg, n->relname, n->extra);
		PQfreemem(n);
	}
}

static int bus_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
			size_t len)
{
	wsp_bus *bus = lws_get_opaque_user_data(wsi);

	switch (reason) {
	case LWS_CALLBACK_RAW_RX_FILE:
		if (!bus || bus->wsi != wsi)
			return -1;
		if (!PQconsumeInput(bus->conn) || PQstatus(bus->conn) == CONNECTION_BAD) {
			fail(bus, PQerrorMessage(bus->conn));
			return 0;  /* fail() already scheduled the close */
		}
		drain(bus);
		return 0;
	case LWS_CALLBACK_RAW_WRITEABLE_FILE:
		if (!bus || bus->wsi != wsi)
			return 0;
		flush(bus);
		if (bus->st == S_UP)
			drain(bus);
		return 0;
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
	case LWS_CALLBACK_ESTABLISHED:
		/* lws binds an upgrade to whichever of the vhost's protocols its
		 * Sec-WebSocket-Protocol names, this internal one too: refuse. */
		return -1;
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		if (bus && bus->wsi == wsi) {
			bus->wsi = NULL;
			fail(bus, "socket closed");
		}
		return 0;
	default:
		return 0;
	}
}

const struct lws_protocols wsp_bus_protocol = { "wsp-bus", bus_callback, 0, 0, 0, NULL, 0 };

wsp_bus *wsp_bus_new(struct lws_context *ctx, struct lws_vhost *vh, const char *conninfo,
		     const char *const *channels, const wsp_bus_hooks *hooks, void *arg)
{
	wsp_bus *bus = wsp_calloc(1, sizeof(*bus));

	if (!bus)
		return NULL;
	bus->channels = wsp_strv_dup(channels);
	bus->conninfo = wsp_strdup(conninfo);
	if (!bus->channels || !bus->conninfo) {
		wsp_bus_free(bus);
		return NULL;
	}
	bus->ctx = ctx;
	bus->vh = vh;
	bus->hooks = *hooks;
	bus->arg = arg;
	schedule(bus, 0, start_connect);
	return bus;
}

void wsp_bus_free(wsp_bus *bus)
{
	if (!bus)
		return;
	bus->freeing = true;
	if (bus->ctx) {
		lws_sul_cancel(&bus->sul);
		lws_sul_cancel(&bus->drain_sul);
		if (bus->restarting)
			lws_sul_cancel(&bus->restart_sul);
	}
	if (bus->st != S_DOWN || bus->conn)
		fail(bus, "shutting down");
	wsp_strv_free(bus->channels);
	wsp_free(bus->conninfo);
	wsp_free(bus);
}

static void restart_now(lws_sorted_usec_list_t *sul)
{
	wsp_bus *bus = lws_container_of(sul, wsp_bus, restart_sul);
	char why[sizeof(bus->restart_why) + 16];

	bus->restarting = false;
	if (bus->st != S_UP)
		return;         /* lost meanwhile: reconnecting already */
	if (mono_ms() - bus->up_ms > 60000)
		bus->restart_backoff_ms = 0;
	snprintf(why, sizeof(why), "restarting: %s", bus->restart_why);
	/* fail() doubles what it finds: the previous restart's backoff. */
	bus->backoff_ms = bus->restart_backoff_ms;
	fail(bus, why);
	bus->restart_backoff_ms = bus->backoff_ms;
}

void wsp_bus_restart(wsp_bus *bus, const char *why)
{
	if (!bus || bus->st != S_UP || bus->restarting || bus->freeing)
		return;
	one_line(bus->restart_why, sizeof(bus->restart_why), why ? why : "");
	bus->restarting = true;
	lws_sul_schedule(bus->ctx, 0, &bus->restart_sul, restart_now, 1);
}

bool wsp_bus_up(const wsp_bus *bus)
{
	return bus && bus->st == S_UP;
}

int wsp_bus_cancel(wsp_bus *bus, wsp_bus_cb cb, void *arg)
{
	struct query **pp, *q, *gone = NULL, **tail = &gone;
	int n = 0;

	if (!bus)
		return 0;
	/* The head is on the wire while busy: it stays. */
	pp = bus->busy && bus->head ? &bus->head->next : &bus->head;
	bus->tail = NULL;
	while ((q = *pp)) {
		if (q->cb == cb && q->arg == arg) {
			*pp = q->next;
			q->next = NULL;
			*tail = q;
			tail = &q->next;
			bus->nq--;
			n++;
			continue;
		}
		pp = &q->next;
	}
	/* The new tail: the last one left. */
	for (q = bus->head; q; q = q->next)
		bus->tail = q;
	/* Answered after the queue is whole again: a callback may queue. */
	while ((q = gone)) {
		gone = q->next;
		if (q->cb)
			q->cb(q->arg, NULL, "cancelled");
		query_free(q);
	}
	return n;
}

int wsp_bus_pending(const wsp_bus *bus)
{
	return bus ? bus->nq : 0;
}

int wsp_bus_query(wsp_bus *bus, const char *sql, int nparams, const char *const *params,
		  wsp_bus_cb cb, void *arg)
{
	struct query *q;

	if (!wsp_bus_up(bus))
		return WSP_ERR_DB;
	q = wsp_calloc(1, sizeof(*q));
	if (!q)
		return WSP_ERR_NOMEM;
	q->sql = wsp_strdup(sql);
	q->params = wsp_calloc((size_t)(nparams > 0 ? nparams : 1), sizeof(char *));
	if (!q->sql || !q->params) {
		query_free(q);
		return WSP_ERR_NOMEM;
	}
	q->n = nparams;
	for (int i = 0; i < nparams; i++)
		if (params[i] && !(q->params[i] = wsp_strdup(params[i]))) {
			query_free(q);
			return WSP_ERR_NOMEM;
		}
	q->cb = cb;
	q->arg = arg;
	if (bus->tail)
		bus->tail->next = q;
	else
		bus->head = q;
	bus->tail = q;
	bus->nq++;
	pump(bus);
	return 0;
}

int wsp_bus_nrows(const wsp_bus_res *r)
{
	return r && r->r ? PQntuples(r->r) : 0;
}

const char *wsp_bus_get(const wsp_bus_res *r, int row, int col)
{
	return r && r->r ? PQgetvalue(r->r, row, col) : "";
}

bool wsp_bus_isnull(const wsp_bus_res *r, int row, int col)
{
	return !r || !r->r || PQgetisnull(r->r, row, col);
}
