/* test_evtimer.c - re-arming an active libev timer (evtimer.h): the
 * sequence lws 4.1.6's libev glue uses must move the deadline, earlier or
 * later. */
#include "config.h"

#include "daemon/evtimer.h"
#include "suites.h"

struct run {
	ev_tstamp t0;
	ev_tstamp fired;             /* seconds after t0, or -1 */
};

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct run *r = w->data;

	(void)revents;
	r->fired = ev_now(loop) - r->t0;
	ev_break(loop, EVBREAK_ALL);
}

static void on_guard(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

/* Arm a timer for `first` s, then (as lws does) ev_timer_set() it to
 * `then` s and ev_timer_start() it again while active; run the loop for
 * at most 3 s; return when it fired. */
static ev_tstamp rearm(ev_tstamp first, ev_tstamp then)
{
	struct ev_loop *loop = ev_loop_new(EVBACKEND_EPOLL);
	struct run r = { 0, -1 };
	ev_timer t, guard;

	CU_ASSERT_PTR_NOT_NULL_FATAL(loop);
	ev_now_update(loop);
	r.t0 = ev_now(loop);
	ev_timer_init(&t, on_timer, first, 0);
	t.data = &r;
	ev_timer_start(loop, &t);
	ev_timer_set(&t, then, 0);
	ev_timer_start(loop, &t);
	CU_ASSERT(ev_is_active(&t));
	ev_timer_init(&guard, on_guard, 3.0, 0);
	ev_timer_start(loop, &guard);
	ev_run(loop, 0);
	ev_timer_stop(loop, &t);
	ev_timer_stop(loop, &guard);
	ev_loop_destroy(loop);
	return r.fired;
}

static void test_rearm_sooner(void)
{
	/* Plain libev keeps the 2-s deadline (fires at 2.0). */
	ev_tstamp at = rearm(2.0, 0.01);

	CU_ASSERT(at >= 0 && at < 1.0);
}

static void test_rearm_later(void)
{
	ev_tstamp at = rearm(0.01, 0.3);

	CU_ASSERT(at >= 0.25 && at < 2.0);
}

int test_evtimer_register(void)
{
	CU_pSuite s = CU_add_suite("evtimer", NULL, NULL);

	if (!s)
		return CU_get_error();
	WSP_ADD_TEST(s, test_rearm_sooner);
	WSP_ADD_TEST(s, test_rearm_later);
	return 0;
}
