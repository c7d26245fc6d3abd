/*
 * loadgen.c — WebSocket fan-out load generator for the wspulse benchmarks (issue 7).
 *
 * One process, one thread, one epoll loop. It opens N WebSocket subscribers (a minimal
 * RFC 6455 client written here: handshake, unmasked server frames, fragmentation, ping/pong,
 * close), spread over several 127.0.0.x source addresses, then runs one of three phases:
 *
 *   fan-out  publish M messages by HTTP POST on one keep-alive connection, either pipelined
 *            with at most K requests unanswered, or at a fixed rate R/s (still bounded by K),
 *            and wait until every subscriber got every message (or nothing arrives for a while);
 *   idle     hold the sockets for S seconds, answering pings, and count disconnects;
 *   soak     for S seconds a fraction of the subscribers send cursor-like text frames through
 *            their own WebSocket at an aggregate rate; count disconnects, follow server RSS.
 *
 * Every published or sent message is a JSON object {"t":<CLOCK_REALTIME ns>,"s":<seq>,"p":"…"}
 * padded to --size bytes. A received text frame counts as a delivery if it contains a "t":
 * field (whatever envelope the server wraps around it, JSON-escaped or not); its latency is
 * receive time minus t. On plain sockets each delivery is also timed by its arrival: the
 * kernel's receive stamp of the read that completed the frame (SO_TIMESTAMPNS) minus t, which
 * leaves out this client's own wait for a CPU (arr_* in the JSON). Latencies go into
 * log-linear histograms (1 µs resolution below 1.024 ms, 0.1 % above), so memory does not
 * grow with the number of deliveries. In fan-out
 * mode each message's first and last read among this process's subscribers are kept too (by
 * "s", so with one publisher; lat_first_ms and lat_last_ms are their means): the part before
 * the first read is the server's path, the rest the fan-out and this client's own reading.
 * With LOADGEN_MSG_FILE=path in the environment they are also written there, one line per
 * message: "seq publish-stamp-s first-ms last-ms" (a diagnostic, not a bench row).
 *
 * Server cost: --server-pid PID[,PID…] are read from /proc: utime+stime before and after the
 * measured phase (CPU per delivery), VmRSS before and after the connections (KiB per
 * connection). The result is one human line on stderr and one JSON line on stdout.
 *
 * With --sub wss://… the subscribers speak TLS (OpenSSL, non-blocking; the certificate is not
 * verified: a loopback benchmark), to measure a server that terminates TLS itself.
 *
 * With --wait-go the process prints "READY …" on stdout once its connections are up and waits
 * for a line on stdin before the measured phase: the runner uses this to drive several
 * loadgen processes (one process holds at most RLIMIT_NOFILE sockets) and to read the
 * server's /proc figures itself around the whole multi-process phase.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define RBUF_SIZE (1u << 20)      /* shared receive buffer */
#define MAX_FRAME (RBUF_SIZE / 2) /* larger frames are a protocol error for this tool */
#define TAG_PUB UINT64_C(0xFFFFFFFF00010000)  /* + publish connection index */
#define TAG_STDIN UINT64_C(0xFFFFFFFF00000002)
#define HS_PER_WAKE 64            /* TLS connects worked on per wake-up (loop_once) */

/* ---------------------------------------------------------------- options */

static struct {
	char sub_host[64];
	int sub_port;
	bool sub_tls;             /* --sub wss://: TLS subscribers */
	char sub_path[1024];
	char sub_hdrs[4096];      /* extra handshake header lines, each ending in \r\n */
	char pub_host[64];
	int pub_port;
	char pub_path[1024];
	char pub_hdrs[4096];      /* extra publish header lines, each ending in \r\n */
	const char *wrap;         /* body template with @MSG@, or NULL */
	long n, m, k;
	long pub_per_conn;       /* requests per publish connection, then a new one (0: no cap) */
	double rate;              /* publishes/s; 0 = as fast as K allows */
	int size;
	int src_count;
	unsigned src_base;        /* host order, first source address */
	int conc;                 /* concurrent connection attempts */
	long max_fail;            /* stop connecting after this many failures (0: never) */
	int retry;                /* retry a failed connect up to this many times, with backoff */
	double conn_timeout;
	double settle;
	double quiet;             /* s without deliveries that ends the wait */
	double timeout;           /* hard cap on the measured phase */
	double idle;              /* idle mode: hold seconds */
	double soak;              /* soak mode: seconds */
	double soak_frac;
	double soak_rate;         /* aggregate msg/s over all sending clients */
	double soak_warmup;
	int pids[64];
	int npids;
	bool wait_go;
	bool no_publish;
	bool hist;
	const char *label;
	long coalesce_us;         /* sleep after a wake-up that found work (see loop_once) */
} opt = {
	.sub_port = 80, .pub_port = 80, .n = 100, .m = 100, .k = 16, .size = 100,
	.src_count = 8, .conc = 256, .conn_timeout = 10, .settle = 1, .quiet = 5,
	.timeout = 600, .soak_frac = 0.1, .soak_rate = 20, .soak_warmup = -1, .label = "",
	.coalesce_us = 200,
};

/* ---------------------------------------------------------------- helpers */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int64_t real_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("loadgen: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p && n)
		die("out of memory");
	return p;
}

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Parses "[ws://|http://]host[:port][/path]". */
static void parse_url(const char *url, char *host, size_t hl, int *port, char *path, size_t pl)
{
	const char *p = strstr(url, "://");
	p = p ? p + 3 : url;
	const char *slash = strchr(p, '/');
	const char *end = slash ? slash : p + strlen(p);
	const char *colon = memchr(p, ':', end - p);
	size_t n = (colon ? colon : end) - p;
	if (n == 0 || n >= hl)
		die("bad url: %s", url);
	memcpy(host, p, n);
	host[n] = 0;
	if (colon)
		*port = atoi(colon + 1);
	snprintf(path, pl, "%s", slash ? slash : "/");
	if (strcmp(host, "localhost") == 0)
		snprintf(host, hl, "127.0.0.1");
}

static void add_header(char *dst, size_t cap, const char *h)
{
	size_t l = strlen(dst);
	if (l + strlen(h) + 3 >= cap)
		die("too many headers");
	snprintf(dst + l, cap - l, "%s\r\n", h);
}

/* ---------------------------------------------------------------- /proc */

typedef struct { double cpu_s; long rss_kib; int alive; } proc_sample;

static proc_sample proc_read(void)
{
	proc_sample s = {0, 0, 0};
	long tck = sysconf(_SC_CLK_TCK);
	for (int i = 0; i < opt.npids; i++) {
		char path[64], buf[4096];
		snprintf(path, sizeof path, "/proc/%d/stat", opt.pids[i]);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		size_t n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[n] = 0;
		char *p = strrchr(buf, ')'); /* comm may contain spaces */
		if (!p)
			continue;
		unsigned long ut = 0, st = 0;
		/* after ')': state(3) ppid … utime is field 14, stime 15 */
		if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) == 2)
			s.cpu_s += (double)(ut + st) / tck;
		snprintf(path, sizeof path, "/proc/%d/status", opt.pids[i]);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(buf, sizeof buf, f))
			if (strncmp(buf, "VmRSS:", 6) == 0)
				s.rss_kib += atol(buf + 6);
		fclose(f);
		s.alive++;
	}
	return s;
}

/* ---------------------------------------------------------------- latency histogram */

#define H_LIN 1024
#define H_EXP 30
#define H_SLOTS (H_LIN + H_EXP * H_LIN)

/* Two histograms: H_READ times a delivery when this process read it,
 * H_ARRIVAL when its bytes reached the subscriber's socket (the kernel's
 * receive stamp, SO_TIMESTAMPNS; plain sockets only).  The read includes
 * this client's own wait for a CPU and its walk over the sockets; the
 * arrival is what a subscriber on a machine of its own would see. */
enum { H_READ, H_ARRIVAL, H_KINDS };
static uint64_t hist[H_KINDS][H_SLOTS];
static uint64_t lat_max_us[H_KINDS];

static size_t h_index(uint64_t us)
{
	if (us < H_LIN)
		return us;
	int e = 63 - __builtin_clzll(us); /* >= 10 */
	if (e - 10 >= H_EXP)
		return H_SLOTS - 1;
	return H_LIN + (size_t)(e - 10) * H_LIN + ((us >> (e - 10)) - H_LIN);
}

static uint64_t h_value(size_t i)
{
	if (i < H_LIN)
		return i;
	size_t e = (i - H_LIN) / H_LIN + 10, sub = (i - H_LIN) % H_LIN;
	return (uint64_t)(H_LIN + sub) << (e - 10);
}

static void h_add(int kind, int64_t ns)
{
	uint64_t us = ns > 0 ? (uint64_t)ns / 1000 : 0;
	hist[kind][h_index(us)]++;
	if (us > lat_max_us[kind])
		lat_max_us[kind] = us;
}

static uint64_t h_total(int kind)
{
	uint64_t total = 0;
	for (size_t i = 0; i < H_SLOTS; i++)
		total += hist[kind][i];
	return total;
}

static double h_pct(int kind, double q)
{
	uint64_t total = h_total(kind), acc = 0;
	if (!total)
		return NAN;
	uint64_t want = (uint64_t)ceil(q * total);
	if (want == 0)
		want = 1;
	for (size_t i = 0; i < H_SLOTS; i++) {
		acc += hist[kind][i];
		if (acc >= want)
			return h_value(i) / 1000.0;
	}
	return lat_max_us[kind] / 1000.0;
}

/* The histogram as JSON pairs [µs, count] after the key. */
static void h_print(int kind, const char *key)
{
	printf(",\"%s\":[", key);
	bool first = true;
	for (size_t i = 0; i < H_SLOTS; i++)
		if (hist[kind][i]) {
			printf("%s[%" PRIu64 ",%" PRIu64 "]", first ? "" : ",", h_value(i), hist[kind][i]);
			first = false;
		}
	printf("]");
}

/* ---------------------------------------------------------------- subscribers */

enum { S_IDLE, S_CONNECTING, S_TLS, S_HANDSHAKE, S_OPEN, S_DEAD, S_RETRY };

/* One per WebSocket subscriber; buffers are allocated only while they hold bytes. */
typedef struct sub {
	int fd;
	SSL *ssl;           /* --sub wss://, else NULL */
	uint8_t state;
	uint8_t tries;      /* connection attempts repeated (--retry) */
	uint8_t fop;        /* opcode of the fragmented message being assembled */
	uint32_t plen, pcap; /* unparsed tail (handshake or partial frame) */
	char *pbuf;
	uint32_t flen, fcap; /* fragmented message so far */
	char *fbuf;
	uint32_t wlen, wcap; /* output the socket did not take yet */
	char *wbuf;
	double t0;          /* connect start, for the connect timeout; S_RETRY: when to retry */
} sub;

static sub *subs;
static int ep;
static char *rbuf;
static long next_conn, connecting, n_open, n_failed, n_disconnect, n_retried, n_waiting;
static bool in_connect_phase;
static volatile sig_atomic_t interrupted;
static int first_fail_errno, first_fail_status;
static bool shutting_down;
static uint64_t received, bad_frames, sent_ws;
static double first_delivery, last_delivery;

static SSL_CTX *tls_ctx;

/* Closed: for good, or until its retry is due. */
static bool sub_gone(const sub *s)
{
	return s->state == S_DEAD || s->state == S_RETRY;
}

static void sub_write(sub *s, const void *data, size_t len);

/* send()/recv() for a subscriber, through TLS when it has one: the count,
 * or -1 with errno (EAGAIN when OpenSSL waits for the socket). */
static ssize_t sock_send(sub *s, const void *data, size_t len)
{
	if (!s->ssl)
		return send(s->fd, data, len, MSG_NOSIGNAL);
	ERR_clear_error();
	int n = SSL_write(s->ssl, data, (int)len);
	if (n > 0)
		return n;
	int e = SSL_get_error(s->ssl, n);
	errno = e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? EAGAIN : EPROTO;
	return -1;
}

/* The kernel's receive stamp of the last bytes sock_recv() read (CLOCK_REALTIME
 * ns), or 0 when it had none (TLS, or the option refused). */
static int64_t recv_arrival_ns;

static ssize_t sock_recv(sub *s, void *buf, size_t len)
{
	recv_arrival_ns = 0;
	if (!s->ssl) {
		union {
			char buf[CMSG_SPACE(sizeof(struct timespec))];
			struct cmsghdr align;
		} ctl;
		struct iovec iov = { .iov_base = buf, .iov_len = len };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
		                     .msg_controllen = sizeof ctl.buf };
		ssize_t r = recvmsg(s->fd, &mh, 0);
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); r > 0 && c; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
				struct timespec ts;
				memcpy(&ts, CMSG_DATA(c), sizeof ts);
				recv_arrival_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
			}
		return r;
	}
	ERR_clear_error();
	int n = SSL_read(s->ssl, buf, (int)len);
	if (n > 0)
		return n;
	int e = SSL_get_error(s->ssl, n);
	if (e == SSL_ERROR_ZERO_RETURN)
		return 0;
	errno = e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? EAGAIN : EPROTO;
	return -1;
}

static void sub_kill(sub *s, bool counted_open)
{
	if (s->ssl) {
		SSL_free(s->ssl);
		s->ssl = NULL;
	}
	if (s->fd >= 0) {
		epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
		close(s->fd);
	}
	bool retry = false;
	if (s->state == S_CONNECTING || s->state == S_TLS || s->state == S_HANDSHAKE) {
		connecting--;
		/* --retry: a browser whose connect failed tries again after its backoff. */
		retry = in_connect_phase && !interrupted && s->tries < opt.retry;
		if (!retry)
			n_failed++;
	} else if (s->state == S_OPEN && counted_open) {
		n_open--;
		if (!shutting_down)
			n_disconnect++;
	}
	s->fd = -1;
	s->state = S_DEAD;
	if (retry) {
		/* jPulse.ws's backoff: min(5 s × attempt, 30 s) × (1 ± 20 %). */
		double d = 5.0 * (s->tries + 1);
		if (d > 30)
			d = 30;
		s->tries++;
		n_retried++;
		n_waiting++;
		s->state = S_RETRY;
		s->t0 = now_s() + d * (0.8 + 0.4 * (double)(rng() % 10001) / 10000.0);
	}
	free(s->pbuf);
	free(s->fbuf);
	free(s->wbuf);
	s->pbuf = s->fbuf = s->wbuf = NULL;
	s->plen = s->pcap = s->flen = s->fcap = s->wlen = s->wcap = 0;
}

static void fail_conn(sub *s, int err)
{
	if (!first_fail_errno && err)
		first_fail_errno = err;
	sub_kill(s, true);
}

static void ws_frame_out(sub *s, int opcode, const char *payload, size_t len)
{
	char hdr[14];
	size_t h = 0;
	hdr[h++] = (char)(0x80 | opcode);
	if (len < 126) {
		hdr[h++] = (char)(0x80 | len);
	} else if (len < 65536) {
		hdr[h++] = (char)(0x80 | 126);
		hdr[h++] = (char)(len >> 8);
		hdr[h++] = (char)len;
	} else {
		hdr[h++] = (char)(0x80 | 127);
		for (int i = 7; i >= 0; i--)
			hdr[h++] = (char)((uint64_t)len >> (8 * i));
	}
	uint32_t key = (uint32_t)rng();
	memcpy(hdr + h, &key, 4);
	h += 4;
	char stackbuf[2048];
	char *out = len + h <= sizeof stackbuf ? stackbuf : xrealloc(NULL, len + h);
	memcpy(out, hdr, h);
	const uint8_t *k = (const uint8_t *)&key;
	for (size_t i = 0; i < len; i++)
		out[h + i] = (char)(payload[i] ^ k[i & 3]);
	sub_write(s, out, h + len);
	if (out != stackbuf)
		free(out);
}

static void sub_set_events(sub *s, uint32_t ev)
{
	struct epoll_event e = { .events = ev, .data.u64 = (uint64_t)(s - subs) };
	epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &e);
}

static void sub_write(sub *s, const void *data, size_t len)
{
	if (sub_gone(s))
		return;
	if (s->wlen == 0) {
		ssize_t w = sock_send(s, data, len);
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			fail_conn(s, errno);
			return;
		}
		if (w < 0)
			w = 0;
		data = (const char *)data + w;
		len -= (size_t)w;
		if (len == 0)
			return;
		sub_set_events(s, EPOLLIN | EPOLLOUT);
	}
	if (s->wlen + len > s->wcap) {
		s->wcap = (uint32_t)(s->wlen + len + 256);
		s->wbuf = xrealloc(s->wbuf, s->wcap);
	}
	memcpy(s->wbuf + s->wlen, data, len);
	s->wlen += (uint32_t)len;
}

static void sub_flush(sub *s)
{
	while (s->wlen) {
		ssize_t w = sock_send(s, s->wbuf, s->wlen);
		if (w < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			fail_conn(s, errno);
			return;
		}
		memmove(s->wbuf, s->wbuf + w, s->wlen - (size_t)w);
		s->wlen -= (uint32_t)w;
	}
	free(s->wbuf);
	s->wbuf = NULL;
	s->wcap = 0;
	sub_set_events(s, EPOLLIN);
}

/* A field's two spellings: "k": in the message, \"k\": inside a
 * JSON-encoded string. */
static const char *const TS_KEYS[2] = { "\"t\":", "\\\"t\\\":" };
static const char *const SEQ_KEYS[2] = { "\"s\":", "\\\"s\\\":" };

/* Finds a field (keys: TS_KEYS or SEQ_KEYS) with an integer value in a
 * message. */
static bool find_int(const char *p, size_t len, const char *const keys[2], int64_t *out)
{
	for (int k = 0; k < 2; k++) {
		size_t kl = strlen(keys[k]);
		const char *hit = memmem(p, len, keys[k], kl);
		if (!hit)
			continue;
		const char *q = hit + kl, *end = p + len;
		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		int64_t v = 0;
		int digits = 0;
		while (q < end && *q >= '0' && *q <= '9' && digits < 19) {
			v = v * 10 + (*q++ - '0');
			digits++;
		}
		if (digits) {
			*out = v;
			return true;
		}
	}
	return false;
}

/* Per published message (by its "s"), the latency of the first and of the
 * last of this process's subscribers to read it: where a message's time
 * goes before the first read (the server's path) and between the first and
 * the last (the fan-out and this client's reading). */
static int64_t *msg_first_ns, *msg_last_ns, *msg_ts;
static long msg_slots;

static void msg_track(int64_t seq, int64_t lat, int64_t ts)
{
	if (seq < 0 || seq >= msg_slots)
		return;
	if (!msg_first_ns[seq])
		msg_ts[seq] = ts;
	if (!msg_first_ns[seq] || lat < msg_first_ns[seq])
		msg_first_ns[seq] = lat > 0 ? lat : 1;
	if (lat > msg_last_ns[seq])
		msg_last_ns[seq] = lat;
}

/* The mean over the messages seen of their first (last) read, in ms. */
static void msg_means(double *first, double *last)
{
	double f = 0, l = 0;
	long k = 0;
	for (long i = 0; i < msg_slots; i++)
		if (msg_first_ns[i]) {
			f += (double)msg_first_ns[i];
			l += (double)msg_last_ns[i];
			k++;
		}
	*first = k ? f / (double)k / 1e6 : NAN;
	*last = k ? l / (double)k / 1e6 : NAN;
}

/* The read's clock, and its kernel stamp: that of the last segment it took.
 * A frame is whole only once its last byte arrived, so the stamp is the
 * frame's arrival; for several frames in one read it is the last one's
 * (never earlier than theirs). */
static int64_t recv_now_ns;

static void on_message(sub *s, const char *p, size_t len)
{
	int64_t ts, seq;
	if (!find_int(p, len, TS_KEYS, &ts))
		return; /* welcome envelopes, stats pushes… */
	h_add(H_READ, recv_now_ns - ts);
	if (recv_arrival_ns)
		h_add(H_ARRIVAL, recv_arrival_ns - ts);
	if (find_int(p, len, SEQ_KEYS, &seq))
		msg_track(seq, recv_now_ns - ts, ts);
	received++;
	double t = now_s();
	if (!first_delivery)
		first_delivery = t;
	last_delivery = t;
}

/* Parses as many complete frames as buf holds; returns bytes consumed, or -1 on error. */
static long parse_frames(sub *s, char *buf, size_t len)
{
	size_t off = 0;
	while (len - off >= 2 && s->state == S_OPEN) {
		uint8_t b0 = (uint8_t)buf[off], b1 = (uint8_t)buf[off + 1];
		bool fin = b0 & 0x80, masked = b1 & 0x80;
		int op = b0 & 0x0f;
		uint64_t pl = b1 & 0x7f;
		size_t h = 2;
		if (pl == 126) {
			if (len - off < 4)
				break;
			pl = ((uint64_t)(uint8_t)buf[off + 2] << 8) | (uint8_t)buf[off + 3];
			h = 4;
		} else if (pl == 127) {
			if (len - off < 10)
				break;
			pl = 0;
			for (int i = 0; i < 8; i++)
				pl = (pl << 8) | (uint8_t)buf[off + 2 + i];
			h = 10;
		}
		if (pl > MAX_FRAME)
			return -1;
		if (masked)
			h += 4;
		if (len - off < h + pl)
			break;
		char *pay = buf + off + h;
		if (masked) {
			const uint8_t *k = (const uint8_t *)buf + off + h - 4;
			for (uint64_t i = 0; i < pl; i++)
				pay[i] ^= (char)k[i & 3];
		}
		switch (op) {
		case 0x1:
		case 0x2:
			if (fin) {
				if (op == 0x1)
					on_message(s, pay, pl);
			} else {
				s->fop = (uint8_t)op;
				s->flen = 0;
				goto append;
			}
			break;
		case 0x0:
		append:
			if (s->flen + pl > MAX_FRAME)
				return -1;
			if (s->flen + pl > s->fcap) {
				s->fcap = (uint32_t)(s->flen + pl + 256);
				s->fbuf = xrealloc(s->fbuf, s->fcap);
			}
			memcpy(s->fbuf + s->flen, pay, pl);
			s->flen += (uint32_t)pl;
			if (fin && op == 0x0) {
				if (s->fop == 0x1)
					on_message(s, s->fbuf, s->flen);
				free(s->fbuf);
				s->fbuf = NULL;
				s->flen = s->fcap = 0;
			}
			break;
		case 0x8: /* close: answer it, then the socket is gone */
			ws_frame_out(s, 0x8, pay, pl >= 2 ? 2 : 0);
			return -2;
		case 0x9:
			ws_frame_out(s, 0xA, pay, pl);
			break;
		case 0xA:
			break;
		default:
			return -1;
		}
		off += h + pl;
	}
	return (long)off;
}

static void handshake_send(sub *s, long idx)
{
	char key[25], raw[16], path[1100], req[8192];
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	for (int i = 0; i < 16; i++)
		raw[i] = (char)rng();
	for (int i = 0, o = 0; i < 18; i += 3) {
		uint32_t v = (uint8_t)raw[i] << 16;
		if (i + 1 < 16)
			v |= (uint8_t)raw[i + 1] << 8;
		if (i + 2 < 16)
			v |= (uint8_t)raw[i + 2];
		key[o++] = b64[(v >> 18) & 63];
		key[o++] = b64[(v >> 12) & 63];
		key[o++] = i + 1 < 16 ? b64[(v >> 6) & 63] : '=';
		key[o++] = i + 2 < 16 ? b64[v & 63] : '=';
	}
	key[24] = 0;
	/* {uuid} in the path becomes a per-connection id (the jPulse client sends ?uuid=). */
	const char *u = strstr(opt.sub_path, "{uuid}");
	if (u) {
		uint64_t a = rng(), b = rng();
		snprintf(path, sizeof path, "%.*s%08x-%04x-4%03x-a%03x-%012llx%s", (int)(u - opt.sub_path),
		         opt.sub_path, (unsigned)(a >> 32), (unsigned)(a >> 16) & 0xffff,
		         (unsigned)a & 0xfff, (unsigned)(b >> 52) & 0xfff,
		         (unsigned long long)(b & 0xffffffffffffull) ^ (unsigned long long)idx, u + 6);
	} else {
		snprintf(path, sizeof path, "%s", opt.sub_path);
	}
	int n = snprintf(req, sizeof req,
	                 "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	                 "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n",
	                 path, opt.sub_host, opt.sub_port, key, opt.sub_hdrs);
	sub_write(s, req, (size_t)n);
}

static void sub_connect(long idx)
{
	sub *s = &subs[idx];
	s->t0 = now_s();
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		s->state = S_CONNECTING;
		connecting++;
		fail_conn(s, errno);
		return;
	}
	int one = 1;
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(s->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
	if (!opt.sub_tls)
		setsockopt(s->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
	struct sockaddr_in src = { .sin_family = AF_INET };
	src.sin_addr.s_addr = htonl(opt.src_base + (unsigned)(idx % opt.src_count));
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons((uint16_t)opt.sub_port) };
	inet_pton(AF_INET, opt.sub_host, &dst.sin_addr);
	s->state = S_CONNECTING;
	connecting++;
	if (bind(s->fd, (struct sockaddr *)&src, sizeof src) < 0) {
		fail_conn(s, errno);
		return;
	}
	struct epoll_event e = { .events = EPOLLOUT, .data.u64 = (uint64_t)idx };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &e) < 0) {
		fail_conn(s, errno);
		return;
	}
	if (connect(s->fd, (struct sockaddr *)&dst, sizeof dst) < 0 && errno != EINPROGRESS)
		fail_conn(s, errno);
}

/* The TLS handshake, driven by socket events; then the HTTP upgrade. */
static void tls_step(sub *s, long idx)
{
	ERR_clear_error();
	int n = SSL_connect(s->ssl);
	if (n == 1) {
		s->state = S_HANDSHAKE;
		sub_set_events(s, EPOLLIN);
		handshake_send(s, idx);
		return;
	}
	int e = SSL_get_error(s->ssl, n);
	if (e == SSL_ERROR_WANT_READ)
		sub_set_events(s, EPOLLIN);
	else if (e == SSL_ERROR_WANT_WRITE)
		sub_set_events(s, EPOLLOUT);
	else
		fail_conn(s, EPROTO);
}

static void sub_event(long idx, uint32_t ev)
{
	sub *s = &subs[idx];
	if (sub_gone(s))
		return;   /* an event already fetched for a socket since closed */
	if (s->state == S_CONNECTING) {
		int err = 0;
		socklen_t el = sizeof err;
		getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err || (ev & (EPOLLERR | EPOLLHUP))) {
			fail_conn(s, err ? err : ECONNRESET);
			return;
		}
		if (opt.sub_tls) {
			s->ssl = SSL_new(tls_ctx);
			if (!s->ssl || !SSL_set_fd(s->ssl, s->fd)) {
				fail_conn(s, ENOMEM);
				return;
			}
			SSL_set_mode(s->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
			SSL_set_tlsext_host_name(s->ssl, "localhost");
			s->state = S_TLS;
			tls_step(s, idx);
			return;
		}
		s->state = S_HANDSHAKE;
		sub_set_events(s, EPOLLIN);
		handshake_send(s, idx);
		return;
	}
	if (s->state == S_TLS) {
		tls_step(s, idx);
		return;
	}
	if ((ev & EPOLLOUT) && s->wlen) {
		sub_flush(s);
		if (sub_gone(s))
			return;
	}
	if (!(ev & (EPOLLIN | EPOLLERR | EPOLLHUP)))
		return;
again:;
	size_t have = s->plen;
	if (have)
		memcpy(rbuf, s->pbuf, have);
	ssize_t r = sock_recv(s, rbuf + have, RBUF_SIZE - have);
	if (r <= 0) {
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		fail_conn(s, r < 0 ? errno : 0);
		return;
	}
	recv_now_ns = real_ns();
	size_t len = have + (size_t)r, off = 0;
	if (s->state == S_HANDSHAKE) {
		char *end = memmem(rbuf, len, "\r\n\r\n", 4);
		if (!end) {
			if (len > 16384) {
				fail_conn(s, EPROTO);
				return;
			}
			goto keep;
		}
		int status = 0;
		sscanf(rbuf, "HTTP/1.%*d %d", &status);
		if (status != 101) {
			if (!first_fail_status)
				first_fail_status = status ? status : -1;
			fail_conn(s, 0);
			return;
		}
		connecting--;
		n_open++;
		s->state = S_OPEN;
		off = (size_t)(end + 4 - rbuf);
	}
	long used = parse_frames(s, rbuf + off, len - off);
	if (used < 0) {
		if (used == -1)
			bad_frames++;
		fail_conn(s, used == -1 ? EPROTO : 0);
		return;
	}
	off += (size_t)used;
keep:
	len -= off;
	if (len > s->pcap) {
		s->pcap = (uint32_t)(len < 256 ? 256 : len);
		s->pbuf = xrealloc(s->pbuf, s->pcap);
	}
	if (len)
		memmove(s->pbuf, rbuf + off, len);
	s->plen = (uint32_t)len;
	/* TLS: OpenSSL may hold decrypted bytes the socket will not signal. */
	if (s->ssl && !sub_gone(s) && SSL_pending(s->ssl) > 0)
		goto again;
}

static void sweep_timeouts(double t)
{
	for (long i = 0; i < next_conn; i++) {
		sub *s = &subs[i];
		if ((s->state == S_CONNECTING || s->state == S_TLS || s->state == S_HANDSHAKE) &&
		    t - s->t0 > opt.conn_timeout)
			fail_conn(s, ETIMEDOUT);
	}
}

/* ---------------------------------------------------------------- message bodies */

static long seq;

/* Writes the message JSON {"t":…,"s":…,"p":"…"} padded to opt.size bytes. */
static size_t make_msg(char *out, size_t cap, const char *extra)
{
	int n = snprintf(out, cap, "{%s\"t\":%" PRId64 ",\"s\":%ld,\"p\":\"", extra, real_ns(), seq++);
	size_t pad = opt.size > n + 2 ? (size_t)opt.size - (size_t)n - 2 : 0;
	if ((size_t)n + pad + 3 > cap)
		pad = cap - (size_t)n - 3;
	memset(out + n, 'x', pad);
	n += (int)pad;
	out[n++] = '"';
	out[n++] = '}';
	out[n] = 0;
	return (size_t)n;
}

/* ---------------------------------------------------------------- publisher (HTTP/1.1) */

/* The K publishes in flight go over opt.pub_conns keep-alive connections, each
 * pipelining its share.  One connection is not K publishes in flight at the
 * server: nginx takes a connection's pipelined requests one after the other, so
 * a proxied publish API sees one at a time (issue 18). */
#define MAX_PUB_CONNS 64

typedef struct {
	int fd;
	bool connected;
	char *w;
	size_t wlen, woff, wcap;
	char *r;
	size_t rlen, rcap;
	long inflight;
	long on_conn;             /* requests sent on the current connection */
} pubconn;

static struct {
	pubconn c[MAX_PUB_CONNS];
	int nconn;
	long inflight, sent, ok, err;
	int first_err_status;
	char first_err_body[200];
	double t_start, t_done;
	long reconnects;
} pub;

static void pub_connect(pubconn *c)
{
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		die("publisher socket: %s", strerror(errno));
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons((uint16_t)opt.pub_port) };
	inet_pton(AF_INET, opt.pub_host, &dst.sin_addr);
	if (connect(c->fd, (struct sockaddr *)&dst, sizeof dst) < 0 && errno != EINPROGRESS)
		die("publisher connect %s:%d: %s", opt.pub_host, opt.pub_port, strerror(errno));
	struct epoll_event e = { .events = EPOLLIN | EPOLLOUT, .data.u64 = TAG_PUB + (uint64_t)(c - pub.c) };
	epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &e);
	c->connected = false;
	c->wlen = c->woff = c->rlen = 0;
	c->on_conn = 0;
}

/* The connection dropped: requests still unanswered on it are lost, count them as errors. */
static void pub_lost(pubconn *c, const char *why)
{
	fprintf(stderr, "loadgen: publish connection lost (%s), %ld unanswered\n", why, c->inflight);
	pub.err += c->inflight;
	pub.inflight -= c->inflight;
	c->inflight = 0;
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	pub.reconnects++;
	if (pub.reconnects > 100 * pub.nconn)
		die("publisher keeps losing its connections");
}

static void pub_flush(pubconn *c)
{
	while (c->woff < c->wlen) {
		ssize_t w = send(c->fd, c->w + c->woff, c->wlen - c->woff, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			pub_lost(c, strerror(errno));
			return;
		}
		c->woff += (size_t)w;
	}
	if (c->woff == c->wlen)
		c->woff = c->wlen = 0;
	struct epoll_event e = { .events = EPOLLIN | (c->wlen ? EPOLLOUT : 0), .data.u64 = TAG_PUB + (uint64_t)(c - pub.c) };
	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
}

static void pub_send_one(pubconn *c)
{
	char msg[65536], body[70000];
	make_msg(msg, sizeof msg, "");
	size_t bl;
	if (opt.wrap) {
		const char *at = strstr(opt.wrap, "@MSG@");
		bl = (size_t)snprintf(body, sizeof body, "%.*s%s%s", (int)(at - opt.wrap), opt.wrap, msg, at + 5);
	} else {
		bl = (size_t)snprintf(body, sizeof body, "%s", msg);
	}
	size_t need = c->wlen + bl + 2048 + strlen(opt.pub_hdrs);
	if (need > c->wcap) {
		c->wcap = need * 2;
		c->w = xrealloc(c->w, c->wcap);
	}
	c->wlen += (size_t)snprintf(c->w + c->wlen, c->wcap - c->wlen,
	                            "POST %s HTTP/1.1\r\nHost: %s:%d\r\n%sContent-Length: %zu\r\n\r\n%s",
	                            opt.pub_path, opt.pub_host, opt.pub_port, opt.pub_hdrs, bl, body);
	c->inflight++;
	c->on_conn++;
	pub.inflight++;
	pub.sent++;
}

/* Consumes complete responses from c->r. */
static void pub_parse(pubconn *c)
{
	size_t off = 0;
	for (;;) {
		char *base = c->r + off;
		size_t len = c->rlen - off;
		char *he = memmem(base, len, "\r\n\r\n", 4);
		if (!he)
			break;
		size_t hl = (size_t)(he + 4 - base);
		int status = 0;
		sscanf(base, "HTTP/1.%*d %d", &status);
		long clen = -1;
		bool chunked = false, close_after = false;
		for (char *line = memchr(base, '\n', hl); line && line < he; line = memchr(line + 1, '\n', (size_t)(he - line))) {
			char *l = line + 1;
			if (strncasecmp(l, "content-length:", 15) == 0)
				clen = atol(l + 15);
			else if (strncasecmp(l, "transfer-encoding:", 18) == 0 && strstr(l, "chunked") && strstr(l, "chunked") < he)
				chunked = true;
			else if (strncasecmp(l, "connection:", 11) == 0 && strncasecmp(l + 11 + strspn(l + 11, " "), "close", 5) == 0)
				close_after = true;
		}
		size_t total;
		const char *body = base + hl;
		size_t blen = 0;
		if (status == 204 || status == 304 || (status >= 100 && status < 200)) {
			total = hl;
		} else if (chunked) {
			size_t p = hl;
			bool done = false;
			for (;;) {
				char *crlf = memmem(base + p, len - p, "\r\n", 2);
				if (!crlf)
					break;
				unsigned long cs = strtoul(base + p, NULL, 16);
				size_t after = (size_t)(crlf + 2 - base);
				if (cs == 0) {
					/* no trailers expected: the final CRLF follows */
					if (len - after < 2)
						break;
					p = after + 2;
					done = true;
					break;
				}
				if (len - after < cs + 2)
					break;
				p = after + cs + 2;
			}
			if (!done)
				break;
			total = p;
			blen = total - hl;
		} else if (clen >= 0) {
			if (len < hl + (size_t)clen)
				break;
			total = hl + (size_t)clen;
			blen = (size_t)clen;
		} else {
			/* no length: body runs until close; treat as empty (publish APIs always give one) */
			total = hl;
		}
		if (status >= 100 && status < 200) {
			off += total;
			continue;
		}
		c->inflight--;
		pub.inflight--;
		if (status >= 200 && status < 300) {
			pub.ok++;
		} else {
			if (!pub.err)
				snprintf(pub.first_err_body, sizeof pub.first_err_body, "%.*s", (int)(blen < 180 ? blen : 180), body);
			if (!pub.first_err_status)
				pub.first_err_status = status;
			pub.err++;
		}
		off += total;
		if (close_after) {
			memmove(c->r, c->r + off, c->rlen - off);
			c->rlen -= off;
			pub_lost(c, "server sent Connection: close");
			return;
		}
	}
	memmove(c->r, c->r + off, c->rlen - off);
	c->rlen -= off;
}

static void pub_event(pubconn *c, uint32_t ev)
{
	if (c->fd < 0)
		return;
	if (!c->connected) {
		int err = 0;
		socklen_t el = sizeof err;
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err)
			die("publisher connect %s:%d: %s", opt.pub_host, opt.pub_port, strerror(err));
		c->connected = true;
	}
	if (ev & EPOLLOUT)
		pub_flush(c);
	if (c->fd < 0 || !(ev & (EPOLLIN | EPOLLERR | EPOLLHUP)))
		return;
	for (;;) {
		if (c->rcap - c->rlen < 65536) {
			c->rcap = c->rcap * 2 + 65536;
			c->r = xrealloc(c->r, c->rcap);
		}
		ssize_t r = recv(c->fd, c->r + c->rlen, c->rcap - c->rlen, 0);
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (r <= 0) {
			pub_parse(c);
			pub_lost(c, r == 0 ? "EOF" : strerror(errno));
			return;
		}
		c->rlen += (size_t)r;
	}
	pub_parse(c);
}

/* Sends what is due: as many as K allows, or what the rate schedule says, each on
 * the connection with the fewest unanswered. */
static void pub_tick(double t)
{
	if (pub.sent >= opt.m)
		return;
	for (int i = 0; i < pub.nconn; i++) {
		pubconn *c = &pub.c[i];
		/* A server that closes keep-alive connections after N requests (nginx's
		 * keepalive_requests) would drop what was pipelined behind the Nth: move to
		 * a fresh connection once this one has drained instead. */
		if (c->fd >= 0 && opt.pub_per_conn && c->on_conn >= opt.pub_per_conn && !c->inflight) {
			epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
			close(c->fd);
			c->fd = -1;
		}
		if (c->fd < 0)
			pub_connect(c);
	}
	bool sent_on[MAX_PUB_CONNS] = { false };
	while (pub.sent < opt.m && pub.inflight < opt.k) {
		if (opt.rate > 0 && t < pub.t_start + pub.sent / opt.rate)
			break;
		pubconn *best = NULL;
		for (int i = 0; i < pub.nconn; i++) {
			pubconn *c = &pub.c[i];
			/* Not yet connected: only its first request waits in its buffer. */
			if (!c->connected && c->on_conn > 0)
				continue;
			if (opt.pub_per_conn && c->on_conn >= opt.pub_per_conn)
				continue;
			if (!best || c->inflight < best->inflight)
				best = c;
		}
		if (!best)
			break;
		pub_send_one(best);
		sent_on[best - pub.c] = true;
	}
	for (int i = 0; i < pub.nconn; i++)
		if (sent_on[i] && pub.c[i].connected)
			pub_flush(&pub.c[i]);
}

/* ---------------------------------------------------------------- soak senders */

static long soak_senders;
static long *sender_idx;

static void soak_tick(double t, double t0)
{
	static long next_sender;
	if (!soak_senders || opt.soak_rate <= 0)
		return;
	long due = (long)((t - t0) * opt.soak_rate);
	while ((long)sent_ws < due) {
		sub *s = NULL;
		for (long tries = 0; tries < soak_senders; tries++) {
			sub *c = &subs[sender_idx[next_sender++ % soak_senders]];
			if (c->state == S_OPEN) {
				s = c;
				break;
			}
		}
		if (!s)
			return;
		char msg[65536];
		char extra[96];
		snprintf(extra, sizeof extra, "\"type\":\"cursor\",\"x\":%u,\"y\":%u,", (unsigned)(rng() % 1920), (unsigned)(rng() % 1080));
		size_t n = make_msg(msg, sizeof msg, extra);
		ws_frame_out(s, 0x1, msg, n);
		sent_ws++;
	}
}

/* ---------------------------------------------------------------- main loop */

/* Prints "key":value, or "key":null when the figure was not measured. */
static void jnum(const char *key, double v, bool ok)
{
	if (ok && isfinite(v))
		printf("\"%s\":%.4f,", key, v);
	else
		printf("\"%s\":null,", key);
}

static void on_sigint(int sig) { (void)sig; interrupted = 1; }

static bool go_received;

static void stdin_event(void)
{
	char buf[256];
	ssize_t r = read(0, buf, sizeof buf);
	if (r <= 0 || memchr(buf, '\n', (size_t)r))
		go_received = true;
	if (r <= 0)
		epoll_ctl(ep, EPOLL_CTL_DEL, 0, NULL);
}

/* Runs the loop once, waiting at most timeout_ms.
 *
 * After a wake-up that found work, the loop sleeps opt.coalesce_us before it waits again
 * (issue 18). On loopback the kernel wakes a receiver blocked in epoll_wait() from the
 * *sender's* context: a client that drains every socket faster than the server writes the
 * next one goes back to sleep after each frame, and the server then pays one cross-CPU
 * wake-up per delivery (measured: nchan 6–8 µs/delivery instead of 2.9 µs, enough to saturate
 * its one worker at 100 publishes/s to 1000 sockets, so the publish window filled and the
 * latency became K/rate = 160 ms). While this process sleeps in nanosleep() frames only
 * queue on its sockets and the server wakes nobody; the next epoll_wait() finds them all.
 * The price is at most coalesce_us added to a latency, the same for every server. */
static void loop_once(int timeout_ms)
{
	struct epoll_event evs[512];
	int n = epoll_wait(ep, evs, 512, timeout_ms);
	if (n > 0 && n < 512 && opt.coalesce_us > 0) {
		struct timespec ts = { 0, opt.coalesce_us * 1000L };
		nanosleep(&ts, NULL);
	}
	/* Open sockets first, then at most HS_PER_WAKE connects that need CPU
	 * (the TCP connect done: a ClientHello with its key share; a TLS
	 * handshake step: the server's key share and signature checked).  Each
	 * browser answers its pings on its own CPU; one process playing
	 * thousands of them must not leave a ping unanswered for seconds while
	 * it handshakes 512 others (issue 13: a busy machine's sockets were
	 * closed for "no pong within 5 s").  The epoll set is level-triggered,
	 * so a deferred connect is reported again by the next wait. */
	int hs = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < n; i++) {
			uint64_t tag = evs[i].data.u64;
			bool is_pub = tag >= TAG_PUB && tag < TAG_PUB + MAX_PUB_CONNS;
			if (is_pub || tag == TAG_STDIN) {
				if (pass == 0 && is_pub)
					pub_event(&pub.c[tag - TAG_PUB], evs[i].events);
				else if (pass == 0)
					stdin_event();
				continue;
			}
			const sub *s = &subs[(long)tag];
			bool costly = opt.sub_tls && (s->state == S_CONNECTING || s->state == S_TLS);
			if (costly != (pass == 1) || (costly && hs++ >= HS_PER_WAKE))
				continue;
			sub_event((long)tag, evs[i].events);
		}
	}
}

static void connect_phase(void)
{
	double last_sweep = now_s();
	in_connect_phase = true;
	while ((next_conn < opt.n || connecting > 0 || n_waiting > 0) && !interrupted) {
		while (next_conn < opt.n && connecting < opt.conc)
			sub_connect(next_conn++);
		if (opt.max_fail && n_failed >= opt.max_fail && next_conn < opt.n) {
			/* The server is refusing: the rest would only time out one by one. */
			fprintf(stderr, "loadgen%s%s: %ld failures, not attempting the last %ld connections\n",
			        *opt.label ? " " : "", opt.label, n_failed, opt.n - next_conn);
			n_failed += opt.n - next_conn;
			next_conn = opt.n;
		}
		loop_once(50);
		double t = now_s();
		if (t - last_sweep > 0.5) {
			sweep_timeouts(t);
			/* Retries whose backoff is over, within the same --conc. */
			for (long i = 0; i < next_conn && n_waiting > 0 && connecting < opt.conc; i++) {
				if (subs[i].state == S_RETRY && subs[i].t0 <= t) {
					n_waiting--;
					sub_connect(i);
				}
			}
			last_sweep = t;
		}
	}
	if (interrupted) {
		n_failed += n_waiting;
		n_waiting = 0;
	}
	in_connect_phase = false;
}

static void hold(double seconds)
{
	double end = now_s() + seconds;
	while (now_s() < end && !interrupted)
		loop_once(100);
}

static void usage(void)
{
	fputs(
	"usage: loadgen --sub URL [options]\n"
	"  --sub URL            ws://host:port/path of the subscribers ({uuid} → per-connection id);\n"
	"                       wss:// for TLS (certificate not verified)\n"
	"  --sub-header 'H: v'  extra handshake header (repeatable)\n"
	"  --pub URL            http://host:port/path to POST messages to\n"
	"  --pub-header 'H: v'  extra publish header, e.g. 'Authorization: Bearer T' (repeatable)\n"
	"  --wrap TEMPLATE      publish body template, @MSG@ is replaced by the message JSON\n"
	"  -n N                 subscribers (default 100)\n"
	"  -m M                 messages to publish (default 100)\n"
	"  -k K                 max unanswered publishes in flight (default 16)\n"
	"  --rate R             publish at R/s instead of as fast as K allows\n"
	"  --pub-per-conn N     at most N publishes per keep-alive connection, then reconnect\n"
	"  --pub-conns C        spread the K in flight over C keep-alive connections (default 1,\n"
	"                       at most 64): a proxy takes one connection's pipelined requests\n"
	"                       one at a time\n"
	"  --size B             message JSON size in bytes (default 100)\n"
	"  --src-count A        source addresses 127.0.0.x to spread over (default 8)\n"
	"  --src-base IP        first source address (default 127.0.0.2)\n"
	"  --conc C             concurrent connection attempts (default 256)\n"
	"  --max-fail F         stop connecting after F failures, count the rest as failed\n"
	"  --retry R            retry a failed connection attempt (refused, reset, timed out, not\n"
	"                       answered 101) up to R times, after min(5 s x attempt, 30 s) +-20 %\n"
	"                       like jPulse.ws; counted as \"retried\", only the last failure as failed\n"
	"  --server-pid P[,P]   server processes to read CPU and RSS of\n"
	"  --settle S           seconds to wait after connecting before reading RSS (default 1)\n"
	"  --quiet S            end the wait after S s without deliveries (default 5)\n"
	"  --timeout S          hard cap on the measured phase (default 600)\n"
	"  --idle S             idle mode: hold the connections S seconds, no publishing\n"
	"  --soak S             soak mode: S seconds of client traffic through the WebSockets\n"
	"  --soak-frac F        fraction of clients that send (default 0.1)\n"
	"  --soak-rate R        aggregate messages/s over all sending clients (default 20)\n"
	"  --soak-warmup S      RSS reference point after S s of soak (default min(60, S/5))\n"
	"  --no-publish         subscribe only; expect M messages per subscriber\n"
	"  --wait-go            print READY after connecting, wait for a stdin line to go on\n"
	"  --hist               include the latency histogram in the JSON\n"
	"  --label STR          label echoed in the output\n"
	"  --coalesce-us U      sleep U µs after a wake-up that found work, so the server does not\n"
	"                       pay one wake-up of this process per frame (default 200, 0: off)\n", stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	enum { O_SUB = 256, O_SUBH, O_PUB, O_PUBH, O_WRAP, O_RATE, O_SIZE, O_SRCN, O_SRCB, O_CONC,
	       O_PID, O_SETTLE, O_QUIET, O_TIMEOUT, O_IDLE, O_SOAK, O_SFRAC, O_SRATE, O_SWARM,
	       O_NOPUB, O_GO, O_HIST, O_LABEL, O_PPC, O_MAXF, O_COAL, O_RETRY, O_PCONNS };
	static const struct option lo[] = {
		{ "sub", 1, 0, O_SUB }, { "sub-header", 1, 0, O_SUBH }, { "pub", 1, 0, O_PUB },
		{ "pub-header", 1, 0, O_PUBH }, { "wrap", 1, 0, O_WRAP }, { "rate", 1, 0, O_RATE },
		{ "size", 1, 0, O_SIZE }, { "src-count", 1, 0, O_SRCN }, { "src-base", 1, 0, O_SRCB },
		{ "conc", 1, 0, O_CONC }, { "server-pid", 1, 0, O_PID }, { "settle", 1, 0, O_SETTLE },
		{ "quiet", 1, 0, O_QUIET }, { "timeout", 1, 0, O_TIMEOUT }, { "idle", 1, 0, O_IDLE },
		{ "soak", 1, 0, O_SOAK }, { "soak-frac", 1, 0, O_SFRAC }, { "soak-rate", 1, 0, O_SRATE },
		{ "soak-warmup", 1, 0, O_SWARM }, { "no-publish", 0, 0, O_NOPUB },
		{ "wait-go", 0, 0, O_GO }, { "hist", 0, 0, O_HIST }, { "label", 1, 0, O_LABEL }, { "pub-per-conn", 1, 0, O_PPC }, { "max-fail", 1, 0, O_MAXF },
		{ "coalesce-us", 1, 0, O_COAL }, { "retry", 1, 0, O_RETRY }, { "pub-conns", 1, 0, O_PCONNS },
		{ "help", 0, 0, 'h' }, { 0, 0, 0, 0 }
	};
	bool have_sub = false, have_pub = false;
	struct in_addr base;
	inet_pton(AF_INET, "127.0.0.2", &base);
	opt.src_base = ntohl(base.s_addr);
	int c;
	while ((c = getopt_long(argc, argv, "n:m:k:h", lo, NULL)) != -1) {
		switch (c) {
		case 'n': opt.n = atol(optarg); break;
		case 'm': opt.m = atol(optarg); break;
		case 'k': opt.k = atol(optarg); break;
		case O_SUB:
			parse_url(optarg, opt.sub_host, sizeof opt.sub_host, &opt.sub_port, opt.sub_path, sizeof opt.sub_path);
			opt.sub_tls = strncmp(optarg, "wss://", 6) == 0;
			have_sub = true;
			break;
		case O_SUBH: add_header(opt.sub_hdrs, sizeof opt.sub_hdrs, optarg); break;
		case O_PUB:
			parse_url(optarg, opt.pub_host, sizeof opt.pub_host, &opt.pub_port, opt.pub_path, sizeof opt.pub_path);
			have_pub = true;
			break;
		case O_PUBH: add_header(opt.pub_hdrs, sizeof opt.pub_hdrs, optarg); break;
		case O_WRAP:
			opt.wrap = optarg;
			if (!strstr(optarg, "@MSG@"))
				die("--wrap needs @MSG@");
			break;
		case O_RATE: opt.rate = atof(optarg); break;
		case O_SIZE: opt.size = atoi(optarg); break;
		case O_SRCN: opt.src_count = atoi(optarg); break;
		case O_SRCB:
			if (inet_pton(AF_INET, optarg, &base) != 1)
				die("bad --src-base %s", optarg);
			opt.src_base = ntohl(base.s_addr);
			break;
		case O_CONC: opt.conc = atoi(optarg); break;
		case O_PID:
			for (char *tok = strtok(optarg, ","); tok && opt.npids < 64; tok = strtok(NULL, ","))
				opt.pids[opt.npids++] = atoi(tok);
			break;
		case O_SETTLE: opt.settle = atof(optarg); break;
		case O_QUIET: opt.quiet = atof(optarg); break;
		case O_TIMEOUT: opt.timeout = atof(optarg); break;
		case O_IDLE: opt.idle = atof(optarg); break;
		case O_SOAK: opt.soak = atof(optarg); break;
		case O_SFRAC: opt.soak_frac = atof(optarg); break;
		case O_SRATE: opt.soak_rate = atof(optarg); break;
		case O_SWARM: opt.soak_warmup = atof(optarg); break;
		case O_NOPUB: opt.no_publish = true; break;
		case O_GO: opt.wait_go = true; break;
		case O_HIST: opt.hist = true; break;
		case O_LABEL: opt.label = optarg; break;
		case O_PPC: opt.pub_per_conn = atol(optarg); break;
		case O_PCONNS:
			pub.nconn = atoi(optarg);
			if (pub.nconn < 1 || pub.nconn > MAX_PUB_CONNS)
				die("--pub-conns must be 1…%d", MAX_PUB_CONNS);
			break;
		case O_MAXF: opt.max_fail = atol(optarg); break;
		case O_RETRY:
			opt.retry = atoi(optarg);
			if (opt.retry < 0 || opt.retry > 100)
				die("--retry must be 0…100");
			break;
		case O_COAL:
			opt.coalesce_us = atol(optarg);
			if (opt.coalesce_us < 0 || opt.coalesce_us >= 1000000)
				die("--coalesce-us must be 0…999999");
			break;
		default: usage();
		}
	}
	const char *mode = opt.idle > 0 ? "idle" : opt.soak > 0 ? "soak" : "fanout";
	if (!pub.nconn)
		pub.nconn = 1;
	for (int i = 0; i < MAX_PUB_CONNS; i++)
		pub.c[i].fd = -1;
	if (!have_sub || opt.n < 0 || opt.src_count < 1 || opt.k < 1 || opt.conc < 1)
		usage();
	if (!strcmp(mode, "fanout") && !opt.no_publish && !have_pub)
		die("fan-out mode needs --pub (or --no-publish)");
	if (opt.size > 60000)
		die("--size too large");
	if (!strcmp(mode, "fanout") && opt.m > 0) {
		msg_slots = opt.m;
		msg_first_ns = calloc((size_t)msg_slots, sizeof(*msg_first_ns));
		msg_last_ns = calloc((size_t)msg_slots, sizeof(*msg_last_ns));
		msg_ts = calloc((size_t)msg_slots, sizeof(*msg_ts));
		if (!msg_first_ns || !msg_last_ns || !msg_ts)
			die("out of memory");
	}

	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if ((rlim_t)opt.n + 32 > rl.rlim_cur)
		die("%ld subscribers need more than RLIMIT_NOFILE=%lu descriptors: run several processes",
		    opt.n, (unsigned long)rl.rlim_cur);

	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_sigint);
	signal(SIGTERM, on_sigint);
	rng_state ^= (uint64_t)real_ns() ^ ((uint64_t)getpid() << 32);
	if (opt.sub_tls) {
		tls_ctx = SSL_CTX_new(TLS_client_method());
		if (!tls_ctx)
			die("cannot create an OpenSSL client context");
		SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_NONE, NULL);
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	rbuf = xrealloc(NULL, RBUF_SIZE);
	subs = calloc((size_t)opt.n + 1, sizeof *subs);
	if (!subs)
		die("out of memory");
	for (long i = 0; i < opt.n; i++)
		subs[i].fd = -1;

	/* Connect, then read the server's RSS around it. */
	proc_sample p_before = proc_read();
	double t_conn = now_s();
	connect_phase();
	double conn_secs = now_s() - t_conn;
	hold(opt.settle);
	proc_sample p_conn = proc_read();
	long opened = n_open;
	fprintf(stderr, "loadgen%s%s: %ld open, %ld failed, %ld retried in %.1fs%s%s", *opt.label ? " " : "",
	        opt.label, opened, n_failed, n_retried, conn_secs, n_failed || n_retried ? ", first error: " : "",
	        n_failed || n_retried ? (first_fail_status ? "HTTP status" : strerror(first_fail_errno)) : "");
	if ((n_failed || n_retried) && first_fail_status)
		fprintf(stderr, " %d", first_fail_status);
	fputc('\n', stderr);

	if (opt.wait_go) {
		printf("READY open=%ld failed=%ld\n", opened, n_failed);
		fflush(stdout);
		struct epoll_event e = { .events = EPOLLIN, .data.u64 = TAG_STDIN };
		epoll_ctl(ep, EPOLL_CTL_ADD, 0, &e);
		while (!go_received && !interrupted)
			loop_once(100);
	}

	/* The measured phase. */
	proc_sample p0 = proc_read();
	double t0 = now_s(), t_end = t0;
	proc_sample p_warm = { 0, 0, 0 };
	double rss_min = 0, rss_max = 0;
	if (!strcmp(mode, "idle")) {
		hold(opt.idle);
		t_end = now_s();
	} else if (!strcmp(mode, "soak")) {
		soak_senders = (long)(opt.n * opt.soak_frac + 0.5);
		if (soak_senders > opt.n)
			soak_senders = opt.n;
		sender_idx = calloc((size_t)soak_senders + 1, sizeof *sender_idx);
		for (long i = 0; i < soak_senders; i++)
			sender_idx[i] = (long)((double)i * opt.n / soak_senders);
		double warm = opt.soak_warmup >= 0 ? opt.soak_warmup : fmin(60, opt.soak / 5);
		bool warmed = false;
		double next_sample = t0;
		while (!interrupted) {
			double t = now_s();
			if (t - t0 >= opt.soak)
				break;
			soak_tick(t, t0);
			if (!warmed && t - t0 >= warm) {
				p_warm = proc_read();
				warmed = true;
			}
			if (t >= next_sample) {
				proc_sample ps = proc_read();
				if (warmed) {
					if (!rss_min || ps.rss_kib < rss_min)
						rss_min = ps.rss_kib;
					if (ps.rss_kib > rss_max)
						rss_max = ps.rss_kib;
				}
				next_sample = t + 1;
			}
			loop_once(opt.soak_rate > 0 ? (int)fmax(1, fmin(50, 1000 / opt.soak_rate)) : 50);
		}
		/* Let the last broadcasts arrive before counting. */
		double tail = now_s();
		uint64_t last = received;
		while (!interrupted && now_s() - tail < opt.quiet) {
			loop_once(100);
			if (received == last && now_s() - tail > 1)
				break;
			last = received;
		}
		t_end = now_s();
	} else {
		pub.t_start = t0;
		while (!interrupted) {
			double t = now_s();
			if (!opt.no_publish)
				pub_tick(t);
			bool pub_done = opt.no_publish || (pub.sent >= opt.m && pub.inflight == 0);
			if (pub_done && !pub.t_done)
				pub.t_done = t;
			uint64_t want = (uint64_t)(opt.no_publish ? opt.m : pub.ok) * (uint64_t)n_open;
			if (pub_done && received >= want)
				break;
			double ref = last_delivery ? last_delivery : (opt.no_publish ? 0 : pub.t_done);
			if (pub_done && ref && t - ref > opt.quiet)
				break;
			if (t - t0 > opt.timeout)
				break;
			int to = 50;
			if (opt.rate > 0 && pub.sent < opt.m) {
				double next = pub.t_start + pub.sent / opt.rate;
				to = next > t ? (int)fmin(50, ceil((next - t) * 1000)) : 0;
			}
			loop_once(to);
		}
		t_end = last_delivery ? last_delivery : now_s();
	}
	proc_sample p1 = proc_read();
	shutting_down = true;

	/* Report. */
	uint64_t expected = 0;
	if (!strcmp(mode, "fanout"))
		expected = (uint64_t)(opt.no_publish ? opt.m : pub.ok) * (uint64_t)opened;
	else if (!strcmp(mode, "soak"))
		expected = sent_ws * (uint64_t)opened;
	double span = (last_delivery && first_delivery) ? last_delivery - t0 : t_end - t0;
	double dps = span > 0 ? received / span : 0;
	double cpu = p1.cpu_s - p0.cpu_s;
	double cpu_per = received ? cpu / (double)received * 1e6 : NAN;
	double kib_conn = opened ? (double)(p_conn.rss_kib - p_before.rss_kib) / opened : NAN;
	double p50 = h_pct(H_READ, 0.50), p99 = h_pct(H_READ, 0.99), mx = received ? lat_max_us[H_READ] / 1000.0 : NAN;
	bool arr = h_total(H_ARRIVAL) > 0;
	double a50 = h_pct(H_ARRIVAL, 0.50), a99 = h_pct(H_ARRIVAL, 0.99), amx = lat_max_us[H_ARRIVAL] / 1000.0;
	double drift = (p_warm.rss_kib > 0) ? 100.0 * (p1.rss_kib - p_warm.rss_kib) / p_warm.rss_kib : NAN;
	double first_ms = NAN, last_ms = NAN;
	if (msg_slots)
		msg_means(&first_ms, &last_ms);
	if (msg_slots && getenv("LOADGEN_MSG_FILE")) {
		FILE *mf = fopen(getenv("LOADGEN_MSG_FILE"), "w");
		for (long i = 0; mf && i < msg_slots; i++)
			if (msg_first_ns[i])
				fprintf(mf, "%ld %.6f %.3f %.3f\n", i, (double)msg_ts[i] / 1e9, msg_first_ns[i] / 1e6, msg_last_ns[i] / 1e6);
		if (mf)
			fclose(mf);
	}

	fprintf(stderr,
	        "loadgen%s%s [%s]: conns %ld open / %ld failed; published %ld ok / %ld err; deliveries %" PRIu64
	        " of %" PRIu64 " in %.2fs = %.0f/s; latency p50 %.2f p99 %.2f max %.2f ms; server CPU %.2fs = %.2f us/delivery; "
	        "RSS %ld -> %ld KiB (%.2f KiB/conn), end %ld KiB; disconnects %ld\n",
	        *opt.label ? " " : "", opt.label, mode, opened, n_failed, pub.ok, pub.err, received, expected, span, dps,
	        p50, p99, mx, cpu, cpu_per, p_before.rss_kib, p_conn.rss_kib, kib_conn, p1.rss_kib, n_disconnect);
	if (!isnan(first_ms))
		fprintf(stderr, "loadgen%s%s: per message, the first subscriber read it after %.2f ms, the last after %.2f ms (means)\n",
		        *opt.label ? " " : "", opt.label, first_ms, last_ms);
	if (pub.err)
		fprintf(stderr, "loadgen: first publish error: HTTP %d %s\n", pub.first_err_status, pub.first_err_body);

	printf("{\"label\":\"%s\",\"mode\":\"%s\",\"subs\":%ld,\"open\":%ld,\"failed\":%ld,\"retried\":%ld,\"connect_s\":%.3f,"
	       "\"published\":%ld,\"publish_errors\":%ld,\"publish_s\":%.3f,\"expected\":%" PRIu64 ",\"received\":%" PRIu64 ","
	       "\"sent_ws\":%" PRIu64 ",\"span_s\":%.3f,\"deliveries_per_s\":%.1f,",
	       opt.label, mode, opt.n, opened, n_failed, n_retried, conn_secs, pub.ok, pub.err,
	       pub.t_done ? pub.t_done - t0 : 0.0, expected, received, sent_ws, span, dps);
	jnum("lat_p50_ms", p50, received > 0);
	jnum("lat_p99_ms", p99, received > 0);
	jnum("lat_max_ms", mx, received > 0);
	jnum("arr_p50_ms", a50, arr);
	jnum("arr_p99_ms", a99, arr);
	jnum("arr_max_ms", amx, arr);
	jnum("lat_first_ms", first_ms, !isnan(first_ms));
	jnum("lat_last_ms", last_ms, !isnan(last_ms));
	printf("\"server_pids\":%d,\"server_cpu_s\":%.3f,", p1.alive, cpu);
	jnum("cpu_us_per_delivery", cpu_per, received > 0 && opt.npids > 0);
	printf("\"rss_before_kib\":%ld,\"rss_conn_kib\":%ld,\"rss_end_kib\":%ld,", p_before.rss_kib, p_conn.rss_kib, p1.rss_kib);
	jnum("kib_per_conn", kib_conn, opened > 0 && opt.npids > 0);
	if (!strcmp(mode, "soak")) {
		printf("\"rss_warm_kib\":%ld,\"rss_min_kib\":%.0f,\"rss_max_kib\":%.0f,", p_warm.rss_kib, rss_min, rss_max);
		jnum("rss_drift_pct", drift, p_warm.rss_kib > 0);
	}
	printf("\"disconnects\":%ld,\"bad_frames\":%" PRIu64, n_disconnect, bad_frames);
	if (opt.hist) {
		h_print(H_READ, "hist_us");
		printf(",\"lat_max_us\":%" PRIu64, lat_max_us[H_READ]);
		if (arr) {
			h_print(H_ARRIVAL, "arr_hist_us");
			printf(",\"arr_max_us\":%" PRIu64, lat_max_us[H_ARRIVAL]);
		}
	}
	printf("}\n");
	fflush(stdout);
	/* Under a runner, keep the sockets open until it has read the server's figures: the
	 * server's work of closing them must not land in the measured window. */
	if (opt.wait_go) {
		go_received = false;
		interrupted = 0;
		while (!go_received && !interrupted)
			loop_once(100);
	}
	return 0;
}
