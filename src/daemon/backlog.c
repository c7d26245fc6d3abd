/* backlog.c - see backlog.h. */
#include "config.h"

#include <string.h>

#include "alloc.h"
#include "daemon/backlog.h"
#include "error.h"

void wsp_backlog_bound(wsp_backlog *b, unsigned max_entries, size_t max_bytes)
{
	b->max_entries = max_entries;
	b->max_bytes = max_bytes;
}

static wsp_backlog_entry *at(const wsp_backlog *b, unsigned long long seq)
{
	return &b->ring[(b->head + (unsigned)(seq - b->first)) % b->cap];
}

/* Drop the oldest entry. */
static void pop(wsp_backlog *b)
{
	wsp_backlog_entry *e = &b->ring[b->head];

	b->bytes -= e->m->len;
	wsp_msg_unref(e->m);
	wsp_free(e->to);
	memset(e, 0, sizeof(*e));
	b->head = (b->head + 1) % b->cap;
	b->count--;
	b->first++;
}

/* Drop the entries while `all` or the oldest is needed by no reader; an
 * empty ring is freed (a namespace without laggards holds nothing). */
static void drop(wsp_backlog *b, bool all)
{
	while (b->count && (all || b->ring[b->head].need == 0))
		pop(b);
	if (!b->count && b->ring) {
		wsp_free(b->ring);
		b->ring = NULL;
		b->cap = b->head = 0;
	}
}

void wsp_backlog_cleanup(wsp_backlog *b)
{
	drop(b, true);
	b->readers = 0;
}

bool wsp_backlog_open(const wsp_backlog *b)
{
	return b->max_entries > 0 && b->max_bytes > 0 && !wsp_backlog_over(b);
}

unsigned long long wsp_backlog_join(wsp_backlog *b)
{
	b->readers++;
	return wsp_backlog_end(b);
}

/* Room for one more entry (the ring doubles, its order kept). */
static int grow(wsp_backlog *b)
{
	unsigned ncap = b->cap ? b->cap * 2 : 64;
	wsp_backlog_entry *r;

	if (b->count < b->cap)
		return 0;
	if (ncap < b->cap)
		return WSP_ERR_NOMEM;
	r = wsp_calloc(ncap, sizeof(*r));
	if (!r)
		return WSP_ERR_NOMEM;
	for (unsigned i = 0; i < b->count; i++)
		r[i] = b->ring[(b->head + i) % b->cap];
	wsp_free(b->ring);
	b->ring = r;
	b->cap = ncap;
	b->head = 0;
	return 0;
}

int wsp_backlog_append(wsp_backlog *b, wsp_msg *m, long long id, const char *to)
{
	wsp_backlog_entry *e;
	char *copy = NULL;

	if (!b->readers)
		return 0;
	if (grow(b) < 0 || (to && !(copy = wsp_strdup(to))))
		return WSP_ERR_NOMEM;
	e = &b->ring[(b->head + b->count) % b->cap];
	e->m = wsp_msg_ref(m);
	e->id = id;
	e->to = copy;
	e->need = b->readers;
	b->count++;
	b->bytes += m->len;
	return 0;
}

const wsp_backlog_entry *wsp_backlog_get(const wsp_backlog *b, unsigned long long seq)
{
	if (seq < b->first || seq >= wsp_backlog_end(b))
		return NULL;
	return at(b, seq);
}

void wsp_backlog_pass(wsp_backlog *b, unsigned long long seq)
{
	if (seq >= b->first && seq < wsp_backlog_end(b) && at(b, seq)->need)
		at(b, seq)->need--;
	drop(b, false);
}

void wsp_backlog_leave(wsp_backlog *b, unsigned long long pos)
{
	unsigned long long end = wsp_backlog_end(b);

	if (b->readers)
		b->readers--;
	for (unsigned long long s = pos < b->first ? b->first : pos; s < end; s++)
		if (at(b, s)->need)
			at(b, s)->need--;
	drop(b, false);
}

bool wsp_backlog_over(const wsp_backlog *b)
{
	return b->count > b->max_entries || b->bytes > b->max_bytes;
}

unsigned long long wsp_backlog_shed_to(const wsp_backlog *b)
{
	unsigned long long s = b->first;
	unsigned count = b->count;
	size_t bytes = b->bytes;

	while (count && (count > b->max_entries / 4 * 3 || bytes > b->max_bytes / 4 * 3)) {
		bytes -= at(b, s)->m->len;
		count--;
		s++;
	}
	return s;
}
