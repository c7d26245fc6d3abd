/* stats.h - live statistics: per-namespace counters, message-rate windows,
 * the green/yellow/red rule, the 5-minute activity log, the cluster sum.
 *
 * Time is always passed in (Unix seconds, or milliseconds where noted) so
 * CUnit can drive every rule.  The JSON shapes are the getStats() contract
 * in TEAM.md: namespaces[] entries and activityLog[] entries.
 */
#ifndef WSP_STATS_H
#define WSP_STATS_H

#include <stddef.h>

#include <jansson.h>

/* Messages per second for the last minute and per minute for the last hour:
 * 60 one-second buckets and 60 one-minute buckets, advanced lazily. */
typedef struct wsp_rate_window {
	long long sec_at;            /* Unix second of the newest second bucket */
	long long min_at;            /* Unix minute of the newest minute bucket */
	unsigned sec[60];
	unsigned min[60];
} wsp_rate_window;

void wsp_window_init(wsp_rate_window *w);
void wsp_window_add(wsp_rate_window *w, long long now, unsigned n);
/* Messages in the last 60 s / the last 3600 s (the current minute counts). */
unsigned long wsp_window_per_min(wsp_rate_window *w, long long now);
unsigned long wsp_window_per_hour(wsp_rate_window *w, long long now);

/* The counters of one namespace; caller-owned (zero is a valid start). */
typedef struct wsp_ns_counters {
	unsigned long long total;    /* messages received from clients + broadcasts */
	unsigned long long dropped;  /* clients closed for a full send queue */
	long long last_activity;     /* Unix seconds, 0 = never */
	wsp_rate_window win;
} wsp_ns_counters;

void wsp_counters_message(wsp_ns_counters *c, long long now);

/* The spec's rule: no clients -> red; a message within 5 minutes -> green;
 * within 30 minutes -> yellow; else red.  Returns "green"/"yellow"/"red". */
const char *wsp_stats_status(long clients, long long last_activity, long long now);

/* One namespaces[] entry (NEW reference). */
json_t *wsp_stats_ns_json(const char *path, long clients, long active_users,
			  wsp_ns_counters *c, long long now);

/* ISO 8601 UTC with milliseconds ("2026-11-25T19:30:00.123Z"). */
void wsp_iso8601(long long ms, char *out, size_t outsz);

/* The activity log: entries of the last WSP_ACTIVITY_SECS seconds, at most
 * `cap` (the oldest is dropped first). */
#define WSP_ACTIVITY_SECS 300
#define WSP_ACTIVITY_TEXT 160

typedef struct wsp_activity_ent {
	long long ms;
	char ns[96];
	char type[48];
	char username[65];
	char message[WSP_ACTIVITY_TEXT];
} wsp_activity_ent;

/* One per daemon; caller-owned. */
typedef struct wsp_activity {
	wsp_activity_ent *v;
	unsigned cap, head, count;
} wsp_activity;

/* 0 or WSP_ERR_NOMEM. */
int wsp_activity_init(wsp_activity *a, unsigned cap);
void wsp_activity_cleanup(wsp_activity *a);
/* Record one entry at now_ms; `message` is shortened to fit. */
void wsp_activity_add(wsp_activity *a, long long now_ms, const char *ns, const char *type,
		      const char *username, const char *message);
/* Entries within the window, newest first (NEW reference); expired ones are
 * dropped as a side effect. */
json_t *wsp_activity_json(wsp_activity *a, long long now_ms);

/* Sum snapshot rows into one cluster view (NEW reference).  `rows` is an
 * array of {"id","host","pid","startedAt","updatedAt","up":bool,"stats":{getStats
 * without daemons}} (BORROWED).  Live ("up") rows are summed per namespace
 * path (status recomputed from the summed clients and the newest activity);
 * every row is listed in "daemons".  `now` in Unix seconds. */
json_t *wsp_stats_merge(json_t *rows, long long now);

#endif
