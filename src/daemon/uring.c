/* uring.c - see uring.h. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <liburing.h>

#include "alloc.h"
#include "daemon/uring.h"

struct wsp_uring {
	struct io_uring ring;
	unsigned entries;
	unsigned queued;             /* sends in the SQ, not yet submitted */
	void **ud;                   /* ud of slot i; user_data is the slot */
	unsigned char *seen;         /* slot i answered in this run */
	int broken;
};

wsp_uring *wsp__uring_new(unsigned entries, wsp_error *err)
{
	wsp_uring *u = wsp_calloc(1, sizeof(*u));
	int rc;

	if (!u || !(u->ud = wsp_calloc(entries, sizeof(*u->ud))) || !(u->seen = wsp_calloc(entries, 1))) {
		if (u)
			wsp_free(u->ud);
		wsp_free(u);
		wsp_error_set(err, WSP_ERR_NOMEM, "out of memory");
		return NULL;
	}
	rc = io_uring_queue_init(entries, &u->ring, 0);
	if (rc < 0) {
		wsp_free(u->seen);
		wsp_free(u->ud);
		wsp_free(u);
		wsp_error_set(err, WSP_ERR_INTERNAL, "io_uring_setup: %s", strerror(-rc));
		return NULL;
	}
	u->entries = entries;
	return u;
}

void wsp__uring_free(wsp_uring *u)
{
	if (!u)
		return;
	io_uring_queue_exit(&u->ring);
	wsp_free(u->seen);
	wsp_free(u->ud);
	wsp_free(u);
}

int wsp__uring_add(wsp_uring *u, int fd, const void *buf, size_t len, void *ud)
{
	struct io_uring_sqe *sqe;

	if (u->broken || u->queued >= u->entries || !(sqe = io_uring_get_sqe(&u->ring)))
		return -1;
	/* MSG_DONTWAIT: answered during the submission, never parked on the
	 * socket's readiness (uring.h's contract). */
	io_uring_prep_send(sqe, fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, u->queued);
	u->ud[u->queued++] = ud;
	return 0;
}

unsigned wsp__uring_pending(const wsp_uring *u)
{
	return u->queued;
}

/* Answer every completion there is; returns how many. */
static unsigned reap(wsp_uring *u, wsp_uring_done done, void *arg)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	io_uring_for_each_cqe(&u->ring, head, cqe) {
		unsigned long long slot = cqe->user_data;

		if (slot < u->entries && !u->seen[slot]) {
			u->seen[slot] = 1;
			done(u->ud[slot], cqe->res, arg);
		}
		n++;
	}
	io_uring_cq_advance(&u->ring, n);
	return n;
}

int wsp__uring_run(wsp_uring *u, wsp_uring_done done, void *arg)
{
	unsigned want = u->queued, submitted = 0, answered = 0;
	int tries = 0, rc = 0;

	u->queued = 0;
	memset(u->seen, 0, want);
	while (submitted < want) {
		int r = io_uring_submit(&u->ring);

		if (r > 0) {
			submitted += (unsigned)r;
			continue;
		}
		/* Nothing taken: completions may be owed first (a full CQ). */
		answered += reap(u, done, arg);
		if ((r == 0 || r == -EINTR || r == -EAGAIN || r == -EBUSY) && ++tries < 4)
			continue;
		rc = r < 0 ? r : -EIO;
		break;
	}
	while (answered < submitted) {
		struct io_uring_cqe *cqe;
		unsigned n = reap(u, done, arg);
		int w;

		answered += n;
		if (n || answered >= submitted)
			continue;
		/* Not answered during the submission (a send the kernel
		 * handed to a worker): it is non-blocking, so it is answered
		 * at once. */
		w = io_uring_wait_cqe(&u->ring, &cqe);
		if (w < 0 && w != -EINTR) {
			rc = w;
			break;
		}
	}
	if (rc == 0)
		return 0;
	/* The ring failed: never use it again (its SQ may still hold sends).
	 * Those the kernel did not take were not sent; those it took and did
	 * not answer have an unknown outcome. */
	u->broken = 1;
	for (unsigned i = 0; i < want; i++)
		if (!u->seen[i])
			done(u->ud[i], i < submitted ? -EIO : -ECANCELED, arg);
	return -1;
}
