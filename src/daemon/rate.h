/* rate.h - per-client message rate limit (token bucket).
 *
 * A client may send `per_sec` messages in any one second, with bursts of up
 * to `per_sec` after a quiet second.  Time is passed in (milliseconds of a
 * monotonic clock) so the rule is testable without sleeping.
 */
#ifndef WSP_RATE_H
#define WSP_RATE_H

/* One per client; caller-owned. */
typedef struct wsp_rate {
	double tokens;
	long long last_ms;
} wsp_rate;

void wsp_rate_init(wsp_rate *r, long per_sec, long long now_ms);

/* Take one token.  Returns 0 when the message is allowed, otherwise the
 * number of milliseconds (>= 1) until one would be (the retryAfterMs the
 * client is told).  A refused message consumes nothing. */
long wsp_rate_take(wsp_rate *r, long per_sec, long long now_ms);

#endif
