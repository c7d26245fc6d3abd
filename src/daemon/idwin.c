/* idwin.c - see idwin.h. */
#include "config.h"

#include <string.h>

#include "idwin.h"

#define BIT(id) ((uint64_t)1 << ((unsigned long long)(id) % 64))
#define WORD(w, id) ((w)->bits[((unsigned long long)(id) % WSP_IDWIN_BITS) / 64])

void wsp_idwin_init(wsp_idwin *w, long long floor)
{
	memset(w, 0, sizeof(*w));
	w->floor = floor < 0 ? 0 : floor;
}

int wsp_idwin_seen(const wsp_idwin *w, long long id)
{
	if (id <= w->floor)
		return 1;
	if (id > w->floor + WSP_IDWIN_BITS)
		return 0;
	return (WORD(w, id) & BIT(id)) != 0;
}

/* Move floor up by one: the slot of the new floor is cleared for reuse. */
static void advance(wsp_idwin *w)
{
	w->floor++;
	WORD(w, w->floor) &= ~BIT(w->floor);
}

int wsp_idwin_mark(wsp_idwin *w, long long id)
{
	if (wsp_idwin_seen(w, id))
		return 0;
	/* Beyond the bitmap: give up the oldest half (those ids count as seen). */
	if (id > w->floor + WSP_IDWIN_BITS) {
		long long target = id - WSP_IDWIN_BITS / 2;

		if (target - w->floor > WSP_IDWIN_BITS) {
			memset(w->bits, 0, sizeof(w->bits));
			w->floor = target;
		} else {
			while (w->floor < target)
				advance(w);
		}
	}
	WORD(w, id) |= BIT(id);
	while (WORD(w, w->floor + 1) & BIT(w->floor + 1))
		advance(w);
	return 1;
}
