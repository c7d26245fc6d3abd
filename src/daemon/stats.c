/* stats.c - see stats.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "error.h"
#include "stats.h"

void wsp_window_init(wsp_rate_window *w)
{
	memset(w, 0, sizeof(*w));
}

/* Move a ring of 60 buckets forward to bucket number `to` (seconds or
 * minutes since the epoch), zeroing the buckets it skips over. */
static void ring_advance(unsigned ring[60], long long *at, long long to)
{
	if (to <= *at)
		return;
	if (to - *at >= 60 || *at == 0)
		memset(ring, 0, 60 * sizeof(ring[0]));
	else
		for (long long x = *at + 1; x <= to; x++)
			ring[x % 60] = 0;
	*at = to;
}

static void advance(wsp_rate_window *w, long long now)
{
	ring_advance(w->sec, &w->sec_at, now);
	ring_advance(w->min, &w->min_at, now / 60);
}

void wsp_window_add(wsp_rate_window *w, long long now, unsigned n)
{
	advance(w, now);
	w->sec[now % 60] += n;
	w->min[(now / 60) % 60] += n;
}

static unsigned long ring_sum(const unsigned ring[60])
{
	unsigned long sum = 0;

	for (int i = 0; i < 60; i++)
		sum += ring[i];
	return sum;
}

unsigned long wsp_window_per_min(wsp_rate_window *w, long long now)
{
	advance(w, now);
	return ring_sum(w->sec);
}

unsigned long wsp_window_per_hour(wsp_rate_window *w, long long now)
{
	advance(w, now);
	return ring_sum(w->min);
}

void wsp_counters_message(wsp_ns_counters *c, long long now)
{
	c->total++;
	c->last_activity = now;
	wsp_window_add(&c->win, now, 1);
}

void wsp_counters_rest_message(wsp_ns_counters *c, long long now)
{
	wsp_counters_message(c, now);
	c->rest_total++;
	wsp_window_add(&c->rest_win, now, 1);
}

const char *wsp_stats_status(long clients, long long last_activity, long long now)
{
	if (clients <= 0 || !last_activity)
		return "red";
	if (now - last_activity < 5 * 60)
		return "green";
	if (now - last_activity < 30 * 60)
		return "yellow";
	return "red";
}

void wsp_iso8601(long long ms, char *out, size_t outsz)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	size_t n;

	gmtime_r(&t, &tm);
	n = strftime(out, outsz, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, outsz - n, ".%03dZ", (int)(ms % 1000));
}

json_t *wsp_stats_ns_json(const char *path, long clients, long active_users,
			  wsp_ns_counters *c, long long now)
{
	char iso[40];
	json_t *last;

	if (c->last_activity) {
		wsp_iso8601(c->last_activity * 1000, iso, sizeof(iso));
		last = json_string(iso);
	} else {
		last = json_null();
	}
	return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "path", path, "status",
			 wsp_stats_status(clients, c->last_activity, now), "clientCount",
			 (json_int_t)clients, "activeUsers", (json_int_t)active_users, "messagesPerMin",
			 (json_int_t)wsp_window_per_min(&c->win, now), "messagesPerHour",
			 (json_int_t)wsp_window_per_hour(&c->win, now), "totalMessages",
			 (json_int_t)c->total, "dropped", (json_int_t)c->dropped, "lastActivity", last);
}

json_t *wsp_stats_ns_snapshot_json(const char *path, long clients, long active_users,
				   wsp_ns_counters *c, long long now)
{
	json_t *j = wsp_stats_ns_json(path, clients, active_users, c, now);

	if (j && json_object_set_new(j, "rest", json_pack("{s:I, s:I, s:I}", "totalMessages",
							  (json_int_t)c->rest_total, "messagesPerMin",
							  (json_int_t)wsp_window_per_min(&c->rest_win, now),
							  "messagesPerHour",
							  (json_int_t)wsp_window_per_hour(&c->rest_win, now))) < 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

int wsp_activity_init(wsp_activity *a, unsigned cap)
{
	memset(a, 0, sizeof(*a));
	a->v = wsp_calloc(cap ? cap : 1, sizeof(*a->v));
	if (!a->v)
		return WSP_ERR_NOMEM;
	a->cap = cap ? cap : 1;
	a->anon_cap = a->cap / WSP_ACTIVITY_ANON_SHARE ? a->cap / WSP_ACTIVITY_ANON_SHARE : 1;
	return 0;
}

void wsp_activity_cleanup(wsp_activity *a)
{
	wsp_free(a->v);
	memset(a, 0, sizeof(*a));
}

/* Drop the oldest entry. */
static void drop_oldest(wsp_activity *a)
{
	if (a->v[a->head].anon)
		a->anon--;
	a->head = (a->head + 1) % a->cap;
	a->count--;
}

static void expire(wsp_activity *a, long long now_ms)
{
	while (a->count && a->v[a->head].ms < now_ms - WSP_ACTIVITY_SECS * 1000LL)
		drop_oldest(a);
}

/* Copy at most outsz-1 bytes without cutting a UTF-8 sequence in half. */
static void copy_utf8(char *out, size_t outsz, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n >= outsz) {
		n = outsz - 1;
		while (n && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	if (n)
		memcpy(out, s, n);
	out[n] = '\0';
}

static void add(wsp_activity *a, long long now_ms, long long outbox_id, const char *ns, bool received,
		const char *type, const char *username, const char *message, bool anon)
{
	wsp_activity_ent *e;

	if (!a->v)
		return;
	expire(a, now_ms);
	if (anon && a->anon >= a->anon_cap)
		return;
	if (a->count == a->cap)
		drop_oldest(a);
	e = &a->v[(a->head + a->count) % a->cap];
	a->count++;
	e->anon = anon;
	if (anon)
		a->anon++;
	e->ms = now_ms;
	e->outbox_id = outbox_id > 0 ? outbox_id : 0;
	copy_utf8(e->ns, sizeof(e->ns), ns);
	e->received = received;
	copy_utf8(e->type, sizeof(e->type), type);
	copy_utf8(e->username, sizeof(e->username), username);
	copy_utf8(e->message, sizeof(e->message), message);
}

void wsp_activity_add(wsp_activity *a, long long now_ms, long long outbox_id, const char *ns,
		      bool received, const char *type, const char *username, const char *message)
{
	add(a, now_ms, outbox_id, ns, received, type, username, message, false);
}

void wsp_activity_add_anon(wsp_activity *a, long long now_ms, const char *ns, bool received,
			   const char *type, const char *username, const char *message)
{
	add(a, now_ms, 0, ns, received, type, username, message, true);
}

json_t *wsp_activity_json(wsp_activity *a, long long now_ms, bool snapshot)
{
	json_t *arr = json_array();

	if (!arr)
		return NULL;
	expire(a, now_ms);
	for (unsigned i = 0; i < a->count; i++) {
		const wsp_activity_ent *e = &a->v[(a->head + i) % a->cap];
		char iso[40];

		json_t *o;

		wsp_iso8601(e->ms, iso, sizeof(iso));
		o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "timestamp", iso, "namespace", e->ns,
			      "direction", e->received ? "received" : "sent", "type", e->type, "username",
			      e->username, "message", e->message);
		if (o && snapshot && e->outbox_id)
			json_object_set_new(o, "outboxId", json_integer(e->outbox_id));
		json_array_append_new(arr, o);
	}
	return arr;
}

/* Parse our own ISO timestamps back to ms (0 if malformed). */
static long long iso_ms(const char *s)
{
	struct tm tm;
	int ms = 0;

	memset(&tm, 0, sizeof(tm));
	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			 &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) < 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (long long)timegm(&tm) * 1000 + ms;
}

static json_int_t ival(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static void set_int(json_t *o, const char *k, json_int_t v)
{
	json_object_set_new(o, k, json_integer(v));
}

static void add_int(json_t *o, const char *k, json_t *from)
{
	set_int(o, k, ival(o, k) + ival(from, k));
}

/* The counts that have a REST-fed part (stats.h). */
static const char *const rest_keys[] = { "totalMessages", "messagesPerMin", "messagesPerHour" };
#define NREST_KEYS (sizeof(rest_keys) / sizeof(rest_keys[0]))

/* The REST-fed part of e[k], within 0..e[k] (a malformed row cannot make a
 * sum negative). */
static json_int_t rest_part(json_t *e, const char *k)
{
	json_int_t r = ival(json_object_get(e, "rest"), k), all = ival(e, k);

	return r < 0 ? 0 : r > all ? all : r;
}

/* Add one live row's namespaces[] entry e to its accumulator in `nsobj`
 * (keyed by path): clients, users and drops summed; of the three counts the
 * part that is not REST-fed summed, and in acc["rest"] the largest REST-fed
 * part so far; the newest activity.  Returns the REST-fed part of e's
 * totalMessages, 0 when out of memory (then the entry is not added). */
static json_int_t ns_add(json_t *nsobj, const char *path, json_t *e, int *nomem)
{
	json_t *acc = json_object_get(nsobj, path), *amax;

	if (!acc) {
		acc = json_deep_copy(e);
		if (!acc || json_object_set_new(nsobj, path, acc) < 0) {
			*nomem = 1;
			return 0;
		}
		set_int(acc, "clientCount", 0);
		set_int(acc, "activeUsers", 0);
		set_int(acc, "dropped", 0);
		json_object_set_new(acc, "lastActivity", json_null());
		json_object_set_new(acc, "rest", json_object());
		for (size_t i = 0; i < NREST_KEYS; i++) {
			set_int(acc, rest_keys[i], 0);
			set_int(json_object_get(acc, "rest"), rest_keys[i], 0);
		}
	}
	amax = json_object_get(acc, "rest");
	if (!json_is_object(amax)) {
		*nomem = 1;
		return 0;
	}
	add_int(acc, "clientCount", e);
	add_int(acc, "activeUsers", e);
	add_int(acc, "dropped", e);
	for (size_t i = 0; i < NREST_KEYS; i++) {
		json_int_t r = rest_part(e, rest_keys[i]);

		set_int(acc, rest_keys[i], ival(acc, rest_keys[i]) + ival(e, rest_keys[i]) - r);
		if (r > ival(amax, rest_keys[i]))
			set_int(amax, rest_keys[i], r);
	}
	if (iso_ms(json_string_value(json_object_get(e, "lastActivity"))) >
	    iso_ms(json_string_value(json_object_get(acc, "lastActivity"))))
		json_object_set(acc, "lastActivity", json_object_get(e, "lastActivity"));
	return rest_part(e, "totalMessages");
}

/* Add one live row's activity-log entry e to `acts`.  Entries that name an
 * outbox id (a REST broadcast, logged by every worker) are kept once, with
 * the earliest timestamp, in `seen` (id -> the kept copy); the internal key
 * is removed from the copy.  0 or WSP_ERR_NOMEM. */
static int act_add(json_t *acts, json_t *seen, json_t *e)
{
	json_t *oid = json_object_get(e, "outboxId"), *kept, *copy;
	char key[32];

	if (!oid)
		return json_array_append(acts, e) < 0 ? WSP_ERR_NOMEM : 0;
	snprintf(key, sizeof(key), "%" JSON_INTEGER_FORMAT, json_integer_value(oid));
	kept = json_integer_value(oid) > 0 ? json_object_get(seen, key) : NULL;
	if (kept) {
		const char *a = json_string_value(json_object_get(e, "timestamp"));
		const char *b = json_string_value(json_object_get(kept, "timestamp"));

		if (a && b && strcmp(a, b) < 0)
			json_object_set(kept, "timestamp", json_object_get(e, "timestamp"));
		return 0;
	}
	copy = json_copy(e);
	if (!copy || json_object_del(copy, "outboxId") < 0 || json_array_append(acts, copy) < 0 ||
	    (json_integer_value(oid) > 0 && json_object_set(seen, key, copy) < 0)) {
		json_decref(copy);
		return WSP_ERR_NOMEM;
	}
	json_decref(copy);
	return 0;
}

static int cmp_activity(const void *a, const void *b)
{
	const char *x = json_string_value(json_object_get(*(json_t *const *)a, "timestamp"));
	const char *y = json_string_value(json_object_get(*(json_t *const *)b, "timestamp"));

	return strcmp(y ? y : "", x ? x : "");   /* newest first */
}

json_t *wsp_stats_merge(json_t *rows, long long now)
{
	json_t *out = json_object(), *daemons = json_array(), *nsobj = json_object(), *nss = json_array();
	json_t *acts = json_array(), *seen = json_object(), *row, *sorted;
	json_int_t total = 0, uptime = 0;
	size_t i, n;
	const char *path;
	json_t *ns;
	json_t **tmp;
	int nomem = 0;

	if (!out || !daemons || !nsobj || !nss || !acts || !seen)
		goto fail;
	json_array_foreach(rows, i, row) {
		json_t *st = json_object_get(row, "stats"), *e;
		int up = json_is_true(json_object_get(row, "up"));
		size_t j;

		json_array_append_new(daemons, json_pack("{s:O?, s:O?, s:O?, s:I, s:I, s:b, s:O?}", "id",
							 json_object_get(row, "id"), "host",
							 json_object_get(row, "host"), "pid",
							 json_object_get(row, "pid"), "workers",
							 ival(st, "workers") > 0 ? ival(st, "workers") : (json_int_t)1,
							 "uptime", ival(st, "uptime"), "up", up, "updatedAt",
							 json_object_get(row, "updatedAt")));
		if (!up || !json_is_object(st))
			continue;
		/* The REST-fed part is added back per namespace below, once. */
		total += ival(st, "totalMessages");
		if (ival(st, "uptime") > uptime)
			uptime = ival(st, "uptime");
		json_array_foreach(json_object_get(st, "namespaces"), j, e) {
			const char *p = json_string_value(json_object_get(e, "path"));

			if (p)
				total -= ns_add(nsobj, p, e, &nomem);
		}
		json_array_foreach(json_object_get(st, "activityLog"), j, e)
			if (act_add(acts, seen, e) < 0)
				nomem = 1;
		if (nomem)
			goto fail;
	}
	json_object_foreach(nsobj, path, ns) {
		json_t *amax = json_object_get(ns, "rest");
		long long last = iso_ms(json_string_value(json_object_get(ns, "lastActivity"))) / 1000;

		for (size_t k = 0; k < NREST_KEYS; k++)
			set_int(ns, rest_keys[k], ival(ns, rest_keys[k]) + ival(amax, rest_keys[k]));
		total += ival(amax, "totalMessages");
		json_object_del(ns, "rest");
		json_object_set_new(ns, "status",
				    json_string(wsp_stats_status((long)ival(ns, "clientCount"), last, now)));
		json_array_append(nss, ns);
	}
	/* Activity: the newest 500 (capped like one daemon's log), written
	 * oldest first as jPulse's getStats() does (its page reverses it). */
	n = json_array_size(acts);
	tmp = wsp_malloc(sizeof(*tmp) * (n ? n : 1));
	if (!tmp)
		goto fail;
	for (i = 0; i < n; i++)
		tmp[i] = json_array_get(acts, i);
	qsort(tmp, n, sizeof(*tmp), cmp_activity);
	sorted = json_array();
	for (i = n < 500 ? n : 500; i-- > 0;)
		json_array_append(sorted, tmp[i]);
	wsp_free(tmp);
	json_object_set_new(out, "uptime", json_integer(uptime));
	json_object_set_new(out, "totalMessages", json_integer(total));
	json_object_set_new(out, "daemons", daemons);
	json_object_set_new(out, "namespaces", nss);
	json_object_set_new(out, "activityLog", sorted);
	json_decref(nsobj);
	json_decref(acts);
	json_decref(seen);
	return out;
fail:
	json_decref(out);
	json_decref(daemons);
	json_decref(nsobj);
	json_decref(nss);
	json_decref(acts);
	json_decref(seen);
	return NULL;
}
