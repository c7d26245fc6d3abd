/* alloc.h - the one allocation hook.
 *
 * All project allocations go through these wrappers so a test can make the
 * Nth allocation fail (wsp_alloc_fail_after) and check that every caller
 * handles NULL.  They behave exactly like their libc namesakes otherwise.
 */
#ifndef WSP_ALLOC_H
#define WSP_ALLOC_H

#include <stddef.h>

void *wsp_malloc(size_t n);
void *wsp_calloc(size_t nmemb, size_t size);
void *wsp_realloc(void *p, size_t n);
char *wsp_strdup(const char *s);
char *wsp_strndup(const char *s, size_t n);
void wsp_free(void *p);

/* A copy of a NULL-terminated array of strings (v NULL: an empty one),
 * NULL-terminated itself; NULL when out of memory.  Free it with
 * wsp_strv_free (NULL is fine). */
char **wsp_strv_dup(const char *const *v);
void wsp_strv_free(char **v);

/* Make the allocation after the next `n` succeed-calls fail (n = 0: the very
 * next one).  A negative n disables failure injection.  Tests only; not
 * thread-safe. */
void wsp_alloc_fail_after(long n);

#endif
