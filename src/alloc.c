/* alloc.c - see alloc.h. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"

static long fail_countdown = -1;

static int should_fail(void)
{
	if (fail_countdown < 0)
		return 0;
	if (fail_countdown == 0)
		return 1;
	fail_countdown--;
	return 0;
}

void wsp_alloc_fail_after(long n) { fail_countdown = n; }

void *wsp_malloc(size_t n) { return should_fail() ? NULL : malloc(n); }

void *wsp_calloc(size_t nmemb, size_t size)
{
	return should_fail() ? NULL : calloc(nmemb, size);
}

void *wsp_realloc(void *p, size_t n) { return should_fail() ? NULL : realloc(p, n); }

char *wsp_strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *d = wsp_malloc(len + 1);

	if (d) {
		memcpy(d, s, len);
		d[len] = '\0';
	}
	return d;
}

char *wsp_strdup(const char *s) { return wsp_strndup(s, strlen(s)); }

void wsp_free(void *p) { free(p); }

char **wsp_strv_dup(const char *const *v)
{
	size_t n = 0;
	char **d;

	while (v && v[n])
		n++;
	d = wsp_calloc(n + 1, sizeof(*d));
	for (size_t i = 0; d && i < n; i++)
		if (!(d[i] = wsp_strdup(v[i]))) {
			wsp_strv_free(d);
			return NULL;
		}
	return d;
}

void wsp_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		wsp_free(v[i]);
	wsp_free(v);
}
