/* strmap.h - a small string -> value hash map (chained, grows x2).
 *
 * Used for the per-address connection counts and the set of revoked session
 * ids.  Keys are copied; values are plain longs.
 */
#ifndef WSP_STRMAP_H
#define WSP_STRMAP_H

#include <stddef.h>

struct wsp_strmap_ent;

/* Caller-owned (zero-initialise, or wsp_strmap_init). */
typedef struct wsp_strmap {
	struct wsp_strmap_ent **b;
	size_t nb, n;
} wsp_strmap;

void wsp_strmap_init(wsp_strmap *m);
/* Pointer to the value of key, or NULL. */
long *wsp_strmap_get(wsp_strmap *m, const char *key);
/* Set key to v (insert or replace).  0 or WSP_ERR_NOMEM. */
int wsp_strmap_set(wsp_strmap *m, const char *key, long v);
/* Add delta to key's value (absent: 0); a result of 0 removes the key.
 * Returns the new value; on allocation failure the map is unchanged and 0
 * is returned. */
long wsp_strmap_add(wsp_strmap *m, const char *key, long delta);
/* Remove key; 1 if it was there. */
int wsp_strmap_del(wsp_strmap *m, const char *key);
/* Remove every key whose value is below min; the number removed. */
size_t wsp_strmap_drop_below(wsp_strmap *m, long min);
size_t wsp_strmap_count(const wsp_strmap *m);
void wsp_strmap_cleanup(wsp_strmap *m);

#endif
