/* connpool.c - see connpool.h. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "connpool.h"
#include "log.h"

/* Descriptors kept back from connections, besides one per worker thread
 * (its database connection): the group commit's database connection, the
 * log, the epoll set, the eventfd, the listening socket and spare. */
#define FD_RESERVE 256

/* One address of FCGI_WEB_SERVER_ADDRS: IPv4 (4 bytes) or IPv6 (16). */
struct peer_addr {
	int family;
	unsigned char b[16];
};

struct wsp_connpool {
	int epfd;
	int lfd;                  /* the listening socket */
	int stopfd;               /* eventfd: readable once stopping */
	atomic_int stopping;
	atomic_long open;         /* connections open (served and parked) */
	long limit;               /* most connections open at once */
	atomic_int listen_armed;  /* 0 while at the limit */
	pthread_mutex_t lock;     /* listen_armed transitions, log limits */
	wsp_log_limit refused_log, accept_log;
	struct peer_addr *allowed; /* FCGI_WEB_SERVER_ADDRS; NULL: any */
	size_t nallowed;
};

static int arm(int epfd, int op, int fd, unsigned events)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.fd = fd;
	return epoll_ctl(epfd, op, fd, &ev);
}

static void arm_listen(wsp_connpool *pool)
{
	if (arm(pool->epfd, EPOLL_CTL_MOD, pool->lfd, EPOLLIN | EPOLLONESHOT) < 0)
		wsp_err(NULL, "fcgi: cannot re-arm the listening socket: %s", strerror(errno));
}

/* A connection ended: below the limit again, the listening socket is
 * armed if it was left unarmed. */
static void closed_one(wsp_connpool *pool)
{
	long open = atomic_fetch_sub(&pool->open, 1) - 1;

	if (!atomic_load(&pool->listen_armed) && open < pool->limit) {
		pthread_mutex_lock(&pool->lock);
		if (!atomic_load(&pool->listen_armed)) {
			atomic_store(&pool->listen_armed, 1);
			arm_listen(pool);
		}
		pthread_mutex_unlock(&pool->lock);
	}
}

/* FCGI_WEB_SERVER_ADDRS: a list of IPv4 and IPv6 addresses separated by
 * commas and/or blanks (libfcgi takes IPv4 only and lets every other peer
 * in). */
#define ALLOWED_SEPS ", \t"
static int parse_allowed(wsp_connpool *pool, const char *list, wsp_error *err)
{
	char *copy = strdup(list), *save = NULL, *tok;
	size_t n = 1;

	if (!copy)
		return wsp_error_set(err, WSP_ERR_NOMEM, "out of memory");
	/* At most one address more than separators (strtok_r's, below). */
	for (const char *p = list; *p; p++)
		n += strchr(ALLOWED_SEPS, *p) != NULL;
	pool->allowed = calloc(n, sizeof(*pool->allowed));
	if (!pool->allowed) {
		free(copy);
		return wsp_error_set(err, WSP_ERR_NOMEM, "out of memory");
	}
	for (tok = strtok_r(copy, ALLOWED_SEPS, &save); tok; tok = strtok_r(NULL, ALLOWED_SEPS, &save)) {
		struct peer_addr *a = &pool->allowed[pool->nallowed];

		if (inet_pton(AF_INET, tok, a->b) == 1) {
			a->family = AF_INET;
		} else if (inet_pton(AF_INET6, tok, a->b) == 1) {
			a->family = AF_INET6;
			if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)a->b)) {
				/* Written ::ffff:a.b.c.d: the IPv4 address, as
				 * such a peer is checked (peer_of). */
				memmove(a->b, a->b + 12, 4);
				a->family = AF_INET;
			}
		} else {
			wsp_error_set(err, WSP_ERR_INVALID, "FCGI_WEB_SERVER_ADDRS: '%s' is not an IPv4 or IPv6 address", tok);
			free(copy);
			return -1;
		}
		pool->nallowed++;
	}
	free(copy);
	return 0;
}

/* The peer's address as FCGI_WEB_SERVER_ADDRS lists it: an IPv4 peer of
 * a dual-stack socket (::ffff:a.b.c.d) as IPv4; family 0 for a unix
 * socket. */
static void peer_of(const struct sockaddr_storage *sa, struct peer_addr *out)
{
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

	memset(out, 0, sizeof(*out));
	if (sa->ss_family == AF_INET) {
		out->family = AF_INET;
		memcpy(out->b, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return;
	}
	if (sa->ss_family != AF_INET6)
		return;
	if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
		out->family = AF_INET;
		memcpy(out->b, in6->sin6_addr.s6_addr + 12, 4);
	} else {
		out->family = AF_INET6;
		memcpy(out->b, in6->sin6_addr.s6_addr, 16);
	}
}

/* Whether a peer may talk FastCGI to us: any when no list is set, a unix
 * socket's always (as libfcgi), an IPv4 or IPv6 one when listed. */
static bool peer_allowed(const wsp_connpool *pool, const struct peer_addr *peer)
{
	if (!pool->allowed || !peer->family)
		return true;
	for (size_t i = 0; i < pool->nallowed; i++)
		if (pool->allowed[i].family == peer->family &&
		    memcmp(pool->allowed[i].b, peer->b, peer->family == AF_INET ? 4 : 16) == 0)
			return true;
	return false;
}

wsp_connpool *wsp_connpool_new(int listen_fd, long threads, wsp_error *err)
{
	wsp_connpool *pool = calloc(1, sizeof(*pool));
	const char *addrs = getenv("FCGI_WEB_SERVER_ADDRS");
	struct rlimit rl;
	long reserve = FD_RESERVE + (threads > 0 ? threads : 0);
	int fl;

	if (!pool) {
		wsp_error_set(err, WSP_ERR_NOMEM, "out of memory");
		return NULL;
	}
	pool->epfd = pool->stopfd = -1;
	pool->lfd = listen_fd;
	pthread_mutex_init(&pool->lock, NULL);
	if (addrs && *addrs && parse_allowed(pool, addrs, err) < 0)
		goto fail;
	pool->limit = 1024;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		pool->limit = (long)rl.rlim_cur > 2 * reserve ? (long)rl.rlim_cur - reserve : (long)rl.rlim_cur / 2;
	fl = fcntl(listen_fd, F_GETFL);
	if (fl < 0 || fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		wsp_error_set(err, WSP_ERR_IO, "the FastCGI socket: %s", strerror(errno));
		goto fail;
	}
	pool->epfd = epoll_create1(EPOLL_CLOEXEC);
	pool->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (pool->epfd < 0 || pool->stopfd < 0 ||
	    arm(pool->epfd, EPOLL_CTL_ADD, pool->stopfd, EPOLLIN) < 0 ||
	    arm(pool->epfd, EPOLL_CTL_ADD, listen_fd, EPOLLIN | EPOLLONESHOT) < 0) {
		wsp_error_set(err, WSP_ERR_IO, "epoll: %s", strerror(errno));
		goto fail;
	}
	atomic_store(&pool->listen_armed, 1);
	return pool;
fail:
	wsp_connpool_free(pool);
	return NULL;
}

void wsp_connpool_free(wsp_connpool *pool)
{
	if (!pool)
		return;
	/* Connections still parked are closed with the process; the epoll set
	 * does not say which they are, and the process is ending. */
	if (pool->epfd >= 0)
		close(pool->epfd);
	if (pool->stopfd >= 0)
		close(pool->stopfd);
	pthread_mutex_destroy(&pool->lock);
	free(pool->allowed);
	free(pool);
}

void wsp_connpool_init_request(FCGX_Request *rq)
{
	/* No listening socket: libfcgi never accepts on its own (connpool.h). */
	FCGX_InitRequest(rq, -1, 0);
}

/* Back into the set until its next bytes arrive. */
static void park(wsp_connpool *pool, int fd)
{
	const unsigned events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;

	if (arm(pool->epfd, EPOLL_CTL_MOD, fd, events) == 0)
		return;
	if (errno == ENOENT && arm(pool->epfd, EPOLL_CTL_ADD, fd, events) == 0)
		return;
	wsp_err(NULL, "fcgi: cannot watch a connection: %s; closing it", strerror(errno));
	close(fd);
	closed_one(pool);
}

/* Accepts one connection.  Returns it when its first bytes are there (to
 * be served at once), parks it and returns -1 otherwise. */
static int accept_one(wsp_connpool *pool)
{
	struct sockaddr_storage sa;
	struct peer_addr peer;
	socklen_t len = sizeof(sa);
	int fd = accept4(pool->lfd, (struct sockaddr *)&sa, &len, SOCK_CLOEXEC);
	int saved = errno;
	char c;

	if (fd < 0) {
		int full = saved == EMFILE || saved == ENFILE || saved == ENOBUFS || saved == ENOMEM;

		if (full) {
			pthread_mutex_lock(&pool->lock);
			if (wsp_log_limit_ok(&pool->accept_log, 1, WSP_LOG_WARN, "failed accepts"))
				wsp_warn(NULL, "fcgi: cannot accept a connection: %s", strerror(saved));
			pthread_mutex_unlock(&pool->lock);
			/* Out of descriptors: let a request or two finish first. */
			nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
		}
		arm_listen(pool);
		return -1;
	}
	atomic_fetch_add(&pool->open, 1);
	/* Let another thread take the next connection while this one is served;
	 * at the limit, the listening socket waits for a connection to end.
	 * The flag goes down BEFORE `open` is read: a closed_one() whose
	 * decrement this read misses then sees the flag down and arms the
	 * socket itself (both are sequentially consistent).  Read first, a
	 * decrement and its flag check could both fall between the read and
	 * the store, and the socket would stay unarmed below the limit. */
	pthread_mutex_lock(&pool->lock);
	atomic_store(&pool->listen_armed, 0);
	if (atomic_load(&pool->open) < pool->limit) {
		atomic_store(&pool->listen_armed, 1);
		arm_listen(pool);
	}
	pthread_mutex_unlock(&pool->lock);
	peer_of(&sa, &peer);
	if (!peer_allowed(pool, &peer)) {
		char addr[INET6_ADDRSTRLEN] = "?";

		inet_ntop(peer.family, peer.b, addr, sizeof(addr));
		pthread_mutex_lock(&pool->lock);
		if (wsp_log_limit_ok(&pool->refused_log, 1, WSP_LOG_WARN, "refused connections"))
			wsp_warn(NULL, "fcgi: connection from %s refused: not in FCGI_WEB_SERVER_ADDRS", addr);
		pthread_mutex_unlock(&pool->lock);
		close(fd);
		closed_one(pool);
		return -1;
	}
	if (sa.ss_family == AF_INET || sa.ss_family == AF_INET6) {
		int one = 1;

		/* Answers go out as they are written (as libfcgi does). */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	if (recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		park(pool, fd);
		return -1;
	}
	return fd;   /* bytes, end of file or an error: libfcgi reads it */
}

int wsp_connpool_next(wsp_connpool *pool)
{
	struct epoll_event ev;

	for (;;) {
		if (atomic_load(&pool->stopping))
			return -1;
		int n = epoll_wait(pool->epfd, &ev, 1, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			wsp_err(NULL, "fcgi: epoll_wait: %s", strerror(errno));
			return -1;
		}
		if (n == 0)
			continue;
		if (ev.data.fd == pool->stopfd)
			return -1;
		if (ev.data.fd == pool->lfd) {
			int fd = accept_one(pool);

			if (fd >= 0)
				return fd;
			continue;
		}
		return ev.data.fd;
	}
}

int wsp_connpool_accept(wsp_connpool *pool, FCGX_Request *rq, int fd)
{
	rq->ipcFd = fd;
	rq->keepConnection = 1;   /* FCGX_Accept_r's opening finish keeps fd */
	if (FCGX_Accept_r(rq) == 0)
		return 0;
	/* libfcgi closed fd and failed to accept on listen_sock -1. */
	rq->ipcFd = -1;
	closed_one(pool);
	return -1;
}

void wsp_connpool_finish(wsp_connpool *pool, FCGX_Request *rq)
{
	FCGX_Finish_r(rq);
	if (rq->ipcFd >= 0) {
		int fd = rq->ipcFd;

		rq->ipcFd = -1;
		park(pool, fd);
		return;
	}
	closed_one(pool);
}

void wsp_connpool_stop(wsp_connpool *pool)
{
	uint64_t one = 1;
	ssize_t w;

	atomic_store(&pool->stopping, 1);
	w = write(pool->stopfd, &one, sizeof(one));
	(void)w;
}

long wsp_connpool_open(wsp_connpool *pool)
{
	return atomic_load(&pool->open);
}
