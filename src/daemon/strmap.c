/* strmap.c - see strmap.h. */
#include "config.h"

#include <string.h>

#include "alloc.h"
#include "error.h"
#include "strmap.h"

struct wsp_strmap_ent {
	struct wsp_strmap_ent *next;
	long v;
	char key[];
};

static size_t hash(const char *s)
{
	size_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

void wsp_strmap_init(wsp_strmap *m)
{
	memset(m, 0, sizeof(*m));
}

static struct wsp_strmap_ent **slot(wsp_strmap *m, const char *key)
{
	struct wsp_strmap_ent **e;

	if (!m->nb)
		return NULL;
	for (e = &m->b[hash(key) & (m->nb - 1)]; *e; e = &(*e)->next)
		if (strcmp((*e)->key, key) == 0)
			return e;
	return e;
}

long *wsp_strmap_get(wsp_strmap *m, const char *key)
{
	struct wsp_strmap_ent **e = slot(m, key);

	return e && *e ? &(*e)->v : NULL;
}

static int grow(wsp_strmap *m)
{
	size_t nb = m->nb ? m->nb * 2 : 16;
	struct wsp_strmap_ent **b = wsp_calloc(nb, sizeof(*b));

	if (!b)
		return WSP_ERR_NOMEM;
	for (size_t i = 0; i < m->nb; i++) {
		struct wsp_strmap_ent *e = m->b[i], *next;

		for (; e; e = next) {
			size_t h = hash(e->key) & (nb - 1);

			next = e->next;
			e->next = b[h];
			b[h] = e;
		}
	}
	wsp_free(m->b);
	m->b = b;
	m->nb = nb;
	return 0;
}

int wsp_strmap_set(wsp_strmap *m, const char *key, long v)
{
	struct wsp_strmap_ent **e, *n;
	size_t kl;

	if ((m->n + 1 > m->nb * 2 || !m->nb) && grow(m) < 0 && !m->nb)
		return WSP_ERR_NOMEM;
	e = slot(m, key);
	if (*e) {
		(*e)->v = v;
		return 0;
	}
	kl = strlen(key);
	n = wsp_malloc(sizeof(*n) + kl + 1);
	if (!n)
		return WSP_ERR_NOMEM;
	memcpy(n->key, key, kl + 1);
	n->v = v;
	n->next = NULL;
	*e = n;
	m->n++;
	return 0;
}

long wsp_strmap_add(wsp_strmap *m, const char *key, long delta)
{
	long *v = wsp_strmap_get(m, key), nv = (v ? *v : 0) + delta;

	if (nv == 0) {
		wsp_strmap_del(m, key);
		return 0;
	}
	if (v) {
		*v = nv;
		return nv;
	}
	if (wsp_strmap_set(m, key, nv) < 0)
		return 0;
	return nv;
}

int wsp_strmap_del(wsp_strmap *m, const char *key)
{
	struct wsp_strmap_ent **e = slot(m, key), *dead;

	if (!e || !*e)
		return 0;
	dead = *e;
	*e = dead->next;
	wsp_free(dead);
	m->n--;
	return 1;
}

size_t wsp_strmap_drop_below(wsp_strmap *m, long min)
{
	size_t dropped = 0;

	for (size_t i = 0; i < m->nb; i++) {
		struct wsp_strmap_ent **e = &m->b[i];

		while (*e) {
			struct wsp_strmap_ent *dead = *e;

			if (dead->v >= min) {
				e = &dead->next;
				continue;
			}
			*e = dead->next;
			wsp_free(dead);
			dropped++;
		}
	}
	m->n -= dropped;
	return dropped;
}

size_t wsp_strmap_count(const wsp_strmap *m)
{
	return m->n;
}

void wsp_strmap_cleanup(wsp_strmap *m)
{
	for (size_t i = 0; i < m->nb; i++) {
		struct wsp_strmap_ent *e = m->b[i], *next;

		for (; e; e = next) {
			next = e->next;
			wsp_free(e);
		}
	}
	wsp_free(m->b);
	memset(m, 0, sizeof(*m));
}
