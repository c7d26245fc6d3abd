/* msgq.h - shared outgoing messages and the bounded per-client send queue.
 *
 * A broadcast is serialised ONCE into a wsp_msg: a ref-counted buffer with
 * WSP_MSG_PRE bytes of headroom before the payload, which libwebsockets needs
 * to write the frame header in place (LWS_PRE; the lws glue checks at
 * compile time that WSP_MSG_PRE >= LWS_PRE).  Every recipient's queue holds
 * a reference to the same bytes.  Writing the frame header into the shared
 * headroom is safe because all recipients get identical server-to-client
 * headers and all writes happen on the one loop thread.
 *
 * A queue is bounded in messages and bytes; a push over either bound fails
 * and the caller closes that client (1008): a slow reader can never make the
 * daemon's memory grow without bound.  The ring grows on demand, so an idle
 * client costs a few words.
 */
#ifndef WSP_MSGQ_H
#define WSP_MSGQ_H

#include <stddef.h>

#define WSP_MSG_PRE 32

/* One per serialised message; freed when the last reference goes. */
typedef struct wsp_msg {
	unsigned refs;
	size_t len;                 /* payload bytes */
	unsigned char buf[];        /* WSP_MSG_PRE headroom, payload, NUL */
} wsp_msg;

/* A new message holding a copy of data[0..len) (refs = 1), or NULL. */
wsp_msg *wsp_msg_new(const char *data, size_t len);
/* Take a reference; returns m. */
wsp_msg *wsp_msg_ref(wsp_msg *m);
/* Drop a reference (NULL is fine). */
void wsp_msg_unref(wsp_msg *m);
static inline unsigned char *wsp_msg_payload(wsp_msg *m) { return m->buf + WSP_MSG_PRE; }

/* One per client; caller-owned (wsp_msgq_init / wsp_msgq_cleanup). */
typedef struct wsp_msgq {
	wsp_msg **ring;
	unsigned cap, head, count;
	size_t bytes;
	size_t max_bytes;
	unsigned max_msgs;
} wsp_msgq;

void wsp_msgq_init(wsp_msgq *q, size_t max_bytes, unsigned max_msgs);
/* Queue m, taking a NEW reference on success (the caller keeps its own).
 * Returns 0, WSP_ERR_LIMIT (would exceed a bound; nothing queued) or
 * WSP_ERR_NOMEM. */
int wsp_msgq_push(wsp_msgq *q, wsp_msg *m);
/* Whether wsp_msgq_push(q, m) would stay within both bounds. */
static inline int wsp_msgq_fits(const wsp_msgq *q, const wsp_msg *m)
{
	return q->count + 1 <= q->max_msgs && q->bytes + m->len <= q->max_bytes;
}
/* The oldest message (borrowed) or NULL. */
wsp_msg *wsp_msgq_peek(const wsp_msgq *q);
/* The i-th oldest message (borrowed; i < q->count). */
static inline wsp_msg *wsp_msgq_at(const wsp_msgq *q, unsigned i)
{
	return q->ring[(q->head + i) % q->cap];
}
/* Remove the oldest message and drop the queue's reference. */
void wsp_msgq_pop(wsp_msgq *q);
/* Drop everything (references released) and free the ring. */
void wsp_msgq_cleanup(wsp_msgq *q);

#endif
