/* supervisor.c - see supervisor.h. */
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
#include "daemon/clock.h"
#include "daemon/listener.h"
#include "daemon/reader.h"
#include "daemon/room.h"
#include "daemon/supervisor.h"
#include "log.h"
#include "notify.h"

#define MAX_WORKERS 256
#define READY_TIMEOUT_MS 15000     /* a new worker that never says ready */
#define DRAIN_TIMEOUT_MS 5000      /* an old worker that never exits */
#define STOP_TIMEOUT_MS 10000     /* after a worker's stop_notice */

volatile int wsp_worker_restarting;

/* This process's place: a worker's slot and the ready pipe to its
 * supervisor, or (k 0) a supervisor / a daemon without workers. */
static struct {
	int k, n;                    /* slot 1..n; 0: not a worker */
	int ready_fd;                     /* a worker's pipe to report ready on, else -1 */
	int reader_fd;                    /* a worker's end of the supervisor's reader (reader.h), else -1 */
	bool notified;                    /* READY=1 sent (supervisor or single daemon) */
} self = { 0, 0, -1, -1, false };

int wsp_worker_index(void) { return self.k; }
int wsp_worker_total(void) { return self.n; }
int wsp_worker_reader_fd(void) { return self.reader_fd; }

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

/* One per worker slot, in the supervisor. */
struct slot {
	pid_t pid;
	long long started_ms;
	int quick_deaths;            /* consecutive deaths within 5 s of start */
	long long restart_at;        /* 0: not waiting for a restart */
	int rfd;                     /* first start: its ready pipe until it reports, else -1 */
	bool ready;                  /* reported ready at least once */
};

/* The supervisor's state (only the signal flags are written by a signal
 * handler). */
static struct {
	struct slot *slots;              /* [1..n] */
	int sig_pipe[2];                 /* the signal handler wakes poll() through it */
	void (*hup_fn)(void *);
	void *hup_arg;
	wsp_reader *reader;              /* the daemon's one LISTEN connection (reader.h) */
	const wsp_config *cfg;           /* main.c's, reloaded in place on SIGHUP: stop_notice
					  * at SIGTERM time, for the SIGKILL deadline */
	bool reloaded;                   /* a SIGHUP was forwarded: the file may differ from cfg */
} sup = { NULL, { -1, -1 }, NULL, NULL, NULL, NULL, false };
static volatile sig_atomic_t s_term, s_hup, s_usr2;

void wsp_workers_on_hup(void (*fn)(void *arg), void *arg)
{
	sup.hup_fn = fn;
	sup.hup_arg = arg;
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
	if (sup.sig_pipe[1] >= 0)
		(void)!write(sup.sig_pipe[1], "x", 1);
	errno = e;
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
	if (sup.reader && wsp_reader_pair(rp) < 0) {
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
		/* SIGHUP stays blocked until main.c has its handler: a SIGHUP
		 * forwarded while we start (module loading takes a second under
		 * ASan) killed us with SIG_DFL, and the replacement ran the
		 * configuration from before the SIGHUP.  Held pending now, it is
		 * a reload once we listen.  A worker forked after a SIGHUP
		 * (a crash's or a rolling restart's replacement) starts with
		 * the supervisor's first configuration: it re-reads the file. */
		sigemptyset(&none);
		sigaddset(&none, SIGHUP);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (sup.reloaded)
			raise(SIGHUP);
		/* The supervisor going away (even by SIGKILL) stops us too. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() == 1)
			_exit(0);
		close(sup.sig_pipe[0]);
		close(sup.sig_pipe[1]);
		sup.sig_pipe[0] = sup.sig_pipe[1] = -1;
		if (p[0] >= 0)
			close(p[0]);
		self.ready_fd = p[1];
		self.k = k;
		/* The supervisor's connection and the other workers' ends are
		 * not ours: closed without a word to PostgreSQL. */
		wsp_reader_forget(sup.reader);
		sup.reader = NULL;
		if (rp[0] >= 0)
			close(rp[0]);
		self.reader_fd = rp[1];
		for (int j = 1; j <= self.n; j++)
			if (sup.slots[j].rfd >= 0)
				close(sup.slots[j].rfd);
		wsp_free(sup.slots);
		sup.slots = NULL;
		return 0;
	}
	if (p[1] >= 0)
		close(p[1]);
	*rfd = p[0];
	if (rp[1] >= 0) {
		close(rp[1]);
		wsp_reader_attach(sup.reader, k, rp[0]);   /* an old worker of slot k loses its end */
	}
	wsp_info(NULL, "worker %d started (pid %d)", k, (int)pid);
	return pid;
}

static int slot_of(pid_t pid)
{
	for (int k = 1; k <= self.n; k++)
		if (sup.slots[k].pid == pid)
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
		long long now = wsp__mono_ms();

		wsp_room_leave(pid);   /* a dead worker is no room */
		if (!k)
			continue;   /* an old worker of a rolling restart */
		describe_exit(k, pid, st);
		sup.slots[k].pid = 0;
		if (sup.reader)
			wsp_reader_attach(sup.reader, k, -1);
		if (stopping)
			continue;
		sup.slots[k].quick_deaths = now - sup.slots[k].started_ms < 5000 ? sup.slots[k].quick_deaths + 1 : 0;
		{
			long long wait = 1000LL << (sup.slots[k].quick_deaths < 4 ? sup.slots[k].quick_deaths : 4);

			if (wait > 10000)
				wait = 10000;
			sup.slots[k].restart_at = now + wait;
			wsp_warn(NULL, "worker %d will be restarted in %lld ms", k, wait);
		}
	}
}

/* Sleep in poll() for at most ms (and at most 200 ms) on fd (-1: none),
 * keeping the shared reader going meanwhile: a rolling restart waits for
 * seconds in wait_ready / wait_exit, and every worker's notifications (the
 * live broadcasts of the slots not being restarted too) would wait with it.
 * True when fd is readable. */
static bool sup_wait(int fd, int ms)
{
	struct pollfd pf[2];
	int npf = 0, rdfd, nap, fdi = -1;
	short rev;

	rdfd = sup.reader ? wsp_reader_fd(sup.reader, &rev) : -1;
	if (fd >= 0) {
		fdi = npf;
		pf[npf++] = (struct pollfd){ fd, POLLIN, 0 };
	}
	if (rdfd >= 0)
		pf[npf++] = (struct pollfd){ rdfd, rev, 0 };
	nap = sup.reader ? wsp_reader_timeout_ms(sup.reader) : -1;
	if (ms > 200)
		ms = 200;
	if (nap >= 0 && nap < ms)
		ms = nap;
	(void)poll(pf, (nfds_t)npf, ms);   /* EINTR (SIGCHLD): revents stay 0 */
	if (sup.reader)
		wsp_reader_step(sup.reader);
	return fdi >= 0 && pf[fdi].revents;
}

/* Wait for a byte (ready) or EOF (the worker died) on fd. */
static bool wait_ready(int fd, int ms)
{
	long long end = wsp__mono_ms() + ms;
	char c;

	if (fd < 0)
		return false;
	while (!s_term) {
		long long left = end - wsp__mono_ms();

		if (left <= 0)
			return false;
		if (sup_wait(fd, (int)(left > 200 ? 200 : left)))
			return read(fd, &c, 1) == 1;
	}
	return false;
}

static void wait_exit(pid_t pid, int k, int ms)
{
	long long end = wsp__mono_ms() + ms;
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid) {
			describe_exit(k, pid, st);
			return;
		}
		if (r < 0)
			return;
		if (wsp__mono_ms() >= end) {
			wsp_warn(NULL, "worker %d (pid %d) did not exit in time: SIGKILL", k, (int)pid);
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return;
		}
		sup_wait(-1, 20);
	}
}

/* SIGUSR2: one slot at a time, the new worker accepts before the old one
 * drains (1012).  Returns 0 in a new child, 1 in the supervisor. */
static int rolling_restart(void)
{
	wsp_info(NULL, "rolling restart of %d workers", self.n);
	for (int k = 1; k <= self.n && !s_term; k++) {
		pid_t old = sup.slots[k].pid, pid;
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
		sup.slots[k].pid = pid;
		sup.slots[k].started_ms = wsp__mono_ms();
		sup.slots[k].restart_at = 0;
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
		int rdfd = sup.reader ? wsp_reader_fd(sup.reader, &rev) : -1, nap;

		pf[0] = (struct pollfd){ sup.sig_pipe[0], POLLIN, 0 };
		if (rdfd >= 0)
			pf[npf++] = (struct pollfd){ rdfd, rev, 0 };
		for (int k = 1; k <= self.n; k++)
			if (sup.slots[k].rfd >= 0)
				pf[npf++] = (struct pollfd){ sup.slots[k].rfd, POLLIN, 0 };
		nap = sup.reader ? wsp_reader_timeout_ms(sup.reader) : -1;
		if (poll(pf, (nfds_t)npf, nap >= 0 && nap < 200 ? nap : 200) > 0)
			while (read(sup.sig_pipe[0], buf, sizeof(buf)) > 0)
				;
		if (sup.reader)
			wsp_reader_step(sup.reader);
		/* The first start's ready pipes: a byte is ready, EOF a death. */
		for (int k = 1; k <= self.n; k++) {
			struct pollfd q = { sup.slots[k].rfd, POLLIN, 0 };

			if (sup.slots[k].rfd < 0 || poll(&q, 1, 0) <= 0)
				continue;
			sup.slots[k].ready = read(sup.slots[k].rfd, buf, 1) == 1;
			close(sup.slots[k].rfd);
			sup.slots[k].rfd = -1;
		}
		for (int k = 1; k <= self.n; k++)
			nready += sup.slots[k].ready;
		if (!self.notified && !stopping && nready == self.n) {
			self.notified = true;
			wsp_info(NULL, "all %d workers ready", self.n);
			notify("READY=1\nSTATUS=all workers ready");
		}
		reap(stopping);
		if (s_term && !stopping) {
			stopping = true;
			notify("STOPPING=1");
			stop_deadline = wsp__mono_ms() + sup.cfg->stop_notice * 1000LL + STOP_TIMEOUT_MS;
			wsp_info(NULL, "stopping %d workers", self.n);
			for (int k = 1; k <= self.n; k++)
				if (sup.slots[k].pid > 0)
					kill(sup.slots[k].pid, SIGTERM);
		}
		for (int k = 1; k <= self.n; k++)
			alive += sup.slots[k].pid > 0;
		if (stopping) {
			if (!alive)
				break;
			if (wsp__mono_ms() > stop_deadline) {
				for (int k = 1; k <= self.n; k++)
					if (sup.slots[k].pid > 0)
						kill(sup.slots[k].pid, SIGKILL);
			}
			continue;
		}
		if (s_hup) {
			s_hup = 0;
			sup.reloaded = true;
			if (sup.hup_fn)
				sup.hup_fn(sup.hup_arg);
			else
				wsp_log_reopen();
			wsp_info(NULL, "SIGHUP: log reopened, forwarded to the workers");
			for (int k = 1; k <= self.n; k++)
				if (sup.slots[k].pid > 0)
					kill(sup.slots[k].pid, SIGHUP);
		}
		if (s_usr2) {
			s_usr2 = 0;
			if (rolling_restart() == 0)
				return 0;
		}
		for (int k = 1; k <= self.n; k++) {
			if (!sup.slots[k].pid && sup.slots[k].restart_at && wsp__mono_ms() >= sup.slots[k].restart_at) {
				int rfd;
				pid_t pid = spawn(k, &rfd);

				if (pid == 0)
					return 0;
				if (sup.slots[k].rfd >= 0)
					close(sup.slots[k].rfd);
				sup.slots[k].rfd = self.notified ? -1 : rfd;   /* before READY=1 its report counts */
				if (self.notified && rfd >= 0)
					close(rfd);
				if (pid > 0) {
					sup.slots[k].pid = pid;
					sup.slots[k].started_ms = wsp__mono_ms();
					sup.slots[k].restart_at = 0;
				} else {
					sup.slots[k].restart_at = wsp__mono_ms() + 1000;
				}
			}
		}
	}
	wsp_info(NULL, "all workers stopped");
	*status = 0;
	return 1;
}

int wsp_workers_run(const wsp_config *cfg, int n, const char *const *channels, int *status,
		    wsp_error *err)
{
	struct sigaction sa;
	int rc, fd;

	self.n = n;
	sup.cfg = cfg;
	fd = wsp__listener_open(cfg->listen, err);
	if (fd < 0)
		return fd;
	wsp__listener_set(fd);
	sup.slots = wsp_calloc((size_t)n + 1, sizeof(*sup.slots));
	if (!sup.slots || pipe2(sup.sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		wsp__listener_close(cfg->listen);
		wsp_free(sup.slots);
		sup.slots = NULL;
		return wsp_error_set(err, WSP_ERR_NOMEM, "out of memory");
	}
	for (int k = 0; k <= n; k++)
		sup.slots[k].rfd = -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sup_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	for (int s = 0, sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR2, SIGCHLD }; s < 5; s++)
		sigaction(sigs[s], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	wsp_info(NULL, "supervisor pid %d: %d workers on %s", (int)getpid(), n, cfg->listen);
	/* Which workers have room, shared with them across fork() (room.h). */
	if (wsp_room_open(n) < 0)
		wsp_warn(NULL, "cannot map the workers' room table (%s): a full worker refuses connections "
			 "another could take", strerror(errno));
	/* One LISTEN connection for all the workers (reader.h). */
	sup.reader = wsp_reader_new(cfg->database, channels, n);
	if (!sup.reader)
		wsp_warn(NULL, "out of memory for the shared reader: every worker listens itself");
	for (int k = 1; k <= n; k++) {
		int rfd;
		pid_t pid = spawn(k, &rfd);

		if (pid == 0)
			return 0;
		sup.slots[k].rfd = rfd;
		sup.slots[k].pid = pid > 0 ? pid : 0;
		sup.slots[k].started_ms = wsp__mono_ms();
		if (pid < 0)
			sup.slots[k].restart_at = wsp__mono_ms() + 1000;
	}
	rc = supervise(status);
	if (rc == 0)
		return 0;   /* a worker born during a restart */
	wsp__listener_close(cfg->listen);
	close(sup.sig_pipe[0]);
	close(sup.sig_pipe[1]);
	for (int k = 1; k <= n; k++)
		if (sup.slots[k].rfd >= 0)
			close(sup.slots[k].rfd);
	wsp_free(sup.slots);
	sup.slots = NULL;
	wsp_reader_free(sup.reader);
	sup.reader = NULL;
	wsp_room_close();
	return 1;
}

/* ---- in a worker */

void wsp_worker_ready(void)
{
	if (!self.k && !self.notified) {
		self.notified = true;
		notify("READY=1\nSTATUS=listening, connected to PostgreSQL");
		return;
	}
	if (self.ready_fd >= 0) {
		(void)!write(self.ready_fd, "r", 1);
		close(self.ready_fd);
		self.ready_fd = -1;
	}
}


