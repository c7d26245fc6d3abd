/* lwsclient.c - the benchmarks' second load client in C (issue 18, part 3).
 *
 * It shares no code with loadgen.c: the WebSocket side is libwebsockets'
 * client (its handshake, framing and event loop), the publisher its own
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
 *   --rate R             publish at R/s (open loop, still at most K in flight)
 *   --size B             message size (default 100)
 *   --soak S --soak-frac F --soak-rate R
 *                        soak mode: for S s, F of the subscribers send messages through their
 *                        WebSocket at R/s in total; every delivery is timed the same way
 *   --server-pid P[,P]   server processes whose utime+stime is read around the measured phase
 *   --src-base A.B.C.D --src-count N   local addresses to spread the sockets over
 *   --quiet S            end when nothing arrived for S s (default 5); --timeout S (600)
 *   --threads T          accepted for wsclient.mjs's command line; one thread here
 *
 * A message is {"wsc":<µs since the epoch>,"q":<seq>,"pad":"…"}; a text frame holding "wsc"
 * followed by at most three non-digits ('":' or '\\":') and digits is a delivery, timed
 * against CLOCK_REALTIME.
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
	int pids[16], npids;
	unsigned char src[4];
} o = { .n = 100, .m = 100, .k = 16, .size = 100, .src_count = 16, .conc = 200, .soak_frac = 0.1,
	.soak_rate = 20, .quiet = 5, .timeout = 600, .src = { 127, 0, 0, 2 } };

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
static double *lat;
static size_t nlat, latcap;
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
		double *p = realloc(lat, cap * sizeof(*p));

		if (!p) {
			fprintf(stderr, "lwsclient: out of memory\n");
			exit(1);
		}
		lat = p;
		latcap = cap;
	}
	lat[nlat++] = t - st;
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
		lws_service(ctx, 0);
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
		else if (!strcmp(a, "--threads"))
			(void)NEXT();   /* wsclient.mjs's option: one thread here */
		else {
			fprintf(stderr, "lwsclient: unknown argument %s\n", a);
			return 2;
		}
#undef NEXT
	}
	if (!o.sub || (!o.soak && !o.pub) || o.n < 1 || o.k < 1 || o.src_count < 1) {
		fprintf(stderr, "lwsclient: needs --sub and --pub (or --soak)\n");
		return 2;
	}
	if (parse_url(o.sub, true, sub_host, sizeof(sub_host), &sub_port, sub_path, sizeof(sub_path), &sub_tls) < 0 ||
	    (o.pub && parse_url(o.pub, false, pub_host, sizeof(pub_host), &pub_port, pub_path, sizeof(pub_path),
				&pub_tls) < 0)) {
		fprintf(stderr, "lwsclient: --sub must be ws:// or wss://, --pub http://\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	lws_set_log_level(LLL_ERR, NULL);
	socks = calloc((size_t)o.n, sizeof(*socks));
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
	snprintf(sub_hostport, sizeof(sub_hostport), "%s:%d", sub_host, sub_port);
	lws_sul_schedule(ctx, 0, &tick_sul, tick, 5 * LWS_US_PER_MS);

	/* Subscribers, at most o.conc handshakes at a time. */
	t0c = mono_ms();
	while (nopen + nfailed < o.n && mono_ms() - t0c < o.timeout * 1000) {
		while (nstarted < o.n && npending < o.conc)
			open_one(nstarted);
		lws_service(ctx, 0);
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
			lws_service(ctx, 0);
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
			lws_service(ctx, 0);
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
	qsort(lat, nlat, sizeof(*lat), cmp_double);
#define PCT(q) (nlat ? lat[(size_t)fmin((double)nlat - 1, fmax(0, ceil((q) * (double)nlat) - 1))] / 1000 : 0)
	span = ((last_at ? last_at : now_us()) - t_start) / 1e6;
	pub_span = pub_done_at ? (pub_done_at - t_start) / 1e6 : 0;
	printf("{\"client\":\"lwsclient\",\"threads\":1,\"open\":%d,\"failed\":%d,\"connect_s\":%.3f,"
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
	printf("\"server_cpu_s\":%.3f,\"cpu_us_per_delivery\":", cpu);
	if (nlat && o.npids)
		printf("%.3f", cpu / (double)nlat * 1e6);
	else
		printf("null");
	printf(",\"disconnects\":%d}\n", disconnects);
	fflush(stdout);
	_exit(0);
}
