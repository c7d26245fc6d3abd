/* lwsclient.c - the benchmarks' second load client in C (issue 18, part 3).
 *
 * It shares no code with loadgen.c: the WebSocket side is libwebsockets'
 * client (its handshake, framing and event loop), or with --engine raw this
 * file's own epoll reader for the bulk fan-out rows; the publisher is its own
 * HTTP/1.1 client on plain blocking sockets in a thread of its own, and the
 * stamp, the percentiles and the end of a run are written here again.  A
 * figure loadgen and this client agree on is the server's, not a client
 * artefact.  Why a C client beside wsclient.mjs: the Node client takes one
 * JavaScript callback per frame, and at 100 publishes/s to 1 000 sockets
 * (100 000 frames/s) its one thread is saturated on this 2-core machine, so
 * its latency rows were mostly its own queue (BENCHMARKS.md).
 *
 * Command line and output are wsclient.mjs's (run.mjs runs either):
 *
 *   lwsclient --sub URL [--pub URL] [options]      (prints one JSON line on stdout)
 *
 *   --sub URL            ws:// or wss:// URL of the subscribers; {uuid} becomes a per-socket id
 *   --sub-header 'H: v'  extra handshake header (repeatable)
 *   --pub URL            http:// URL to POST messages to (fan-out mode)
 *   --pub-header 'H: v'  extra publish header (repeatable)
 *   --wrap TEMPLATE      publish body template, @MSG@ is replaced by the message JSON
 *   -n N  subscribers    -m M  messages    -k K  publishes in flight at most (K connections)
 *                        (-n 0 with --pub: a publisher only, for the publish-rate rows; no --sub)
 *   --rate R             publish at R/s (open loop, still at most K in flight)
 *   --size B             message size (default 100)
 *   --soak S --soak-frac F --soak-rate R
 *                        soak mode: for S s, F of the subscribers send messages through their
 *                        WebSocket at R/s in total; every delivery is timed the same way
 *   --server-pid P[,P]   server processes whose utime+stime is read around the measured phase
 *   --src-base A.B.C.D --src-count N   local addresses to spread the sockets over
 *   --quiet S            end when nothing arrived for S s (default 5); --timeout S (600)
 *   --threads T          accepted for wsclient.mjs's command line; one thread here
 *   --engine lws|raw     the subscribers' side: libwebsockets' client (default), or this
 *                        file's own epoll reader and frame parser (no TLS, no soak), for the
 *                        bulk fan-out rows, where libwebsockets' client is slower than the server
 *   --coalesce-us U      raw engine: wait U µs after a wake-up before reading (default 200)
 *                        (the read latency includes that wait; the arrival does not)
 *
 * A message is {"wsc":<µs since the epoch>,"q":<seq>,"pad":"…"}; a text frame holding "wsc"
 * followed by at most three non-digits ('":' or '\\":') and digits is a delivery, timed
 * against CLOCK_REALTIME.  The raw engine also times each delivery by its arrival: the kernel's
 * receive stamp (SO_TIMESTAMPNS) of the read that completed the frame (arr_* in the JSON).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <libwebsockets.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#define MAX_HEADERS 16

static struct {
	const char *sub, *pub, *wrap;
	const char *sub_hdr[MAX_HEADERS], *pub_hdr[MAX_HEADERS];
	int nsub_hdr, npub_hdr;
	int n, m, k, size, src_count, conc;
	double rate, soak, soak_frac, soak_rate, quiet, timeout;
	long coalesce_us;
	int pids[16], npids;
	unsigned char src[4];
} o = { .n = 100, .m = 100, .k = 16, .size = 100, .src_count = 16, .conc = 200, .soak_frac = 0.1,
	.soak_rate = 20, .quiet = 5, .timeout = 600, .coalesce_us = 200, .src = { 127, 0, 0, 2 } };

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static double mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double cpu_of_pids(void)
{
	double s = 0;

	for (int i = 0; i < o.npids; i++) {
		char path[64], buf[1024], *p;
		unsigned long ut, st;
		FILE *f;
		size_t n;

		snprintf(path, sizeof(path), "/proc/%d/stat", o.pids[i]);
		if (!(f = fopen(path, "r")))
			continue;
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		if (!(p = strrchr(buf, ')')))
			continue;
		/* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
		if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) == 2)
			s += (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
	}
	return s;
}

/* ------------------------------------------------------------------ messages */

static atomic_long seq;

/* A message of about o.size bytes with the stamp taken now; malloc'd. */
static char *message(void)
{
	char head[96];
	int h = snprintf(head, sizeof(head), "{\"wsc\":%.0f,\"q\":%ld,\"pad\":\"", now_us(),
			 atomic_fetch_add(&seq, 1));
	int pad = o.size - h - 2;
	char *s;

	if (pad < 0)
		pad = 0;
	s = malloc((size_t)h + (size_t)pad + 3);
	if (!s)
		return NULL;
	memcpy(s, head, (size_t)h);
	memset(s + h, 'x', (size_t)pad);
	memcpy(s + h + pad, "\"}", 3);
	return s;
}

/* The stamp in a frame, or -1. */
static double stamp_of(const unsigned char *b, size_t len)
{
	for (size_t i = 0; i + 3 <= len; i++) {
		size_t j, d;
		double v = 0;

		if (b[i] != 'w' || b[i + 1] != 's' || b[i + 2] != 'c')
			continue;
		j = i + 3;
		while (j < len && (b[j] < '0' || b[j] > '9')) {
			if (j > i + 6)
				return -1;
			j++;
		}
		d = j;
		while (j < len && b[j] >= '0' && b[j] <= '9')
			v = v * 10 + (b[j++] - '0');
		return j > d ? v : -1;
	}
	return -1;
}

/* ------------------------------------------------------------------ subscribers */

enum { IDLE, PENDING, OPEN, FAILED };

struct sock {
	struct lws *wsi;
	int state;
	char out[8][512];            /* soak: messages waiting for WRITEABLE */
	int nout;
	unsigned char *rx;           /* a message arriving in pieces */
	size_t rxlen, rxcap;
};

static struct sock *socks;
static int nopen, nfailed, nstarted, npending, disconnects;
static bool measuring;
static double *lat, *arr;
static size_t nlat, latcap, narr;
/* The raw engine's kernel receive stamp of the bytes being parsed (µs since
 * the epoch, SO_TIMESTAMPNS), or 0: a delivery's arrival at the socket, beside
 * its read (lat).  The lws engine has none. */
static double arrival_us;
static double first_at, last_at;
static struct lws_context *ctx;
static char sub_host[256], sub_hostport[300], sub_path[1024];
static int sub_port;
static bool sub_tls;

static void deliver(const unsigned char *b, size_t len)
{
	double t = now_us(), st = stamp_of(b, len);

	if (st < 0)
		return;
	if (nlat == latcap) {
		size_t cap = latcap ? latcap * 2 : 1 << 20;
		double *p = realloc(lat, cap * sizeof(*p)), *q = p ? realloc(arr, cap * sizeof(*q)) : NULL;

		if (!p || !q) {
			fprintf(stderr, "lwsclient: out of memory\n");
			exit(1);
		}
		lat = p;
		arr = q;
		latcap = cap;
	}
	lat[nlat++] = t - st;
	if (arrival_us > 0)
		arr[narr++] = arrival_us - st;
	if (!first_at || t < first_at)
		first_at = t;
	if (t > last_at)
		last_at = t;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct sock *s = user;

	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
		unsigned char **p = in, *end = *p + len;

		for (int i = 0; i < o.nsub_hdr; i++) {
			const char *h = o.sub_hdr[i], *c = strchr(h, ':');
			char name[128];

			if (!c || (size_t)(c - h) + 2 > sizeof(name))
				continue;
			snprintf(name, sizeof(name), "%.*s:", (int)(c - h), h);
			c++;
			while (*c == ' ')
				c++;
			if (lws_add_http_header_by_name(wsi, (const unsigned char *)name, (const unsigned char *)c,
							(int)strlen(c), p, end))
				return -1;
		}
		break;
	}
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		s->state = OPEN;
		nopen++;
		npending--;
		break;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (s && s->state == PENDING) {
			s->state = FAILED;
			nfailed++;
			npending--;
		}
		if (s)
			s->wsi = NULL;
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (s && s->state == OPEN) {
			s->state = FAILED;
			s->wsi = NULL;
			if (measuring)
				disconnects++;
		}
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (lws_frame_is_binary(wsi))
			break;
		if (lws_is_first_fragment(wsi) && lws_is_final_fragment(wsi) &&
		    !lws_remaining_packet_payload(wsi)) {
			deliver(in, len);
			break;
		}
		if (s->rxlen + len > s->rxcap) {
			size_t cap = (s->rxlen + len) * 2;
			unsigned char *p = realloc(s->rx, cap);

			if (!p)
				return -1;
			s->rx = p;
			s->rxcap = cap;
		}
		memcpy(s->rx + s->rxlen, in, len);
		s->rxlen += len;
		if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
			deliver(s->rx, s->rxlen);
			s->rxlen = 0;
		}
		break;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (s->nout > 0) {
			unsigned char buf[LWS_PRE + 512];
			size_t n = strlen(s->out[0]);

			memcpy(buf + LWS_PRE, s->out[0], n);
			if (lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT) < (int)n)
				return -1;
			memmove(s->out[0], s->out[1], sizeof(s->out[0]) * (size_t)(s->nout - 1));
			if (--s->nout > 0)
				lws_callback_on_writable(wsi);
		}
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	{ "lwsclient", callback, 0, 4096, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static void open_one(int i)
{
	struct lws_client_connect_info ci;
	char path[1200], id[40], addr[32];
	const char *u = strstr(sub_path, "{uuid}");

	if (u) {
		unsigned char r[16];

		lws_get_random(ctx, r, sizeof(r));
		for (int k = 0; k < 16; k++)
			snprintf(id + 2 * k, 3, "%02x", r[k]);
		snprintf(path, sizeof(path), "%.*s%s%s", (int)(u - sub_path), sub_path, id, u + 6);
	} else {
		snprintf(path, sizeof(path), "%s", sub_path);
	}
	snprintf(addr, sizeof(addr), "%u.%u.%u.%u", o.src[0], o.src[1], o.src[2], o.src[3] + i % o.src_count);
	memset(&ci, 0, sizeof(ci));
	ci.context = ctx;
	ci.address = sub_host;
	ci.port = sub_port;
	ci.path = path;
	ci.host = sub_hostport;
	ci.origin = NULL;              /* as a non-browser client: no Origin */
	ci.iface = addr;
	ci.protocol = NULL;
	ci.local_protocol_name = "lwsclient";
	ci.userdata = &socks[i];
	ci.pwsi = &socks[i].wsi;
	if (sub_tls)
		ci.ssl_connection = LCCSCF_USE_SSL | LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
				    LCCSCF_ALLOW_INSECURE | LCCSCF_ALLOW_EXPIRED;
	socks[i].state = PENDING;
	npending++;
	nstarted++;
	if (!lws_client_connect_via_info(&ci) && socks[i].state == PENDING) {
		/* Failed at once, without CONNECTION_ERROR. */
		socks[i].state = FAILED;
		socks[i].wsi = NULL;
		nfailed++;
		npending--;
	}
}

/* A tick every 5 ms, so that lws_service() returns often enough for the
 * soak's pacing and the end-of-run checks. */
static lws_sorted_usec_list_t tick_sul;

static void tick(lws_sorted_usec_list_t *sul)
{
	lws_sul_schedule(ctx, 0, sul, tick, 5 * LWS_US_PER_MS);
}

/* ------------------------------------------------------------------ subscribers, raw engine */

/*
 * --engine raw: the subscribers on plain non-blocking sockets under one
 * epoll, with the handshake and the frame reader written here (RFC 6455, the
 * client's side: the server's frames arrive unmasked, a ping is answered with
 * a masked pong, a close with a close, and the socket then counts as closed).
 * Why a second engine: libwebsockets' client runs every byte of a frame
 * through its parser and, here, tops out near a million frames a second, below
 * what wspulsed sends in a burst, so with it the bulk fan-out rows measured
 * the client (BENCHMARKS.md).  This reader takes a socket's whole buffer per
 * read.  No TLS: wss:// needs the lws engine.
 */
#define RAW_RB (256 * 1024)
#define RAW_HANDSHAKE_S 10

struct rsock {
	int fd;
	int state;
	double since;                /* PENDING: when the connect started */
	bool sent;                   /* the handshake request is written */
	char accept[32];             /* the Sec-WebSocket-Accept the server must answer */
	unsigned char *left;         /* bytes of an unfinished handshake answer or frame */
	size_t nleft;
	unsigned char *msg;          /* a fragmented message so far */
	size_t mlen, mcap;
	int frag_op;                 /* 0, or the opcode (1 text, 2 binary) being continued */
};

static struct rsock *rsocks;
static int epfd = -1;
static unsigned char *rb;
static bool raw;
static double raw_scan_at;

static void raw_fail(struct rsock *s, const char *why)
{
	if (s->state == PENDING) {
		nfailed++;
		npending--;
		if (why)
			fprintf(stderr, "lwsclient: handshake failed: %s\n", why);
	} else if (s->state == OPEN) {
		if (measuring)
			disconnects++;
		if (why)
			fprintf(stderr, "lwsclient: socket closed: %s\n", why);
	}
	s->state = FAILED;
	if (s->fd >= 0) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, s->fd, NULL);
		close(s->fd);
		s->fd = -1;
	}
	free(s->left);
	free(s->msg);
	s->left = s->msg = NULL;
	s->nleft = s->mlen = s->mcap = 0;
}

/* A masked frame from the client (control frames only here: <= 125 bytes). */
static int raw_send(struct rsock *s, int op, const unsigned char *p, size_t len)
{
	unsigned char f[2 + 4 + 125];
	uint32_t r = (uint32_t)random();

	if (len > 125)
		len = 125;
	f[0] = (unsigned char)(0x80 | op);
	f[1] = (unsigned char)(0x80 | len);
	memcpy(f + 2, &r, 4);
	for (size_t i = 0; i < len; i++)
		f[6 + i] = p[i] ^ f[2 + i % 4];
	/* A control frame this small goes out whole unless the socket is broken. */
	return write(s->fd, f, 6 + len) == (ssize_t)(6 + len) ? 0 : -1;
}

static void raw_open(int i)
{
	struct rsock *s = &rsocks[i];
	struct sockaddr_in src = { .sin_family = AF_INET }, dst = { .sin_family = AF_INET };
	struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN, .data.u32 = (uint32_t)i };
	int one = 1;

	s->state = PENDING;
	s->since = mono_ms();
	npending++;
	nstarted++;
	src.sin_addr.s_addr = htonl((uint32_t)o.src[0] << 24 | (uint32_t)o.src[1] << 16 | (uint32_t)o.src[2] << 8 |
				    (uint32_t)(o.src[3] + i % o.src_count));
	dst.sin_port = htons((uint16_t)sub_port);
	if (inet_pton(AF_INET, sub_host, &dst.sin_addr) != 1) {
		s->fd = -1;
		raw_fail(s, "the raw engine needs a numeric IPv4 host");
		return;
	}
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		raw_fail(s, strerror(errno));
		return;
	}
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(s->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	if (bind(s->fd, (struct sockaddr *)&src, sizeof(src)) < 0 ||
	    (connect(s->fd, (struct sockaddr *)&dst, sizeof(dst)) < 0 && errno != EINPROGRESS) ||
	    epoll_ctl(epfd, EPOLL_CTL_ADD, s->fd, &ev) < 0)
		raw_fail(s, strerror(errno));
}

/* Connected: write the upgrade request. */
static void raw_handshake(struct rsock *s, int i)
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
	unsigned char nonce[16], sha[20];
	char key[32], kg[80], req[4096], path[1200];
	const char *u = strstr(sub_path, "{uuid}");
	int err = 0, n;
	socklen_t el = sizeof(err);

	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
		raw_fail(s, strerror(err ? err : errno));
		return;
	}
	for (int k = 0; k < 16; k++)
		nonce[k] = (unsigned char)random();
	lws_b64_encode_string((const char *)nonce, 16, key, sizeof(key));
	snprintf(kg, sizeof(kg), "%s%s", key, guid);
	lws_SHA1((const unsigned char *)kg, strlen(kg), sha);
	lws_b64_encode_string((const char *)sha, 20, s->accept, sizeof(s->accept));
	if (u) {
		char id[33];

		for (int k = 0; k < 16; k++)
			snprintf(id + 2 * k, 3, "%02x", (unsigned)(random() & 0xff));
		snprintf(path, sizeof(path), "%.*s%s%s", (int)(u - sub_path), sub_path, id, u + 6);
	} else {
		snprintf(path, sizeof(path), "%s", sub_path);
	}
	n = snprintf(req, sizeof(req),
		     "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		     "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n", path, sub_hostport, key);
	for (int k = 0; k < o.nsub_hdr && n < (int)sizeof(req) - 4; k++)
		n += snprintf(req + n, sizeof(req) - (size_t)n, "%s\r\n", o.sub_hdr[k]);
	n += snprintf(req + n, sizeof(req) - (size_t)n, "\r\n");
	if (n >= (int)sizeof(req) || write(s->fd, req, (size_t)n) != n) {
		raw_fail(s, "could not write the upgrade request");
		return;
	}
	s->sent = true;
	epoll_ctl(epfd, EPOLL_CTL_MOD, s->fd, &ev);
}

/* The answer to the upgrade in p[0, n): how many bytes it took, 0 if not
 * whole yet, -1 if it is not a valid 101. */
static long raw_answer(struct rsock *s, const unsigned char *p, size_t n)
{
	const unsigned char *end = memmem(p, n, "\r\n\r\n", 4), *l;
	bool ok = false;

	if (!end)
		return n > 8192 ? -1 : 0;
	if (n < 12 || memcmp(p, "HTTP/1.1 101", 12))
		return -1;
	for (l = memchr(p, '\n', (size_t)(end - p)); l && l < end; l = memchr(l + 1, '\n', (size_t)(end - l))) {
		const unsigned char *v = l + 1, *eol = memchr(v, '\r', (size_t)(end + 2 - v));
		size_t al = strlen(s->accept);

		if (eol && (size_t)(eol - v) > 21 && !strncasecmp((const char *)v, "Sec-WebSocket-Accept:", 21)) {
			v += 21;
			while (v < eol && *v == ' ')
				v++;
			ok = (size_t)(eol - v) == al && !memcmp(v, s->accept, al);
		}
	}
	return ok ? (long)(end + 4 - p) : -1;
}

/* Parse the frames in p[0, n); returns the bytes used, or -1 after failing the socket. */
static long raw_frames(struct rsock *s, const unsigned char *p, size_t n)
{
	size_t off = 0;

	while (n - off >= 2) {
		const unsigned char *f = p + off;
		bool fin = f[0] & 0x80;
		int op = f[0] & 0x0f;
		uint64_t len = f[1] & 0x7f;
		size_t hdr = 2;

		if (f[1] & 0x80) {
			raw_fail(s, "a masked frame from the server");
			return -1;
		}
		if (len == 126) {
			if (n - off < 4)
				break;
			len = (uint64_t)f[2] << 8 | f[3];
			hdr = 4;
		} else if (len == 127) {
			if (n - off < 10)
				break;
			len = 0;
			for (int k = 2; k < 10; k++)
				len = len << 8 | f[k];
			hdr = 10;
		}
		if (len > RAW_RB / 2) {
			raw_fail(s, "a frame larger than the raw engine's buffer");
			return -1;
		}
		if (n - off < hdr + len)
			break;
		f += hdr;
		switch (op) {
		case 1:
		case 2:
			if (s->frag_op) {
				raw_fail(s, "a new message inside a fragmented one");
				return -1;
			}
			if (fin) {
				if (op == 1)
					deliver(f, (size_t)len);
				break;
			}
			s->frag_op = op;
			s->mlen = 0;
			/* fall through - the first piece is kept below */
		case 0:
			if (!s->frag_op) {
				raw_fail(s, "a continuation frame with no message");
				return -1;
			}
			if (s->mlen + len > s->mcap) {
				size_t cap = (s->mlen + (size_t)len) * 2;
				unsigned char *q = realloc(s->msg, cap);

				if (!q) {
					raw_fail(s, "out of memory");
					return -1;
				}
				s->msg = q;
				s->mcap = cap;
			}
			memcpy(s->msg + s->mlen, f, (size_t)len);
			s->mlen += (size_t)len;
			if (fin && op == 0) {
				if (s->frag_op == 1)
					deliver(s->msg, s->mlen);
				s->frag_op = 0;
			}
			break;
		case 8:
			raw_send(s, 8, f, len >= 2 ? 2 : 0);
			raw_fail(s, NULL);
			return -1;
		case 9:
			if (raw_send(s, 10, f, (size_t)len) < 0) {
				raw_fail(s, "could not answer a ping");
				return -1;
			}
			break;
		case 10:
			break;
		default:
			raw_fail(s, "a frame with an unknown opcode");
			return -1;
		}
		off += hdr + (size_t)len;
	}
	return (long)off;
}

/* read(), and the kernel's stamp of the last segment it took into arrival_us
 * (a frame is whole when its last byte is in). */
static ssize_t raw_recv(int fd, unsigned char *buf, size_t len)
{
	union {
		char b[CMSG_SPACE(sizeof(struct timespec))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
			     .msg_controllen = sizeof(ctl.b) };
	ssize_t r = recvmsg(fd, &mh, 0);

	arrival_us = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); r > 0 && c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			arrival_us = (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
		}
	return r;
}

static void raw_read(struct rsock *s)
{
	size_t have = s->nleft;
	ssize_t r;
	long used = 0;

	if (have)
		memcpy(rb, s->left, have);
	r = raw_recv(s->fd, rb + have, RAW_RB - have);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		raw_fail(s, r < 0 ? strerror(errno) : (s->state == OPEN ? "closed by the server" : "closed before the answer"));
		return;
	}
	have += (size_t)r;
	if (s->state == PENDING) {
		used = raw_answer(s, rb, have);
		if (used < 0) {
			raw_fail(s, "the answer to the upgrade is not a valid 101");
			return;
		}
		if (used == 0)
			goto keep;
		s->state = OPEN;
		nopen++;
		npending--;
	}
	{
		long f = raw_frames(s, rb + used, have - (size_t)used);

		if (f < 0)
			return;
		used += f;
	}
keep:
	s->nleft = have - (size_t)used;
	if (s->nleft) {
		unsigned char *q = realloc(s->left, s->nleft);

		if (!q) {
			raw_fail(s, "out of memory");
			return;
		}
		s->left = q;
		memmove(s->left, rb + used, s->nleft);
	}
}

static void raw_service(int ms)
{
	struct epoll_event ev[256];
	int n = epoll_wait(epfd, ev, 256, ms);

	/* On loopback a sleeping receiver is woken in the sender's context, so a reader that
	 * takes every frame the moment it lands makes the server pay a wake-up per frame,
	 * which a browser on another machine never costs it.  Let a wake-up's frames gather
	 * for --coalesce-us before reading (at most that much added to every latency). */
	if (n > 0 && o.coalesce_us > 0) {
		struct timespec ts = { 0, o.coalesce_us * 1000L };

		nanosleep(&ts, NULL);
	}

	for (int k = 0; k < n; k++) {
		struct rsock *s = &rsocks[ev[k].data.u32];

		if (s->fd < 0)
			continue;
		if (s->state == PENDING && !s->sent) {
			if (ev[k].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
				raw_handshake(s, (int)ev[k].data.u32);
			continue;
		}
		if (ev[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
			raw_read(s);
	}
	/* Handshakes that hang fail after RAW_HANDSHAKE_S, as lws's connect timeout. */
	if (npending > 0 && mono_ms() - raw_scan_at > 500) {
		raw_scan_at = mono_ms();
		for (int i = 0; i < nstarted; i++)
			if (rsocks[i].state == PENDING && raw_scan_at - rsocks[i].since > RAW_HANDSHAKE_S * 1000)
				raw_fail(&rsocks[i], "no answer to the upgrade");
	}
}

/* One turn of whichever engine runs the subscribers; returns within ~5 ms. */
static void service(void)
{
	if (raw)
		raw_service(5);
	else
		lws_service(ctx, 0);
}

/* ------------------------------------------------------------------ publisher */

struct pconn {
	int fd;
	bool busy;
	char in[8192 + 1];           /* an answer so far, always NUL-terminated */
	size_t inlen;
};

static char pub_host[256], pub_path[1024];
static int pub_port;
static atomic_int published, pub_errors, pub_done;
static double pub_done_at, t_start;

static int pub_connect(void)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *ai;
	char port[16];
	int fd, one = 1;

	snprintf(port, sizeof(port), "%d", pub_port);
	if (getaddrinfo(pub_host, port, &hints, &ai) != 0)
		return -1;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* Is a whole response in c->in?  Returns its length (and status, and
 * whether the server closes), 0 if not yet, -1 if malformed. */
static long response_len(struct pconn *c, int *status, bool *closes)
{
	char *end = memmem(c->in, c->inlen, "\r\n\r\n", 4), *p;
	size_t head;
	long clen = -1;
	bool chunked = false;

	if (!end)
		return c->inlen >= sizeof(c->in) - 1 ? -1 : 0;
	head = (size_t)(end - c->in) + 4;
	if (sscanf(c->in, "HTTP/1.%*d %d", status) != 1)
		return -1;
	*closes = false;
	/* Each header line [p + 1, eol): the searches stay inside it. */
	for (p = memchr(c->in, '\n', head); p && p < end; p = memchr(p + 1, '\n', (size_t)(end - p))) {
		char *eol = memchr(p + 1, '\n', (size_t)(end + 1 - p)), *v;

		if (!eol)
			eol = end;
		if (!strncasecmp(p + 1, "Content-Length:", 15)) {
			clen = strtol(p + 16, NULL, 10);
		} else if (!strncasecmp(p + 1, "Transfer-Encoding:", 18)) {
			chunked = memmem(p + 19, (size_t)(eol - (p + 19)), "chunked", 7) != NULL;
		} else if (!strncasecmp(p + 1, "Connection:", 11)) {
			v = p + 12 + strspn(p + 12, " ");
			*closes = v + 5 <= eol && !strncasecmp(v, "close", 5);
		}
	}
	if (clen >= 0)
		return c->inlen >= head + (size_t)clen ? (long)(head + (size_t)clen) : 0;
	if (chunked) {
		size_t at = head;

		for (;;) {
			char *nl = memmem(c->in + at, c->inlen - at, "\r\n", 2);
			long sz;

			if (!nl)
				return c->inlen >= sizeof(c->in) - 1 ? -1 : 0;
			sz = strtol(c->in + at, NULL, 16);
			at = (size_t)(nl - c->in) + 2;
			if (sz == 0) {
				/* no trailers are sent by the servers here */
				return c->inlen >= at + 2 ? (long)(at + 2) : 0;
			}
			if (c->inlen < at + (size_t)sz + 2)
				return 0;
			at += (size_t)sz + 2;
		}
	}
	return (long)head;   /* no body */
}

static int pub_send(struct pconn *c)
{
	char *msg = message(), *body, head[2048];
	size_t blen, hlen;
	const char *at;

	if (!msg)
		return -1;
	if (o.wrap && (at = strstr(o.wrap, "@MSG@"))) {
		size_t a = (size_t)(at - o.wrap), ml = strlen(msg), rest = strlen(at + 5);

		body = malloc(a + ml + rest + 1);
		if (!body) {
			free(msg);
			return -1;
		}
		memcpy(body, o.wrap, a);
		memcpy(body + a, msg, ml);
		memcpy(body + a + ml, at + 5, rest + 1);
		free(msg);
	} else {
		body = msg;
	}
	blen = strlen(body);
	hlen = (size_t)snprintf(head, sizeof(head), "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Length: %zu\r\n",
				pub_path, pub_host, pub_port, blen);
	for (int i = 0; i < o.npub_hdr && hlen < sizeof(head) - 8; i++)
		hlen += (size_t)snprintf(head + hlen, sizeof(head) - hlen, "%s\r\n", o.pub_hdr[i]);
	hlen += (size_t)snprintf(head + hlen, sizeof(head) - hlen, "\r\n");
	if (c->fd < 0 && (c->fd = pub_connect()) < 0) {
		free(body);
		return -1;
	}
	{
		struct iovec iov[2] = { { head, hlen }, { body, blen } };
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
		ssize_t w = sendmsg(c->fd, &mh, MSG_NOSIGNAL);

		/* A small request on a fresh or idle keep-alive socket goes out whole. */
		free(body);
		if (w != (ssize_t)(hlen + blen))
			return -1;
	}
	c->busy = true;
	c->inlen = 0;
	return 0;
}

static void *publisher(void *arg)
{
	struct pconn *cs = calloc((size_t)o.k, sizeof(*cs));
	struct pollfd *pf = calloc((size_t)o.k, sizeof(*pf));
	int sent = 0, inflight = 0;

	(void)arg;
	if (!cs || !pf) {
		fprintf(stderr, "lwsclient: out of memory\n");
		exit(1);
	}
	for (int i = 0; i < o.k; i++)
		cs[i].fd = -1;
	while (sent < o.m || inflight > 0) {
		int timeout = 1000;

		/* Send what is due on free connections. */
		while (sent < o.m && inflight < o.k) {
			int free_i = -1;

			if (o.rate > 0) {
				double due = t_start / 1000 + sent * 1000.0 / o.rate - now_us() / 1000;

				if (due > 0) {
					timeout = (int)due + 1;
					if (due > 0.5)
						break;
				}
			}
			for (int i = 0; i < o.k; i++)
				if (!cs[i].busy) {
					free_i = i;
					break;
				}
			if (pub_send(&cs[free_i]) < 0) {
				if (cs[free_i].fd >= 0)
					close(cs[free_i].fd);
				cs[free_i].fd = -1;
				atomic_fetch_add(&pub_errors, 1);
				sent++;
				continue;
			}
			sent++;
			inflight++;
		}
		if (sent < o.m && inflight < o.k && o.rate <= 0)
			timeout = 0;
		for (int i = 0; i < o.k; i++) {
			pf[i].fd = cs[i].busy ? cs[i].fd : -1;
			pf[i].events = POLLIN;
			pf[i].revents = 0;
		}
		if (inflight == 0 && sent < o.m) {
			/* Only waiting for the next due time. */
			if (timeout > 0)
				usleep((useconds_t)(timeout > 1 ? timeout - 1 : 0) * 1000 + 200);
			continue;
		}
		if (poll(pf, (nfds_t)o.k, timeout) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < o.k; i++) {
			struct pconn *c = &cs[i];
			ssize_t r;
			long rl;
			int status = 0;
			bool closes = false;

			if (!c->busy || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = read(c->fd, c->in + c->inlen, sizeof(c->in) - 1 - c->inlen);
			if (r > 0)
				c->inlen += (size_t)r;
			c->in[c->inlen] = '\0';
			rl = r > 0 ? response_len(c, &status, &closes) : -1;
			if (rl == 0)
				continue;
			if (rl > 0 && status >= 200 && status < 300)
				atomic_fetch_add(&published, 1);
			else
				atomic_fetch_add(&pub_errors, 1);
			if (rl < 0 || closes) {
				close(c->fd);
				c->fd = -1;
			}
			c->busy = false;
			inflight--;
		}
	}
	pub_done_at = now_us();
	for (int i = 0; i < o.k; i++)
		if (cs[i].fd >= 0)
			close(cs[i].fd);
	free(cs);
	free(pf);
	atomic_store(&pub_done, 1);
	return NULL;
}

/* ------------------------------------------------------------------ main */

static int parse_url(const char *url, bool ws, char *host, size_t hsz, int *port, char *path, size_t psz, bool *tls)
{
	const char *p, *slash, *colon;

	if (ws && !strncmp(url, "wss://", 6)) {
		*tls = true;
		p = url + 6;
	} else if (ws && !strncmp(url, "ws://", 5)) {
		*tls = false;
		p = url + 5;
	} else if (!ws && !strncmp(url, "http://", 7)) {
		*tls = false;
		p = url + 7;
	} else {
		return -1;
	}
	slash = strchr(p, '/');
	if (!slash)
		slash = p + strlen(p);
	colon = memchr(p, ':', (size_t)(slash - p));
	if ((size_t)((colon ? colon : slash) - p) >= hsz)
		return -1;
	snprintf(host, hsz, "%.*s", (int)((colon ? colon : slash) - p), p);
	*port = colon ? atoi(colon + 1) : (*tls ? 443 : 80);
	snprintf(path, psz, "%s", *slash ? slash : "/");
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void service_for(double ms)
{
	double until = mono_ms() + ms;

	while (mono_ms() < until)
		service();
}

int main(int argc, char **argv)
{
	struct lws_context_creation_info info;
	pthread_t pt;
	bool pub_tls = false;
	int sent_ws = 0;
	double t0c, connect_s, cpu0, cpu, want, span, pub_span;
	size_t last;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

#define NEXT() (i++, v)
		if (!v) {
			fprintf(stderr, "lwsclient: %s needs a value\n", a);
			return 2;
		}
		if (!strcmp(a, "--sub"))
			o.sub = NEXT();
		else if (!strcmp(a, "--sub-header") && o.nsub_hdr < MAX_HEADERS)
			o.sub_hdr[o.nsub_hdr++] = NEXT();
		else if (!strcmp(a, "--pub"))
			o.pub = NEXT();
		else if (!strcmp(a, "--pub-header") && o.npub_hdr < MAX_HEADERS)
			o.pub_hdr[o.npub_hdr++] = NEXT();
		else if (!strcmp(a, "--wrap"))
			o.wrap = NEXT();
		else if (!strcmp(a, "-n"))
			o.n = atoi(NEXT());
		else if (!strcmp(a, "-m"))
			o.m = atoi(NEXT());
		else if (!strcmp(a, "-k"))
			o.k = atoi(NEXT());
		else if (!strcmp(a, "--rate"))
			o.rate = atof(NEXT());
		else if (!strcmp(a, "--size"))
			o.size = atoi(NEXT());
		else if (!strcmp(a, "--soak"))
			o.soak = atof(NEXT());
		else if (!strcmp(a, "--soak-frac"))
			o.soak_frac = atof(NEXT());
		else if (!strcmp(a, "--soak-rate"))
			o.soak_rate = atof(NEXT());
		else if (!strcmp(a, "--server-pid")) {
			char *s = strdup(NEXT()), *tok, *save = NULL;

			for (tok = strtok_r(s, ",", &save); tok && o.npids < 16; tok = strtok_r(NULL, ",", &save))
				o.pids[o.npids++] = atoi(tok);
			free(s);
		} else if (!strcmp(a, "--src-base")) {
			unsigned b[4];

			if (sscanf(NEXT(), "%u.%u.%u.%u", &b[0], &b[1], &b[2], &b[3]) != 4) {
				fprintf(stderr, "lwsclient: bad --src-base\n");
				return 2;
			}
			for (int k = 0; k < 4; k++)
				o.src[k] = (unsigned char)b[k];
		} else if (!strcmp(a, "--src-count"))
			o.src_count = atoi(NEXT());
		else if (!strcmp(a, "--quiet"))
			o.quiet = atof(NEXT());
		else if (!strcmp(a, "--timeout"))
			o.timeout = atof(NEXT());
		else if (!strcmp(a, "--engine")) {
			const char *e = NEXT();

			if (strcmp(e, "lws") && strcmp(e, "raw")) {
				fprintf(stderr, "lwsclient: --engine is lws or raw\n");
				return 2;
			}
			raw = !strcmp(e, "raw");
		} else if (!strcmp(a, "--coalesce-us")) {
			o.coalesce_us = atol(NEXT());
			if (o.coalesce_us < 0 || o.coalesce_us > 999999) {
				fprintf(stderr, "lwsclient: --coalesce-us is 0 to 999999\n");
				return 2;
			}
		} else if (!strcmp(a, "--threads"))
			(void)NEXT();   /* wsclient.mjs's option: one thread here */
		else {
			fprintf(stderr, "lwsclient: unknown argument %s\n", a);
			return 2;
		}
#undef NEXT
	}
	/* -n 0 with --pub: a publisher only (the publish-rate rows), no --sub needed. */
	if ((o.n > 0 && !o.sub) || (!o.soak && !o.pub) || o.n < 0 || (o.n == 0 && (o.soak || !o.pub)) || o.k < 1 ||
	    o.src_count < 1) {
		fprintf(stderr, "lwsclient: needs --sub and --pub (or --soak), or -n 0 and --pub\n");
		return 2;
	}
	if ((o.sub && parse_url(o.sub, true, sub_host, sizeof(sub_host), &sub_port, sub_path, sizeof(sub_path),
				&sub_tls) < 0) ||
	    (o.pub && parse_url(o.pub, false, pub_host, sizeof(pub_host), &pub_port, pub_path, sizeof(pub_path),
				&pub_tls) < 0)) {
		fprintf(stderr, "lwsclient: --sub must be ws:// or wss://, --pub http://\n");
		return 2;
	}
	if (raw && (sub_tls || o.soak)) {
		fprintf(stderr, "lwsclient: --engine raw has no TLS and no soak mode\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	srandom((unsigned)now_us() ^ (unsigned)getpid());
	snprintf(sub_hostport, sizeof(sub_hostport), "%s:%d", sub_host, sub_port);
	if (raw) {
		rsocks = calloc((size_t)o.n + 1, sizeof(*rsocks));
		rb = malloc(RAW_RB);
		epfd = epoll_create1(EPOLL_CLOEXEC);
		if (!rsocks || !rb || epfd < 0) {
			fprintf(stderr, "lwsclient: %s\n", strerror(errno));
			return 1;
		}
		for (int i = 0; i < o.n; i++)
			rsocks[i].fd = -1;
	} else {
		lws_set_log_level(LLL_ERR, NULL);
		socks = calloc((size_t)o.n + 1, sizeof(*socks));
		if (!socks)
			return 1;
		memset(&info, 0, sizeof(info));
		info.port = CONTEXT_PORT_NO_LISTEN;
		info.protocols = protocols;
		info.fd_limit_per_thread = (unsigned)o.n + 64;
		info.timeout_secs = 10;
		info.connect_timeout_secs = 10;
		if (sub_tls)
			info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		ctx = lws_create_context(&info);
		if (!ctx) {
			fprintf(stderr, "lwsclient: lws_create_context failed\n");
			return 1;
		}
		lws_sul_schedule(ctx, 0, &tick_sul, tick, 5 * LWS_US_PER_MS);
	}

	/* Subscribers, at most o.conc handshakes at a time. */
	t0c = mono_ms();
	while (nopen + nfailed < o.n && mono_ms() - t0c < o.timeout * 1000) {
		while (nstarted < o.n && npending < o.conc)
			(raw ? raw_open : open_one)(nstarted);
		service();
	}
	connect_s = (mono_ms() - t0c) / 1000;
	service_for(1000);

	/* The measured phase. */
	measuring = true;
	cpu0 = cpu_of_pids();
	t_start = now_us();
	if (o.soak) {
		double s0 = mono_ms();
		int every = (int)(1 / o.soak_frac + 0.5);

		if (every < 1)
			every = 1;
		while (mono_ms() - s0 < o.soak * 1000) {
			int due = (int)((mono_ms() - s0) / 1000 * o.soak_rate);

			while (sent_ws < due) {
				/* the senders are every `every`-th socket, in turn */
				int nsend = (o.n + every - 1) / every, idx = (sent_ws % nsend) * every;
				struct sock *s = &socks[idx];

				if (s->state == OPEN && s->wsi && s->nout < 8) {
					char *msg = message();

					if (msg) {
						snprintf(s->out[s->nout++], sizeof(s->out[0]), "%s", msg);
						free(msg);
						lws_callback_on_writable(s->wsi);
					}
				}
				sent_ws++;
			}
			service();
		}
		atomic_store(&pub_done, 1);
	} else if (pthread_create(&pt, NULL, publisher, NULL) != 0) {
		fprintf(stderr, "lwsclient: pthread_create failed\n");
		return 1;
	}

	/* Wait for every delivery, or until nothing arrives for o.quiet seconds. */
	{
		double end_at = mono_ms() + o.timeout * 1000, last_change = mono_ms();

		last = nlat;
		for (;;) {
			service();
			if (atomic_load(&pub_done)) {
				want = (double)(o.soak ? sent_ws : atomic_load(&published)) * nopen;
				if ((double)nlat >= want)
					break;
			}
			if (mono_ms() > end_at)
				break;
			if (nlat != last) {
				last = nlat;
				last_change = mono_ms();
			} else if (atomic_load(&pub_done) && mono_ms() - last_change > o.quiet * 1000) {
				break;
			}
		}
	}
	cpu = cpu_of_pids() - cpu0;
	measuring = false;
	if (!o.soak)
		pthread_join(pt, NULL);
	want = (double)(o.soak ? sent_ws : atomic_load(&published)) * nopen;
	/* None (a publisher only, -n 0): lat and arr are still NULL. */
	if (nlat)
		qsort(lat, nlat, sizeof(*lat), cmp_double);
	if (narr)
		qsort(arr, narr, sizeof(*arr), cmp_double);
#define PCT_OF(a, n, q) ((n) ? (a)[(size_t)fmin((double)(n) - 1, fmax(0, ceil((q) * (double)(n)) - 1))] / 1000 : 0)
#define PCT(q) PCT_OF(lat, nlat, q)
	span = ((last_at ? last_at : now_us()) - t_start) / 1e6;
	pub_span = pub_done_at ? (pub_done_at - t_start) / 1e6 : 0;
	printf("{\"client\":\"lwsclient\",\"engine\":\"%s\",\"threads\":1,", raw ? "raw" : "lws");
	printf("\"open\":%d,\"failed\":%d,\"connect_s\":%.3f,"
	       "\"published\":%d,\"publish_errors\":%d,\"publishes_per_s\":",
	       nopen, o.n - nopen, connect_s, atomic_load(&published), atomic_load(&pub_errors));
	if (pub_span > 0)
		printf("%.2f", atomic_load(&published) / pub_span);
	else
		printf("null");
	printf(",\"sent_ws\":%d,\"expected\":%.0f,\"received\":%zu,\"span_s\":%.3f,\"deliveries_per_s\":%.1f,",
	       sent_ws, want, nlat, span, span > 0 ? (double)nlat / span : 0);
	if (nlat)
		printf("\"lat_p50_ms\":%.3f,\"lat_p99_ms\":%.3f,\"lat_max_ms\":%.3f,", PCT(0.5), PCT(0.99),
		       lat[nlat - 1] / 1000);
	else
		printf("\"lat_p50_ms\":null,\"lat_p99_ms\":null,\"lat_max_ms\":null,");
	if (narr)
		printf("\"arr_p50_ms\":%.3f,\"arr_p99_ms\":%.3f,\"arr_max_ms\":%.3f,", PCT_OF(arr, narr, 0.5),
		       PCT_OF(arr, narr, 0.99), arr[narr - 1] / 1000);
	printf("\"server_cpu_s\":%.3f,\"cpu_us_per_delivery\":", cpu);
	if (nlat && o.npids)
		printf("%.3f", cpu / (double)nlat * 1e6);
	else
		printf("null");
	printf(",\"disconnects\":%d}\n", disconnects);
	fflush(stdout);
	_exit(0);
}
