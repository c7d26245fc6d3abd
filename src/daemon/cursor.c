/* cursor.c - see cursor.h. */
#include "config.h"

#include "alloc.h"
#include "daemon/cursor.h"
#include "daemon/idwin.h"

/* One per daemon (srv->cursor). */
struct wsp_cursor {
	wsp_idwin seen;
	bool known;                  /* seen.floor is the real floor */
	bool replaying;
};

wsp_cursor *wsp__cursor_new(void)
{
	return wsp_calloc(1, sizeof(wsp_cursor));
}

void wsp__cursor_free(wsp_cursor *cur)
{
	wsp_free(cur);
}

long long wsp__cursor_floor(const wsp_cursor *cur)
{
	return cur->known ? cur->seen.floor : -1;
}

void wsp__cursor_start(wsp_cursor *cur, long long floor)
{
	wsp_idwin_init(&cur->seen, floor);
	cur->known = true;
}

bool wsp__cursor_mark(wsp_cursor *cur, long long id)
{
	return !cur->known || wsp_idwin_mark(&cur->seen, id);
}

bool wsp__cursor_seen(const wsp_cursor *cur, long long id)
{
	return cur->known && wsp_idwin_seen(&cur->seen, id);
}

bool wsp__cursor_copy(const wsp_cursor *cur, wsp_idwin *out)
{
	if (!cur->known)
		return false;
	*out = cur->seen;
	return true;
}

bool wsp__cursor_replaying(const wsp_cursor *cur)
{
	return cur->replaying;
}

void wsp__cursor_set_replaying(wsp_cursor *cur, bool on)
{
	cur->replaying = on;
}
