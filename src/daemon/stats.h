/* stats.h - live statistics: per-namespace counters, message-rate windows,
 * the green/yellow/red rule, the 5-minute activity log, the cluster sum.
 *
 * Time is always passed in (Unix seconds, or milliseconds where noted) so
 * CUnit can drive every rule.  The JSON shapes are the getStats() contract
 * in TEAM.md: namespaces[] entries and activityLog[] entries.
 *
 * Who counts what, so that the cluster sum counts every message once:
 * a client message and a module broadcast are counted only by the daemon
 * (worker) where they happen; a REST broadcast (an outbox row with origin
 * '') is delivered, and counted, by EVERY daemon and worker that has its
 * namespace, whether or not it has clients there.  So each counter keeps
 * that REST-fed part apart too, the snapshot row carries it ("rest", an
 * internal key), and wsp_stats_merge adds up the other parts but takes the
 * largest REST-fed part instead of adding those up.
 */
#ifndef WSP_STATS_H
#define WSP_STATS_H

#include <stdbool.h>
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
	/* The part of total/win that are REST broadcasts (see the top). */
	unsigned long long rest_total;
	wsp_rate_window rest_win;
} wsp_ns_counters;

/* Count one message: a client's or a broadcast of this daemon's own. */
void wsp_counters_message(wsp_ns_counters *c, long long now);
/* Count one REST broadcast (also in total/win, and in rest_total/rest_win). */
void wsp_counters_rest_message(wsp_ns_counters *c, long long now);

/* The spec's rule: no clients -> red; a message within 5 minutes -> green;
 * within 30 minutes -> yellow; else red.  Returns "green"/"yellow"/"red". */
const char *wsp_stats_status(long clients, long long last_activity, long long now);

/* One namespaces[] entry (NEW reference). */
json_t *wsp_stats_ns_json(const char *path, long clients, long active_users,
			  wsp_ns_counters *c, long long now);
/* The same entry for the daemon's snapshot row (NEW reference): plus the
 * internal key "rest": {"totalMessages","messagesPerMin","messagesPerHour"},
 * the REST-fed part of those three counts.  wsp_stats_merge removes it. */
json_t *wsp_stats_ns_snapshot_json(const char *path, long clients, long active_users,
				   wsp_ns_counters *c, long long now);

/* ISO 8601 UTC with milliseconds ("2026-11-25T19:30:00.123Z"). */
void wsp_iso8601(long long ms, char *out, size_t outsz);

/* The activity log: entries of the last WSP_ACTIVITY_SECS seconds, at most
 * `cap` (the oldest is dropped first), of which anonymous entries (added
 * with wsp_activity_add_anon) hold at most cap / WSP_ACTIVITY_ANON_SHARE:
 * anonymous input can never fill the log the admin page reads. */
#define WSP_ACTIVITY_SECS 300
#define WSP_ACTIVITY_TEXT 160
#define WSP_ACTIVITY_ANON_SHARE 5

typedef struct wsp_activity_ent {
	long long ms;
	long long outbox_id;         /* a REST broadcast's outbox id, 0 for anything else */
	char ns[96];
	bool received;               /* from a client ("received"), else "sent" */
	char type[48];
	char username[65];
	char message[WSP_ACTIVITY_TEXT];
	bool anon;                   /* added by wsp_activity_add_anon */
} wsp_activity_ent;

/* One per daemon; caller-owned. */
typedef struct wsp_activity {
	wsp_activity_ent *v;
	unsigned cap, head, count;
	unsigned anon, anon_cap;     /* anonymous entries held, and at most */
} wsp_activity;

/* 0 or WSP_ERR_NOMEM. */
int wsp_activity_init(wsp_activity *a, unsigned cap);
void wsp_activity_cleanup(wsp_activity *a);
/* Record one entry at now_ms; `message` is shortened to fit.  `outbox_id`:
 * the outbox id of a REST broadcast (logged by worker 1 and by every worker
 * with a client in its namespace: relay.c), else 0.
 * `received`: a client's message (jPulse's direction "received"), else one
 * the daemon sent ("sent"). */
void wsp_activity_add(wsp_activity *a, long long now_ms, long long outbox_id, const char *ns,
		      bool received, const char *type, const char *username, const char *message);
/* The same for an anonymous entry (an anonymous client's message, or what
 * it caused): dropped when anonymous entries already hold their share. */
void wsp_activity_add_anon(wsp_activity *a, long long now_ms, const char *ns, bool received,
			   const char *type, const char *username, const char *message);
/* Entries within the window, oldest first as jPulse's getStats() lists them
 * (its admin page reverses the array) (NEW reference); expired ones are
 * dropped as a side effect.  With `snapshot`, REST broadcasts' entries carry
 * the internal key "outboxId" (the merge keeps one entry per id and removes
 * the key); without, every entry has exactly the contract's six keys:
 * timestamp, namespace, direction, type, username, message (jPulse's admin
 * page reads timestamp, namespace, direction and message, a JSON text). */
json_t *wsp_activity_json(wsp_activity *a, long long now_ms, bool snapshot);

/* Sum snapshot rows into one cluster view (NEW reference).  `rows` is an
 * array of {"id","host","pid","startedAt","updatedAt","up":bool,"stats":{getStats
 * without daemons, with the snapshot's internal keys}} (BORROWED, not
 * modified).  Live ("up") rows are summed per namespace path (status
 * recomputed from the summed clients and the newest activity); every row is
 * listed in "daemons".  `now` in Unix seconds.
 *
 * REST broadcasts count once: of totalMessages, messagesPerMin and
 * messagesPerHour, each namespace's REST-fed part ("rest") is taken from the
 * live row where it is largest, the other part is summed; the top-level
 * totalMessages likewise.  Every live worker delivers every REST broadcast
 * within moments, so within the minute and hour windows the largest part is
 * the true count; since start it is the count of the longest-running worker
 * (broadcasts from before any live worker started are not in it, as the
 * other counts of a daemon that is gone are not).  A row without "rest" (a
 * daemon from before this rule) is summed whole.  Activity-log entries of
 * one outbox id are kept once (the earliest timestamp); the newest 500
 * entries are kept, written oldest first (as wsp_activity_json).  The result
 * has the public shape only: no "rest", no "outboxId". */
json_t *wsp_stats_merge(json_t *rows, long long now);

#endif
