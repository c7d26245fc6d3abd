/* json.h - the one JSON serialiser of both programs.
 *
 * Everything wspulse sends (the daemon's envelopes, outbox payloads, the REST
 * answers) is written by wsp_json_dump, not by jansson's json_dumps: jansson
 * 2.14 prints a real with "%.17g", so a client's 40.9 would come back as
 * 40.899999999999999.  Here every real is written in its SHORTEST form that
 * reads back as the same double (the least number of significant digits,
 * 1..17, for which strtod gives the value back), as JavaScript's
 * Number.prototype.toString does; an integral real keeps a ".0" as jansson
 * writes it.  The rest is jansson's JSON_COMPACT output byte for byte:
 * object keys in insertion order, no spaces, strings as UTF-8 with only '"',
 * '\\' and control characters escaped.
 */
#ifndef WSP_JSON_H
#define WSP_JSON_H

#include <stddef.h>

#include <jansson.h>

/* Serialise `j` (BORROWED; any JSON type).  Returns a NUL-terminated string
 * allocated with wsp_malloc (the caller wsp_free()s it) and its length in
 * *len when len is not NULL; NULL when j is NULL or out of memory. */
char *wsp_json_dump(const json_t *j, size_t *len);

/* The shortest "%.{p}g" form of `v` that strtod reads back as v, with ".0"
 * added when it has neither '.' nor an exponent.  Returns its length, or -1
 * when v is not finite or out is too small (32 bytes always suffice). */
int wsp_json_real(double v, char *out, size_t outsz);

#endif
