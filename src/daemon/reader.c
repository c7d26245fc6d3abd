/* reader.c - see reader.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "alloc.h"
#include "daemon/reader.h"
#include "error.h"
#include "log.h"

#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 5000
#define CONNECT_TIMEOUT_MS 5000
#define SNDBUF_BYTES (1 << 20)   /* per worker: ~130 full-size notifications */

enum rstate { R_IDLE, R_CONNECTING, R_LISTENING, R_UP };

/* One worker slot's end of its socketpair. */
struct rslot {
	int fd;          /* -1: no worker */
	bool lost;       /* must get 'U' before anything else */
	bool warned;     /* the drop of this LOST episode is logged */
};

/* One per supervisor. */
struct wsp_reader {
	char *conninfo;
	char **channels;
	PGconn *conn;
	enum rstate st;
	PostgresPollingStatusType pst;
	long long deadline_ms, retry_ms;
	int backoff_ms;
	char lasterr[256];
	bool was_up;
	struct rslot *slots;         /* [1..nslots] */
	int nslots;
	char buf[WSP_READER_DGRAM];  /* the datagram being filled */
	size_t len;
	long long last_flush_ms;     /* when the workers were last sent notifications */
};

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

wsp_reader *wsp_reader_new(const char *conninfo, const char *const *channels, int nslots)
{
	wsp_reader *r = wsp_calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->conninfo = wsp_strdup(conninfo);
	r->channels = wsp_strv_dup(channels);
	r->slots = wsp_calloc((size_t)nslots + 1, sizeof(*r->slots));
	r->nslots = nslots;
	if (!r->conninfo || !r->channels || !r->slots) {
		wsp_reader_free(r);
		return NULL;
	}
	for (int k = 0; k <= nslots; k++)
		r->slots[k].fd = -1;
	return r;
}

/* The supervisor's connection as a worker inherited it, when /dev/null
 * cannot be opened: its socket is only closed, the PGconn kept reachable
 * here (volatile: the store must stay) so leak checkers do not count it. */
static PGconn *volatile forgotten;

static void release(wsp_reader *r, bool finish)
{
	if (r->conn) {
		int fd = PQsocket(r->conn), nul;

		if (finish || fd < 0) {
			PQfinish(r->conn);   /* (no socket: nothing to say goodbye on) */
		} else if (fd >= 0 && (nul = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0) {
			/* Our copy of the descriptor now points at /dev/null: PQfinish's
			 * goodbye goes nowhere and the supervisor's session lives on. */
			dup2(nul, fd);
			close(nul);
			PQfinish(r->conn);
		} else {
			if (fd >= 0)
				close(fd);
			forgotten = r->conn;
		}
		r->conn = NULL;
	}
	for (int k = 0; r->slots && k <= r->nslots; k++)
		if (r->slots[k].fd >= 0)
			close(r->slots[k].fd);
	wsp_strv_free(r->channels);
	wsp_free(r->slots);
	wsp_free(r->conninfo);
	wsp_free(r);
}

void wsp_reader_free(wsp_reader *r)
{
	if (r)
		release(r, true);
}

void wsp_reader_forget(wsp_reader *r)
{
	if (r)
		release(r, false);
}

int wsp_reader_pair(int fds[2])
{
	int sz = SNDBUF_BYTES;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0)
		return -1;
	/* Room for a burst while a worker is busy; the kernel caps it at
	 * net.core.wmem_max (a drop then only costs that worker a replay). */
	setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	return 0;
}

void wsp_reader_attach(wsp_reader *r, int k, int fd)
{
	if (k < 1 || k > r->nslots) {
		if (fd >= 0)
			close(fd);
		return;
	}
	if (r->slots[k].fd >= 0)
		close(r->slots[k].fd);
	r->slots[k] = (struct rslot){ fd, false, false };
}

int wsp_reader_fd(const wsp_reader *r, short *events)
{
	*events = POLLIN;
	switch (r->st) {
	case R_CONNECTING:
		*events = r->pst == PGRES_POLLING_READING ? POLLIN : POLLOUT;
		return PQsocket(r->conn);
	case R_LISTENING:
	case R_UP:
		return PQsocket(r->conn);
	default:
		return -1;
	}
}

static void flush(wsp_reader *r);

static void fail(wsp_reader *r, const char *why)
{
	char msg[256];
	size_t n;

	snprintf(msg, sizeof(msg), "%s", why && *why ? why : "unknown error");
	n = strcspn(msg, "\n");
	msg[n] = '\0';
	if (r->st == R_UP || strcmp(msg, r->lasterr) != 0)
		wsp_warn("reader", "PostgreSQL %s: %s", r->st == R_UP ? "connection lost" : "unavailable", msg);
	snprintf(r->lasterr, sizeof(r->lasterr), "%s", msg);
	flush(r);   /* what was read is good: hand it on before the 'U' that follows */
	if (r->conn)
		PQfinish(r->conn);
	r->conn = NULL;
	r->st = R_IDLE;
	r->backoff_ms = r->backoff_ms ? r->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (r->backoff_ms > BACKOFF_MAX_MS)
		r->backoff_ms = BACKOFF_MAX_MS;
	r->retry_ms = mono_ms() + r->backoff_ms;
	r->len = 0;
}

/* Send one datagram to slot k; a worker without room is LOST until it has
 * taken a 'U'. */
static void send_slot(wsp_reader *r, int k, const char *d, size_t n)
{
	struct rslot *s = &r->slots[k];

	if (s->fd < 0)
		return;
	if (s->lost) {
		if (send(s->fd, "U", 1, MSG_DONTWAIT | MSG_NOSIGNAL) != 1)
			return;
		s->lost = false;
		s->warned = false;
		if (n == 1 && d[0] == 'U')
			return;
	}
	if (send(s->fd, d, n, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)n)
		return;
	if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS) {
		/* The worker is gone (EPIPE, ECONNRESET): reap() detaches it. */
		close(s->fd);
		s->fd = -1;
		return;
	}
	s->lost = true;
	if (!s->warned) {
		s->warned = true;
		wsp_warn("reader", "worker %d is not reading its notifications; it replays from its floor once it does", k);
	}
}

static void flush(wsp_reader *r)
{
	if (r->len <= 1)
		return;
	for (int k = 1; k <= r->nslots; k++)
		send_slot(r, k, r->buf, r->len);
	r->len = 0;
	r->last_flush_ms = mono_ms();
}

int wsp_reader_timeout_ms(const wsp_reader *r)
{
	long long left;

	if (r->len <= 1)
		return -1;
	left = r->last_flush_ms + wsp_reader_window_ms(r->nslots) - mono_ms();
	return left < 0 ? 0 : (int)left;
}

static void add(wsp_reader *r, const char *channel, const char *payload)
{
	size_t cl = strlen(channel) + 1, pl = strlen(payload) + 1;

	if (1 + cl + pl > sizeof(r->buf))
		return;   /* cannot be: NOTIFY payloads stop at 8000 bytes */
	if (r->len + cl + pl > sizeof(r->buf))
		flush(r);
	if (!r->len)
		r->buf[r->len++] = 'N';
	memcpy(r->buf + r->len, channel, cl);
	memcpy(r->buf + r->len + cl, payload, pl);
	r->len += cl + pl;
}

static void start_connect(wsp_reader *r)
{
	r->conn = PQconnectStart(r->conninfo);
	if (!r->conn || PQstatus(r->conn) == CONNECTION_BAD) {
		fail(r, r->conn ? PQerrorMessage(r->conn) : "out of memory");
		return;
	}
	PQsetnonblocking(r->conn, 1);
	r->st = R_CONNECTING;
	r->pst = PGRES_POLLING_WRITING;
	r->deadline_ms = mono_ms() + CONNECT_TIMEOUT_MS;
}

static void start_listen(wsp_reader *r)
{
	char sql[512];
	size_t n = 0;

	for (int i = 0; r->channels[i] && n < sizeof(sql); i++)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, "LISTEN %s;", r->channels[i]);
	if (n >= sizeof(sql) || !PQsendQuery(r->conn, sql)) {
		fail(r, n >= sizeof(sql) ? "too many channels" : PQerrorMessage(r->conn));
		return;
	}
	r->st = R_LISTENING;
}

/* Read what arrived: LISTEN results while listening, notifications when up. */
static void read_input(wsp_reader *r)
{
	PGnotify *nt;

	if (PQflush(r->conn) < 0 || !PQconsumeInput(r->conn)) {
		fail(r, PQerrorMessage(r->conn));
		return;
	}
	while (r->st == R_LISTENING && !PQisBusy(r->conn)) {
		PGresult *res = PQgetResult(r->conn);

		if (!res) {
			r->st = R_UP;
			r->backoff_ms = 0;
			r->lasterr[0] = '\0';
			wsp_info("reader", "listening for the workers%s", r->was_up ? " again" : "");
			r->was_up = true;
			/* Whatever committed before now is the replays' business. */
			for (int k = 1; k <= r->nslots; k++)
				r->slots[k].lost = true;
			break;
		}
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			char why[256];

			snprintf(why, sizeof(why), "LISTEN: %s", PQresultErrorMessage(res));
			PQclear(res);
			fail(r, why);
			return;
		}
		PQclear(res);
	}
	if (r->st != R_UP)
		return;
	while ((nt = PQnotifies(r->conn))) {
		add(r, nt->relname, nt->extra);
		PQfreemem(nt);
	}
	if (wsp_reader_timeout_ms(r) == 0)
		flush(r);   /* else within the window of the last: wsp_reader_step sends it */
}

void wsp_reader_step(wsp_reader *r)
{
	switch (r->st) {
	case R_IDLE:
		if (mono_ms() >= r->retry_ms)
			start_connect(r);
		break;
	case R_CONNECTING:
		r->pst = PQconnectPoll(r->conn);
		if (r->pst == PGRES_POLLING_OK)
			start_listen(r);
		else if (r->pst == PGRES_POLLING_FAILED)
			fail(r, PQerrorMessage(r->conn));
		else if (mono_ms() > r->deadline_ms)
			fail(r, "timed out connecting");
		break;
	case R_LISTENING:
	case R_UP:
		read_input(r);
		break;
	}
	if (wsp_reader_timeout_ms(r) == 0)
		flush(r);
	if (r->st == R_UP)
		for (int k = 1; k <= r->nslots; k++)
			if (r->slots[k].lost)
				send_slot(r, k, "U", 1);
}

/* ---- in a worker */

/* The worker's end, adopted into lws (one per worker process). */
struct wreader {
	wsp_reader_hooks hooks;
	void *arg;
};

static struct wreader wr;

static void dispatch(const char *d, size_t n)
{
	size_t i = 1;

	if (n == 1 && d[0] == 'U') {
		if (wr.hooks.up)
			wr.hooks.up(wr.arg);
		return;
	}
	if (n < 1 || d[0] != 'N' || d[n - 1] != '\0')
		return;
	while (i < n) {
		const char *ch = d + i, *pl;
		size_t cl = strlen(ch) + 1;

		if (i + cl >= n)
			return;
		pl = ch + cl;
		i += cl + strlen(pl) + 1;
		if (wr.hooks.notify)
			wr.hooks.notify(wr.arg, ch, pl);
	}
}

static int reader_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
			   size_t len)
{
	static char buf[WSP_READER_DGRAM];

	(void)user;
	(void)in;
	(void)len;
	switch (reason) {
	case LWS_CALLBACK_RAW_RX_FILE:
		/* At most 64 datagrams a wake-up, so sockets get their turn; the
		 * rest wakes us again (level-triggered). */
		for (int i = 0; i < 64; i++) {
			ssize_t n = recv(lws_get_socket_fd(wsi), buf, sizeof(buf), MSG_DONTWAIT);

			if (n > 0) {
				dispatch(buf, (size_t)n);
				continue;
			}
			if (n == 0) {
				wsp_warn("reader", "the supervisor's reader closed our end");
				return -1;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				return -1;
			break;
		}
		return 0;
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
	case LWS_CALLBACK_ESTABLISHED:
		/* lws binds an upgrade to whichever of the vhost's protocols its
		 * Sec-WebSocket-Protocol names, this internal one too: refuse. */
		return -1;
	default:
		return 0;
	}
}

const struct lws_protocols wsp_reader_protocol = { "wsp-reader", reader_callback, 0, 0, 0, NULL, 0 };

int wsp_reader_worker_start(struct lws_vhost *vh, int fd, const wsp_reader_hooks *hooks, void *arg)
{
	lws_sock_file_fd_type f;

	wr.hooks = *hooks;
	wr.arg = arg;
	f.filefd = fd;
	if (!lws_adopt_descriptor_vhost(vh, LWS_ADOPT_RAW_FILE_DESC, f, "wsp-reader", NULL))
		return WSP_ERR_IO;
	return 0;
}
