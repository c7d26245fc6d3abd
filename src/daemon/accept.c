/* accept.c - see accept.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/accept.h"
#include "daemon/listener.h"
#include "daemon/peeraddr.h"
#include "daemon/room.h"
#include "daemon/tls.h"
#include "error.h"
#include "log.h"

#define ACCEPT_PAUSE_MS 100
#define ASIDE_MS 2                 /* a crowded worker's step aside (room.h) */
#define FD_RESERVE 64              /* descriptors kept free for the bus, logs, modules */

#define BUSY_BODY "{\"success\":false,\"error\":\"too many connections\",\"code\":503,\"username\":\"\"}"

/* The accepting side of this process: one, for the life of the loop. */
static struct acceptor {
	struct lws *wsi;             /* the adopted listening socket */
	int batch;                   /* connections per wake-up */
	bool (*admit)(int fd, char *key);   /* wsp_worker_accept_admit */
	bool (*at_capacity)(void);   /* wsp_worker_accept_capacity */
	int (*load)(void);           /* wsp_worker_accept_load */
	const char *admit_why;
	int fd_cap;                  /* accepted descriptors at or above it are refused */
	int spare_fd;                /* closed to accept (and refuse) when at EMFILE */
	bool is_tcp;
	bool paused;
	bool full;                   /* at fd_cap or at capacity: marked full in room.h */
	bool aside;                  /* paused for ASIDE_MS: crowded (room.h) */
	bool take_next;              /* back from aside with one waiting: take it */
	lws_sorted_usec_list_t resume_sul;
	lws_sorted_usec_list_t look_sul;    /* while full: room again? */
	void (*on_adopt)(struct lws *wsi, const char *key);
	wsp_log_limit refuse_rl;
	wsp_log_limit room_rl;       /* mark_full / room_again lines */
	char busy_reply[256];        /* the 503 answer, its Content-Length computed */
	size_t busy_len;
} acc = { .spare_fd = -1 };

/* Warn at most 10 times a second about refused connections; the rest are
 * counted in the next line.  peer: the address, or NULL when there is no
 * connection to name. */
static void refuse_warn(const char *why, const char *peer)
{
	if (wsp_log_limit_ok(&acc.refuse_rl, 10, WSP_LOG_WARN, "connections refused")) {
		if (peer)
			wsp_warn(NULL, "connection refused: %s (%s)", why, peer);
		else
			wsp_warn(NULL, "connection refused: %s", why);
	}
}

/* Answer 503 and close: the client sees a status, not a silent reset; the
 * log line names its address, as every refusal's does. */
static void refuse(int fd, const char *why)
{
	char peer[INET6_ADDRSTRLEN];

	if (wsp__peer_text(fd, peer, sizeof(peer), "unix") < 0)
		snprintf(peer, sizeof(peer), "unknown");
	(void)!write(fd, acc.busy_reply, acc.busy_len);
	close(fd);
	refuse_warn(why, peer);
}

/* The capacity hook says this process holds all it may. */
static bool at_capacity(void)
{
	return acc.at_capacity && acc.at_capacity();
}

/* Whether the next connection would be taken, not refused: below the
 * capacity hook's limit, and the lowest free descriptor below fd_cap. */
static bool have_room(void)
{
	int t;

	if (at_capacity())
		return false;
	t = fcntl(wsp_worker_listen_fd(), F_DUPFD_CLOEXEC, 0);
	if (t < 0)
		return false;
	close(t);
	return t < acc.fd_cap;
}

/* Not full any more: the other workers may leave connections to us again. */
static void room_again(void)
{
	acc.full = false;
	wsp_room_full(false);
	if (wsp_log_limit_ok(&acc.room_rl, 10, WSP_LOG_INFO, "full/room changes"))
		wsp_info(NULL, "room again: accepting");
}

/* A connection waits on the listening socket. */
static bool pending(void)
{
	struct pollfd p = { .fd = wsp_worker_listen_fd(), .events = POLLIN };

	return p.fd >= 0 && poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void resume_accept(lws_sorted_usec_list_t *sul)
{
	(void)sul;
	if (!acc.wsi)
		return;
	if (acc.aside) {
		/* A connection still there after ASIDE_MS: the others did not
		 * take it (busy, or stopped); this worker does. */
		acc.aside = false;
		acc.take_next = pending();
	}
	if (acc.full) {
		if (have_room()) {
			room_again();
		} else if (wsp_room_elsewhere()) {
			/* Still full, and another worker still has room. */
			lws_sul_schedule(lws_get_context(acc.wsi), 0, &acc.resume_sul, resume_accept,
					 (lws_usec_t)ACCEPT_PAUSE_MS * 1000);
			return;
		}
		/* Else every worker is full: watch again, to answer 503. */
	}
	acc.paused = false;
	lws_rx_flow_control(acc.wsi, 1);
}

/* Out of descriptors: stop watching the listening socket for a moment
 * instead of spinning on a socket that stays readable. */
static void pause_accept(struct lws *wsi)
{
	if (acc.paused)
		return;
	acc.paused = true;
	lws_rx_flow_control(wsi, 0);
	lws_sul_schedule(lws_get_context(wsi), 0, &acc.resume_sul, resume_accept,
			 (lws_usec_t)ACCEPT_PAUSE_MS * 1000);
}

/* While marked full, every ACCEPT_PAUSE_MS: a socket closed since, and the
 * next connection would be taken?  Then lift the mark, so that a full
 * sibling leaves connections to us again without waiting for us to win one
 * (watching only to refuse, we would take it, but the sibling answers 503
 * to every one it wins meanwhile).  Paused, resume_accept() does the same
 * when it runs. */
static void look_room(lws_sorted_usec_list_t *sul)
{
	(void)sul;
	if (!acc.wsi || !acc.full)
		return;
	if (!acc.paused && have_room()) {
		room_again();
		return;
	}
	lws_sul_schedule(lws_get_context(acc.wsi), 0, &acc.look_sul, look_room,
			 (lws_usec_t)ACCEPT_PAUSE_MS * 1000);
}

/* Holding clearly more connections than another worker with room: stop
 * watching the listening socket for ASIDE_MS, so that the others take what
 * arrives meanwhile. */
static void step_aside(struct lws *wsi)
{
	acc.aside = true;
	acc.paused = true;
	lws_rx_flow_control(wsi, 0);
	lws_sul_schedule(lws_get_context(wsi), 0, &acc.resume_sul, resume_accept,
			 (lws_usec_t)ASIDE_MS * 1000);
}

/* At a limit (`why`): marked full in room.h, so that no other worker
 * leaves connections to us. */
static void mark_full(const char *why)
{
	if (acc.full || !wsp_room_joined())
		return;
	acc.full = true;
	wsp_room_full(true);
	if (acc.wsi)
		lws_sul_schedule(lws_get_context(acc.wsi), 0, &acc.look_sul, look_room,
				 (lws_usec_t)ACCEPT_PAUSE_MS * 1000);
	if (wsp_log_limit_ok(&acc.room_rl, 10, WSP_LOG_INFO, "full/room changes"))
		wsp_info(NULL, "%s: new connections left to the other workers (refused while none has room)", why);
}

/* Full while another worker has room: stop taking connections, so that they
 * go to it, and look again every ACCEPT_PAUSE_MS. */
static void leave_to_others(struct lws *wsi, const char *why)
{
	mark_full(why);
	pause_accept(wsi);
}

static int accept_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		     size_t len)
{
	(void)user;
	(void)in;
	(void)len;
	switch (reason) {
	case LWS_CALLBACK_RAW_RX_FILE:
		if (wsi != acc.wsi || wsp_worker_listen_fd() < 0)
			return 0;
		if (acc.load)
			wsp_room_load(acc.load());
		/* Back from a step aside with a connection still waiting:
		 * take it.  Else, holding clearly more than another: step
		 * aside (room.h). */
		if (acc.take_next) {
			acc.take_next = false;
		} else if (!acc.full && !acc.paused && wsp_room_crowded()) {
			step_aside(wsi);
			return 0;
		}
		/* A bounded batch per wake-up keeps one busy worker from
		 * starving its own sockets (accept.h: workers take one). */
		for (int i = 0; i < acc.batch; i++) {
			int fd, one = 1;
			unsigned long tls_failed;
			char key[WSP_ACCEPT_KEY_MAX] = "";
			struct lws *nw;

			if (at_capacity()) {
				/* Taken now, it would be refused at its handshake. */
				if (wsp_room_elsewhere()) {
					leave_to_others(wsi, "at max_connections");
					break;
				}
				mark_full("at max_connections");
			}
			fd = accept4(wsp_worker_listen_fd(), NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (fd < 0) {
				int e = errno;

				if (e == EAGAIN || e == EWOULDBLOCK)
					break;
				if (e == EINTR || e == ECONNABORTED || e == EPROTO)
					continue;
				if ((e == EMFILE || e == ENFILE) && acc.spare_fd >= 0) {
					/* Make room for one to refuse it properly. */
					close(acc.spare_fd);
					acc.spare_fd = -1;
					fd = accept4(wsp_worker_listen_fd(), NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
					if (fd >= 0)
						refuse(fd, e == EMFILE ? "out of descriptors (EMFILE)"
									 : "system out of descriptors (ENFILE)");
					acc.spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
				} else {
					refuse_warn(strerror(e), NULL);
				}
				pause_accept(wsi);
				break;
			}
			if (fd >= acc.fd_cap) {
				/* The lowest free descriptor is this high: only
				 * the reserve is left.  Another worker with room:
				 * this one connection from the reserve (never its
				 * second half), the next ones left to it.  Else
				 * refused. */
				if (fd >= acc.fd_cap + FD_RESERVE / 2 || !wsp_room_elsewhere()) {
					mark_full("at the descriptor limit");
					refuse(fd, "at the descriptor limit");
					continue;
				}
				leave_to_others(wsi, "at the descriptor limit");
				i = acc.batch;   /* the last of this wake-up */
			} else if (acc.full && !at_capacity()) {
				/* Marked full, watching only to refuse (every
				 * worker was full): a socket closed since. */
				room_again();
			}
			if (acc.admit && !acc.admit(fd, key)) {
				refuse(fd, acc.admit_why);
				continue;
			}
			if (acc.is_tcp)
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			tls_failed = wsp_tls_handshake_failures();
			nw = lws_adopt_socket_vhost(lws_get_vhost(wsi), fd);
			if (!nw) {
				/* lws closed it.  A TLS handshake that failed on the
				 * bytes already there (plain HTTP on a TLS port) was
				 * logged by tls.c: not a refusal of ours. */
				if (wsp_tls_handshake_failures() == tls_failed)
					refuse_warn("libwebsockets could not adopt the connection", NULL);
				continue;
			}
			if (acc.on_adopt)
				acc.on_adopt(nw, key);
			/* The last descriptor below the limit: full now? */
			if (fd + 1 >= acc.fd_cap && !acc.full && !have_room()) {
				mark_full("at the descriptor limit");
				if (wsp_room_elsewhere()) {
					pause_accept(wsi);
					break;
				}
			}
		}
		return 0;
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
	case LWS_CALLBACK_ESTABLISHED:
		/* lws binds an upgrade to whichever of the vhost's protocols its
		 * Sec-WebSocket-Protocol names, this internal one too: refuse. */
		return -1;
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		if (wsi == acc.wsi)
			acc.wsi = NULL;
		return 0;
	default:
		return 0;
	}
}

const struct lws_protocols wsp_accept_protocol = { "wsp-accept", accept_cb, 0, 0, 0, NULL, 0 };

int wsp_worker_accept_start(struct lws_vhost *vh, int batch,
			    void (*adopted)(struct lws *wsi, const char *key))
{
	lws_sock_file_fd_type fd;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct rlimit rl;

	if (wsp_worker_listen_fd() < 0)
		return 0;
	acc.on_adopt = adopted;
	acc.batch = batch > 0 ? batch : 1;
	acc.busy_len = (size_t)snprintf(acc.busy_reply, sizeof(acc.busy_reply),
				      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
				      "Content-Length: %zu\r\nConnection: close\r\nRetry-After: 5\r\n\r\n%s",
				      sizeof(BUSY_BODY) - 1, BUSY_BODY);
	acc.is_tcp = getsockname(wsp_worker_listen_fd(), (struct sockaddr *)&ss, &sl) == 0 &&
			(ss.ss_family == AF_INET || ss.ss_family == AF_INET6);
	/* lws sizes its tables from the same limit (fd_limit_per_thread 0). */
	acc.fd_cap = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
		   rl.rlim_cur < 1000000000 ? (int)rl.rlim_cur : 1000000000;
	acc.fd_cap = acc.fd_cap > 2 * FD_RESERVE ? acc.fd_cap - FD_RESERVE : acc.fd_cap / 2;
	if (acc.spare_fd < 0)
		acc.spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	wsp_room_join(getpid());
	fd.filefd = dup(wsp_worker_listen_fd());
	if (fd.filefd < 0)
		return WSP_ERR_IO;
	acc.wsi = lws_adopt_descriptor_vhost(vh, LWS_ADOPT_RAW_FILE_DESC, fd, "wsp-accept", NULL);
	if (!acc.wsi) {
		close(fd.filefd);
		return WSP_ERR_IO;
	}
	return 0;
}

void wsp_worker_accept_admit(bool (*admit)(int fd, char *key), const char *why)
{
	acc.admit = admit;
	acc.admit_why = why;
}

void wsp_worker_accept_capacity(bool (*full)(void))
{
	acc.at_capacity = full;
}

void wsp_worker_accept_load(int (*load)(void))
{
	acc.load = load;
}

void wsp_worker_accept_stop(void)
{
	if (acc.wsi) {
		struct lws *w = acc.wsi;

		acc.wsi = NULL;
		lws_sul_cancel(&acc.resume_sul);
		lws_sul_cancel(&acc.look_sul);
		lws_set_timeout(w, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	}
	wsp_room_leave(getpid());
	wsp__listener_close(NULL);
	if (acc.spare_fd >= 0) {
		close(acc.spare_fd);
		acc.spare_fd = -1;
	}
}
