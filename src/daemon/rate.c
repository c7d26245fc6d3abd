/* rate.c - see rate.h. */
#include "config.h"

#include <math.h>

#include "rate.h"

void wsp_rate_init(wsp_rate *r, long per_sec, long long now_ms)
{
	r->tokens = (double)per_sec;
	r->last_ms = now_ms;
}

long wsp_rate_take(wsp_rate *r, long per_sec, long long now_ms)
{
	double cap = (double)(per_sec > 0 ? per_sec : 1);

	if (now_ms > r->last_ms) {
		r->tokens += (double)(now_ms - r->last_ms) * cap / 1000.0;
		if (r->tokens > cap)
			r->tokens = cap;
		r->last_ms = now_ms;
	}
	if (r->tokens >= 1.0) {
		r->tokens -= 1.0;
		return 0;
	}
	{
		long ms = (long)ceil((1.0 - r->tokens) * 1000.0 / cap);

		return ms < 1 ? 1 : ms;
	}
}
