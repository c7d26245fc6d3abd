/* msgq.c - see msgq.h. */
#include "config.h"

#include <string.h>

#include "alloc.h"
#include "error.h"
#include "msgq.h"

wsp_msg *wsp_msg_new(const char *data, size_t len)
{
	wsp_msg *m = wsp_malloc(sizeof(*m) + WSP_MSG_PRE + len + 1);

	if (!m)
		return NULL;
	m->refs = 1;
	m->len = len;
	memset(m->buf, 0, WSP_MSG_PRE);
	if (len)
		memcpy(m->buf + WSP_MSG_PRE, data, len);
	m->buf[WSP_MSG_PRE + len] = '\0';
	return m;
}

wsp_msg *wsp_msg_ref(wsp_msg *m)
{
	m->refs++;
	return m;
}

void wsp_msg_unref(wsp_msg *m)
{
	if (m && --m->refs == 0)
		wsp_free(m);
}

void wsp_msgq_init(wsp_msgq *q, size_t max_bytes, unsigned max_msgs)
{
	memset(q, 0, sizeof(*q));
	q->max_bytes = max_bytes;
	q->max_msgs = max_msgs ? max_msgs : 1;
}

int wsp_msgq_push(wsp_msgq *q, wsp_msg *m)
{
	if (!wsp_msgq_fits(q, m))
		return WSP_ERR_LIMIT;
	if (q->count == q->cap) {
		unsigned ncap = q->cap ? q->cap * 2 : 4;
		wsp_msg **r;

		if (ncap > q->max_msgs)
			ncap = q->max_msgs;
		r = wsp_malloc(sizeof(*r) * ncap);
		if (!r)
			return WSP_ERR_NOMEM;
		for (unsigned i = 0; i < q->count; i++)
			r[i] = q->ring[(q->head + i) % q->cap];
		wsp_free(q->ring);
		q->ring = r;
		q->cap = ncap;
		q->head = 0;
	}
	q->ring[(q->head + q->count) % q->cap] = wsp_msg_ref(m);
	q->count++;
	q->bytes += m->len;
	return 0;
}

wsp_msg *wsp_msgq_peek(const wsp_msgq *q)
{
	return q->count ? q->ring[q->head] : NULL;
}

void wsp_msgq_pop(wsp_msgq *q)
{
	wsp_msg *m;

	if (!q->count)
		return;
	m = q->ring[q->head];
	q->head = (q->head + 1) % q->cap;
	q->count--;
	q->bytes -= m->len;
	wsp_msg_unref(m);
	if (!q->count) {
		/* Idle clients give their ring back. */
		wsp_free(q->ring);
		q->ring = NULL;
		q->cap = q->head = 0;
	}
}

void wsp_msgq_cleanup(wsp_msgq *q)
{
	while (q->count)
		wsp_msgq_pop(q);
	wsp_free(q->ring);
	q->ring = NULL;
	q->cap = q->head = 0;
	q->bytes = 0;
}
