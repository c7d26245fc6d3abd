/* workers.c - see workers.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "daemon/reader.h"
#include "daemon/tls.h"
#include "daemon/workers.h"
#include "log.h"
#include "notify.h"

#define MAX_WORKERS 256
#define READY_TIMEOUT_MS 15000     /* a new worker that never says ready */
#define DRAIN_TIMEOUT_MS 5000      /* an old worker that never exits */
#define STOP_TIMEOUT_MS 10000     /* after a worker's stop_notice */
static long long notice_ms;        /* cfg->stop_notice, for the SIGKILL deadline */

volatile int wsp_worker_restarting;

static int worker_k, worker_n;
static int listen_fd = -1;
static int ready_fd = -1;
static int reader_fd = -1;         /* a worker's end of the supervisor's reader (reader.h) */
static struct lws *accept_wsi;

int wsp_worker_index(void) { return worker_k; }
int wsp_worker_total(void) { return worker_n; }
int wsp_worker_listen_fd(void) { return listen_fd; }
int wsp_worker_reader_fd(void) { return reader_fd; }

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int wsp_workers_count(const wsp_config *cfg, wsp_error *err)
{
	const char *w = cfg->workers && *cfg->workers ? cfg->workers : "1";
	char *end;
	long n;

	if (strcmp(w, "auto") == 0) {
		n = sysconf(_SC_NPROCESSORS_ONLN);
		return n < 1 ? 1 : n > MAX_WORKERS ? MAX_WORKERS : (int)n;
	}
	errno = 0;
	n = strtol(w, &end, 10);
	if (errno || *end || n < 1 || n > MAX_WORKERS)
		return wsp_error_set(err, WSP_ERR_INVALID, "workers must be 1..%d or auto, not '%s'",
				     MAX_WORKERS, w);
	return (int)n;
}

/* ---- the supervisor */

struct slot {
	pid_t pid;
	long long started_ms;
	int quick_deaths;            /* consecutive deaths within 5 s of start */
	long long restart_at;        /* 0: not waiting for a restart */
	int rfd;                     /* first start: its ready pipe until it reports, else -1 */
	bool ready;                  /* reported ready at least once */
};

static struct slot *slots;
static wsp_reader *reader;         /* the daemon's one LISTEN connection (reader.h) */
static volatile sig_atomic_t s_term, s_hup, s_usr2;
static int sig_pipe[2] = { -1, -1 };
static void (*hup_fn)(void *);
static void *hup_arg;
static bool notified;              /* READY=1 sent (supervisor or single daemon) */

void wsp_workers_on_hup(void (*fn)(void *arg), void *arg)
{
	hup_fn = fn;
	hup_arg = arg;
}

static void notify(const char *state)
{
	wsp_error err;

	wsp_error_init(&err);
	if (wsp_notify(state, &err) < 0)
		wsp_warn(NULL, "cannot notify systemd: %s", err.text);
}

static void sup_signal(int sig)
{
	int e = errno;

	if (sig == SIGHUP)
		s_hup = 1;
	else if (sig == SIGUSR2)
		s_usr2 = 1;
	else if (sig != SIGCHLD)
		s_term = 1;
	if (sig_pipe[1] >= 0)
		(void)!write(sig_pipe[1], "x", 1);
	errno = e;
}

static int open_listener(const char *listen_addr, wsp_error *err)
{
	int fd, one = 1;

	if (strncmp(listen_addr, "unix:", 5) == 0) {
		struct sockaddr_un sun;
		const char *p = listen_addr + 5;

		if (strlen(p) >= sizeof(sun.sun_path))
			return wsp_error_set(err, WSP_ERR_INVALID, "unix socket path too long: %s", p);
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		memcpy(sun.sun_path, p, strlen(p) + 1);
		unlink(p);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
		    listen(fd, SOMAXCONN) < 0) {
			if (fd >= 0)
				close(fd);
			return wsp_error_set(err, WSP_ERR_IO, "cannot listen on %s: %s", listen_addr,
					     strerror(errno));
		}
	} else {
		char host[256], *colon, port[16];
		struct addrinfo hints, *ai = NULL;
		int rc;

		snprintf(host, sizeof(host), "%s", listen_addr);
		colon = strrchr(host, ':');
		if (!colon || atoi(colon + 1) <= 0 || atoi(colon + 1) > 65535)
			return wsp_error_set(err, WSP_ERR_INVALID,
					     "listen must be HOST:PORT or unix:PATH, not '%s'", listen_addr);
		*colon = '\0';
		snprintf(port, sizeof(port), "%s", colon + 1);
		if (host[0] == '[' && colon > host + 1 && colon[-1] == ']') {
			memmove(host, host + 1, strlen(host));
			host[strlen(host) - 1] = '\0';
		}
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_PASSIVE;
		rc = getaddrinfo(*host ? host : NULL, port, &hints, &ai);
		if (rc != 0)
			return wsp_error_set(err, WSP_ERR_INVALID, "listen %s: %s", listen_addr, gai_strerror(rc));
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, SOMAXCONN) < 0) {
			int e = errno;

			if (fd >= 0)
				close(fd);
			freeaddrinfo(ai);
			return wsp_error_set(err, WSP_ERR_IO, "cannot listen on %s: %s", listen_addr, strerror(e));
		}
		freeaddrinfo(ai);
	}
	/* Non-blocking: the workers race for each connection. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

/* Fork the worker for slot k.  Returns its pid in the supervisor, 0 in the
 * child (which then returns all the way out to main), -1 on error.  *rfd
 * gets the read end of its ready pipe (or -1). */
static pid_t spawn(int k, int *rfd)
{
	int p[2], rp[2] = { -1, -1 };
	pid_t pid;

	*rfd = -1;
	if (pipe2(p, O_CLOEXEC) < 0)
		p[0] = p[1] = -1;
	/* Its end of the reader: without one (no descriptors) the worker
	 * LISTENs itself, as a daemon without workers does. */
	if (reader && wsp_reader_pair(rp) < 0) {
		wsp_warn(NULL, "worker %d: no socketpair for the shared reader (%s); it listens itself", k, strerror(errno));
		rp[0] = rp[1] = -1;
	}
	pid = fork();
	if (pid < 0) {
		wsp_err(NULL, "cannot fork worker %d: %s", k, strerror(errno));
		if (p[0] >= 0) {
			close(p[0]);
			close(p[1]);
		}
		if (rp[0] >= 0) {
			close(rp[0]);
			close(rp[1]);
		}
		return -1;
	}
	if (pid == 0) {
		struct sigaction sa;
		sigset_t none;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		sigemptyset(&sa.sa_mask);
		for (int s = 0, sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR2, SIGCHLD }; s < 5; s++)
			sigaction(sigs[s], &sa, NULL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* The supervisor going away (even by SIGKILL) stops us too. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() == 1)
			_exit(0);
		close(sig_pipe[0]);
		close(sig_pipe[1]);
		sig_pipe[0] = sig_pipe[1] = -1;
		if (p[0] >= 0)
			close(p[0]);
		ready_fd = p[1];
		worker_k = k;
		/* The supervisor's connection and the other workers' ends are
		 * not ours: closed without a word to PostgreSQL. */
		wsp_reader_forget(reader);
		reader = NULL;
		if (rp[0] >= 0)
			close(rp[0]);
		reader_fd = rp[1];
		for (int j = 1; j <= worker_n; j++)
			if (slots[j].rfd >= 0)
				close(slots[j].rfd);
		wsp_free(slots);
		slots = NULL;
		return 0;
	}
	if (p[1] >= 0)
		close(p[1]);
	*rfd = p[0];
	if (rp[1] >= 0) {
		close(rp[1]);
		wsp_reader_attach(reader, k, rp[0]);   /* an old worker of slot k loses its end */
	}
	wsp_info(NULL, "worker %d started (pid %d)", k, (int)pid);
	return pid;
}

static int slot_of(pid_t pid)
{
	for (int k = 1; k <= worker_n; k++)
		if (slots[k].pid == pid)
			return k;
	return 0;
}

static void describe_exit(int k, pid_t pid, int st)
{
	if (WIFSIGNALED(st))
		wsp_warn(NULL, "worker %d (pid %d) killed by signal %d", k, (int)pid, WTERMSIG(st));
	else if (WEXITSTATUS(st) != 0)
		wsp_warn(NULL, "worker %d (pid %d) exited with status %d", k, (int)pid, WEXITSTATUS(st));
	else
		wsp_info(NULL, "worker %d (pid %d) exited", k, (int)pid);
}

/* Reap every dead child; unexpected deaths are scheduled for a restart. */
static void reap(bool stopping)
{
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		int k = slot_of(pid);
		long long now = mono_ms();

		if (!k)
			continue;   /* an old worker of a rolling restart */
		describe_exit(k, pid, st);
		slots[k].pid = 0;
		if (reader)
			wsp_reader_attach(reader, k, -1);
		if (stopping)
			continue;
		slots[k].quick_deaths = now - slots[k].started_ms < 5000 ? slots[k].quick_deaths + 1 : 0;
		{
			long long wait = 1000LL << (slots[k].quick_deaths < 4 ? slots[k].quick_deaths : 4);

			if (wait > 10000)
				wait = 10000;
			slots[k].restart_at = now + wait;
			wsp_warn(NULL, "worker %d will be restarted in %lld ms", k, wait);
		}
	}
}

/* Wait for a byte (ready) or EOF (the worker died) on fd. */
static bool wait_ready(int fd, int ms)
{
	long long end = mono_ms() + ms;
	char c;

	if (fd < 0)
		return false;
	while (!s_term) {
		struct pollfd pf = { fd, POLLIN, 0 };
		long long left = end - mono_ms();

		if (left <= 0)
			return false;
		if (poll(&pf, 1, (int)(left > 200 ? 200 : left)) > 0)
			return read(fd, &c, 1) == 1;
	}
	return false;
}

static void wait_exit(pid_t pid, int k, int ms)
{
	long long end = mono_ms() + ms;
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid) {
			describe_exit(k, pid, st);
			return;
		}
		if (r < 0)
			return;
		if (mono_ms() >= end) {
			wsp_warn(NULL, "worker %d (pid %d) did not exit in time: SIGKILL", k, (int)pid);
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return;
		}
		usleep(20000);
	}
}

/* SIGUSR2: one slot at a time, the new worker accepts before the old one
 * drains (1012).  Returns 0 in a new child, 1 in the supervisor. */
static int rolling_restart(void)
{
	wsp_info(NULL, "rolling restart of %d workers", worker_n);
	for (int k = 1; k <= worker_n && !s_term; k++) {
		pid_t old = slots[k].pid, pid;
		int rfd;

		pid = spawn(k, &rfd);
		if (pid == 0)
			return 0;
		if (pid < 0)
			continue;
		if (!wait_ready(rfd, READY_TIMEOUT_MS))
			wsp_warn(NULL, "new worker %d (pid %d) did not report ready", k, (int)pid);
		if (rfd >= 0)
			close(rfd);
		slots[k].pid = pid;
		slots[k].started_ms = mono_ms();
		slots[k].restart_at = 0;
		if (old > 0) {
			kill(old, SIGUSR2);
			wait_exit(old, k, DRAIN_TIMEOUT_MS);
		}
	}
	wsp_info(NULL, "rolling restart done");
	return 1;
}

static int supervise(int *status)
{
	long long stop_deadline = 0;
	bool stopping = false;

	for (;;) {
		struct pollfd pf[2 + MAX_WORKERS];
		int npf = 1, nready = 0;
		char buf[64];
		int alive = 0;
		short rev;
		int rdfd = reader ? wsp_reader_fd(reader, &rev) : -1;

		pf[0] = (struct pollfd){ sig_pipe[0], POLLIN, 0 };
		if (rdfd >= 0)
			pf[npf++] = (struct pollfd){ rdfd, rev, 0 };
		for (int k = 1; k <= worker_n; k++)
			if (slots[k].rfd >= 0)
				pf[npf++] = (struct pollfd){ slots[k].rfd, POLLIN, 0 };
		int nap = reader ? wsp_reader_timeout_ms(reader) : -1;

		if (poll(pf, (nfds_t)npf, nap >= 0 && nap < 200 ? nap : 200) > 0)
			while (read(sig_pipe[0], buf, sizeof(buf)) > 0)
				;
		if (reader)
			wsp_reader_step(reader);
		/* The first start's ready pipes: a byte is ready, EOF a death. */
		for (int k = 1; k <= worker_n; k++) {
			struct pollfd q = { slots[k].rfd, POLLIN, 0 };

			if (slots[k].rfd < 0 || poll(&q, 1, 0) <= 0)
				continue;
			slots[k].ready = read(slots[k].rfd, buf, 1) == 1;
			close(slots[k].rfd);
			slots[k].rfd = -1;
		}
		for (int k = 1; k <= worker_n; k++)
			nready += slots[k].ready;
		if (!notified && !stopping && nready == worker_n) {
			notified = true;
			wsp_info(NULL, "all %d workers ready", worker_n);
			notify("READY=1\nSTATUS=all workers ready");
		}
		reap(stopping);
		if (s_term && !stopping) {
			stopping = true;
			notify("STOPPING=1");
			stop_deadline = mono_ms() + notice_ms + STOP_TIMEOUT_MS;
			wsp_info(NULL, "stopping %d workers", worker_n);
			for (int k = 1; k <= worker_n; k++)
				if (slots[k].pid > 0)
					kill(slots[k].pid, SIGTERM);
		}
		for (int k = 1; k <= worker_n; k++)
			alive += slots[k].pid > 0;
		if (stopping) {
			if (!alive)
				break;
			if (mono_ms() > stop_deadline) {
				for (int k = 1; k <= worker_n; k++)
					if (slots[k].pid > 0)
						kill(slots[k].pid, SIGKILL);
			}
			continue;
		}
		if (s_hup) {
			s_hup = 0;
			if (hup_fn)
				hup_fn(hup_arg);
			else
				wsp_log_reopen();
			wsp_info(NULL, "SIGHUP: log reopened, forwarded to the workers");
			for (int k = 1; k <= worker_n; k++)
				if (slots[k].pid > 0)
					kill(slots[k].pid, SIGHUP);
		}
		if (s_usr2) {
			s_usr2 = 0;
			if (rolling_restart() == 0)
				return 0;
		}
		for (int k = 1; k <= worker_n; k++) {
			if (!slots[k].pid && slots[k].restart_at && mono_ms() >= slots[k].restart_at) {
				int rfd;
				pid_t pid = spawn(k, &rfd);

				if (pid == 0)
					return 0;
				if (slots[k].rfd >= 0)
					close(slots[k].rfd);
				slots[k].rfd = notified ? -1 : rfd;   /* before READY=1 its report counts */
				if (notified && rfd >= 0)
					close(rfd);
				if (pid > 0) {
					slots[k].pid = pid;
					slots[k].started_ms = mono_ms();
					slots[k].restart_at = 0;
				} else {
					slots[k].restart_at = mono_ms() + 1000;
				}
			}
		}
	}
	wsp_info(NULL, "all workers stopped");
	*status = 0;
	return 1;
}

int wsp_workers_run(const wsp_config *cfg, int n, int *status, wsp_error *err)
{
	struct sigaction sa;
	int rc;

	worker_n = n;
	notice_ms = cfg->stop_notice * 1000LL;
	listen_fd = open_listener(cfg->listen, err);
	if (listen_fd < 0)
		return listen_fd;
	slots = wsp_calloc((size_t)n + 1, sizeof(*slots));
	if (!slots || pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		close(listen_fd);
		wsp_free(slots);
		return wsp_error_set(err, WSP_ERR_NOMEM, "out of memory");
	}
	for (int k = 0; k <= n; k++)
		slots[k].rfd = -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sup_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	for (int s = 0, sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR2, SIGCHLD }; s < 5; s++)
		sigaction(sigs[s], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	wsp_info(NULL, "supervisor pid %d: %d workers on %s", (int)getpid(), n, cfg->listen);
	/* One LISTEN connection for all the workers (reader.h). */
	reader = wsp_reader_new(cfg->database, wsp__relay_channels, n);
	if (!reader)
		wsp_warn(NULL, "out of memory for the shared reader: every worker listens itself");
	for (int k = 1; k <= n; k++) {
		int rfd;
		pid_t pid = spawn(k, &rfd);

		if (pid == 0)
			return 0;
		slots[k].rfd = rfd;
		slots[k].pid = pid > 0 ? pid : 0;
		slots[k].started_ms = mono_ms();
		if (pid < 0)
			slots[k].restart_at = mono_ms() + 1000;
	}
	rc = supervise(status);
	if (rc == 0)
		return 0;   /* a worker born during a restart */
	close(listen_fd);
	listen_fd = -1;
	if (strncmp(cfg->listen, "unix:", 5) == 0)
		unlink(cfg->listen + 5);
	close(sig_pipe[0]);
	close(sig_pipe[1]);
	for (int k = 1; k <= n; k++)
		if (slots[k].rfd >= 0)
			close(slots[k].rfd);
	wsp_free(slots);
	slots = NULL;
	wsp_reader_free(reader);
	reader = NULL;
	return 1;
}

/* ---- in a worker */

void wsp_worker_ready(void)
{
	if (!worker_k && !notified) {
		notified = true;
		notify("READY=1\nSTATUS=listening, connected to PostgreSQL");
		return;
	}
	if (ready_fd >= 0) {
		(void)!write(ready_fd, "r", 1);
		close(ready_fd);
		ready_fd = -1;
	}
}

int wsp_listen_open(const wsp_config *cfg, wsp_error *err)
{
	int fd = open_listener(cfg->listen, err);

	if (fd < 0)
		return fd;
	listen_fd = fd;
	return 0;
}

/* ---- accepting (a worker, or a single daemon) */

#define ACCEPT_BATCH 64
#define ACCEPT_PAUSE_MS 100
#define FD_RESERVE 64              /* descriptors kept free for the bus, logs, modules */

static const char busy_reply[] =
	"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: 73\r\n"
	"Connection: close\r\nRetry-After: 5\r\n\r\n"
	"{\"success\":false,\"error\":\"too many connections\",\"code\":503,\"username\":\"\"}";

static int fd_cap;                 /* accepted descriptors at or above it are refused */
static int spare_fd = -1;          /* closed to accept (and refuse) when at EMFILE */
static bool listen_is_tcp;
static bool accept_paused;
static lws_sorted_usec_list_t resume_sul;
static void (*on_adopt)(struct lws *wsi);
static wsp_log_limit refuse_rl;

/* Warn at most 10 times a second about refused connections; the rest are
 * counted in the next line. */
static void refuse_warn(const char *why)
{
	if (wsp_log_limit_ok(&refuse_rl, 10, WSP_LOG_WARN, "connections refused"))
		wsp_warn(NULL, "connection refused: %s", why);
}

/* Answer 503 and close: the client sees a status, not a silent reset. */
static void refuse(int fd, const char *why)
{
	(void)!write(fd, busy_reply, sizeof(busy_reply) - 1);
	close(fd);
	refuse_warn(why);
}

static void resume_accept(lws_sorted_usec_list_t *sul)
{
	(void)sul;
	accept_paused = false;
	if (accept_wsi)
		lws_rx_flow_control(accept_wsi, 1);
}

/* Out of descriptors: stop watching the listening socket for a moment
 * instead of spinning on a socket that stays readable. */
static void pause_accept(struct lws *wsi)
{
	if (accept_paused)
		return;
	accept_paused = true;
	lws_rx_flow_control(wsi, 0);
	lws_sul_schedule(lws_get_context(wsi), 0, &resume_sul, resume_accept,
			 (lws_usec_t)ACCEPT_PAUSE_MS * 1000);
}

static int accept_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		     size_t len)
{
	(void)user;
	(void)in;
	(void)len;
	switch (reason) {
	case LWS_CALLBACK_RAW_RX_FILE:
		if (wsi != accept_wsi || listen_fd < 0)
			return 0;
		/* A bounded batch per wake-up keeps one busy worker from
		 * starving its own sockets.  Workers sharing one listening
		 * socket are all woken by a new connection; taking one each
		 * per wake-up spreads connections over them (a batch let the
		 * first one awake take every pending connection). */
		for (int i = 0, batch = worker_n > 1 ? 1 : ACCEPT_BATCH; i < batch; i++) {
			int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1;
			unsigned long tls_failed;
			struct lws *nw;

			if (fd < 0) {
				int e = errno;

				if (e == EAGAIN || e == EWOULDBLOCK)
					break;
				if (e == EINTR || e == ECONNABORTED || e == EPROTO)
					continue;
				if ((e == EMFILE || e == ENFILE) && spare_fd >= 0) {
					/* Make room for one to refuse it properly. */
					close(spare_fd);
					spare_fd = -1;
					fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
					if (fd >= 0)
						refuse(fd, e == EMFILE ? "out of descriptors (EMFILE)"
									 : "system out of descriptors (ENFILE)");
					spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
				} else {
					refuse_warn(strerror(e));
				}
				pause_accept(wsi);
				break;
			}
			if (fd >= fd_cap) {
				/* The lowest free descriptor is this high: only
				 * the reserve is left. */
				refuse(fd, "at the descriptor limit");
				continue;
			}
			if (listen_is_tcp)
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			tls_failed = wsp_tls_handshake_failures();
			nw = lws_adopt_socket_vhost(lws_get_vhost(wsi), fd);
			if (!nw) {
				/* lws closed it.  A TLS handshake that failed on the
				 * bytes already there (plain HTTP on a TLS port) was
				 * logged by tls.c: not a refusal of ours. */
				if (wsp_tls_handshake_failures() == tls_failed)
					refuse_warn("libwebsockets could not adopt the connection");
				continue;
			}
			if (on_adopt)
				on_adopt(nw);
		}
		return 0;
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		if (wsi == accept_wsi)
			accept_wsi = NULL;
		return 0;
	default:
		return 0;
	}
}

const struct lws_protocols wsp_accept_protocol = { "wsp-accept", accept_cb, 0, 0, 0, NULL, 0 };

int wsp_worker_accept_start(struct lws_vhost *vh, void (*adopted)(struct lws *wsi))
{
	lws_sock_file_fd_type fd;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct rlimit rl;

	if (listen_fd < 0)
		return 0;
	on_adopt = adopted;
	listen_is_tcp = getsockname(listen_fd, (struct sockaddr *)&ss, &sl) == 0 &&
			(ss.ss_family == AF_INET || ss.ss_family == AF_INET6);
	/* lws sizes its tables from the same limit (fd_limit_per_thread 0). */
	fd_cap = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
		 rl.rlim_cur < 1000000000 ? (int)rl.rlim_cur : 1000000000;
	fd_cap = fd_cap > 2 * FD_RESERVE ? fd_cap - FD_RESERVE : fd_cap / 2;
	if (spare_fd < 0)
		spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	fd.filefd = dup(listen_fd);
	if (fd.filefd < 0)
		return WSP_ERR_IO;
	accept_wsi = lws_adopt_descriptor_vhost(vh, LWS_ADOPT_RAW_FILE_DESC, fd, "wsp-accept", NULL);
	if (!accept_wsi) {
		close(fd.filefd);
		return WSP_ERR_IO;
	}
	return 0;
}

void wsp_worker_accept_stop(void)
{
	if (accept_wsi) {
		struct lws *w = accept_wsi;

		accept_wsi = NULL;
		lws_sul_cancel(&resume_sul);
		lws_set_timeout(w, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	}
	if (listen_fd >= 0) {
		close(listen_fd);
		listen_fd = -1;
	}
	if (spare_fd >= 0) {
		close(spare_fd);
		spare_fd = -1;
	}
}
