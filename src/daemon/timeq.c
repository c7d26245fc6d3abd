/* timeq.c - see timeq.h. */
#include "config.h"

#include "daemon/clock.h"
#include "daemon/timeq.h"

void wsp__tq_init(wsp_timeq *q, struct lws_context *ctx, long long delay_ms,
		  void (*due)(wsp_tq_node *n))
{
	q->head = q->tail = NULL;
	q->ctx = ctx;
	q->delay_ms = delay_ms;
	q->due = due;
}

void wsp__tq_remove(wsp_tq_node *n)
{
	wsp_timeq *q = n->q;

	if (!q)
		return;
	if (n->prev)
		n->prev->next = n->next;
	else
		q->head = n->next;
	if (n->next)
		n->next->prev = n->prev;
	else
		q->tail = n->prev;
	n->prev = n->next = NULL;
	n->q = NULL;
}

static void tq_fire(lws_sorted_usec_list_t *sul)
{
	wsp_timeq *q = lws_container_of(sul, wsp_timeq, sul);
	long long now = wsp__mono_ms();
	wsp_tq_node *n;

	while ((n = q->head) && n->due_ms <= now) {
		wsp__tq_remove(n);
		q->due(n);
	}
	if (q->head)
		lws_sul_schedule(q->ctx, 0, &q->sul, tq_fire, (lws_usec_t)(q->head->due_ms - now) * 1000);
}

void wsp__tq_add(wsp_timeq *q, wsp_tq_node *n)
{
	wsp__tq_remove(n);
	n->q = q;
	n->due_ms = wsp__mono_ms() + q->delay_ms;
	n->prev = q->tail;
	if (q->tail)
		q->tail->next = n;
	else
		q->head = n;
	q->tail = n;
	/* An empty queue has no timer running (or a stale one): arm it.
	 * Otherwise the timer is due at or before the head, which is due
	 * before n (same delay, appended later). */
	if (q->head == n)
		lws_sul_schedule(q->ctx, 0, &q->sul, tq_fire, (lws_usec_t)q->delay_ms * 1000);
}

void wsp__tq_stop(wsp_timeq *q)
{
	lws_sul_cancel(&q->sul);
}
