/* query.h - the query string of a WebSocket upgrade (?uuid=...&since=...).
 *
 * Pure string handling: no allocation, percent-decoding of the value,
 * `+` read as a space, the first occurrence of a key wins.
 */
#ifndef WSP_QUERY_H
#define WSP_QUERY_H

#include <stddef.h>

/* Find `key` in `qs` (without the leading '?'; may be NULL).  Writes the
 * decoded value plus NUL into out and returns its length; -1 if the key is
 * absent, WSP_ERR_TOOBIG if the value does not fit, WSP_ERR_INVALID if a
 * %-escape is malformed or decodes to NUL. */
int wsp_query_get(const char *qs, const char *key, char *out, size_t outsz);

/* Parse a non-negative decimal id (as in ?since=) into *id; 0 or
 * WSP_ERR_INVALID (empty, sign, junk, or over 2^53). */
int wsp_query_id(const char *s, long long *id);

#endif
