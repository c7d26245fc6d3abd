/* uuid.h - client identities: parse a client-supplied UUID, make a fresh one.
 *
 * A client sends ?uuid=<uuid>; when that is a well-formed UUID (8-4-4-4-12
 * hex digits, any version) it becomes the clientId, lower-cased.  Anything
 * else is replaced by a fresh random version-4 UUID from the kernel RNG.
 */
#ifndef WSP_UUID_H
#define WSP_UUID_H

#include <stddef.h>

#define WSP_UUID_LEN 36

/* 1 if s[0..len) is a well-formed UUID, else 0.  When out is non-NULL and the
 * UUID is valid, writes its lower-case form plus NUL (37 bytes). */
int wsp_uuid_parse(const char *s, size_t len, char *out);

/* Write a random v4 UUID (lower case, 37 bytes with NUL).  0 or WSP_ERR_IO. */
int wsp_uuid_v4(char *out);

#endif
