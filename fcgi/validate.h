/* validate.h - checks on user input, shared by the REST handlers.
 *
 * Pure functions: each says yes/no (or parses) and never touches the
 * database.  The handlers turn a "no" into 400 with a stable error code.
 */
#ifndef WSP_VALIDATE_H
#define WSP_VALIDATE_H

#include <stddef.h>

#include "error.h"

#define WSP_TODO_TITLE_MAX 200          /* characters (code points) */
#define WSP_NAMESPACE_MAX 200
#define WSP_CLIENT_ID_MAX 64

/* Trim ASCII whitespace from the title s (len bytes, may hold NUL bytes,
 * which are refused) and check it: valid UTF-8, no control characters,
 * 1..WSP_TODO_TITLE_MAX characters.  On success writes the trimmed title
 * (NUL-terminated) to out (size >= 4 * WSP_TODO_TITLE_MAX + 1) and returns 0;
 * otherwise WSP_ERR_INVALID with a user-facing reason in err. */
int wsp_valid_todo_title(const char *s, size_t len, char *out, size_t outsz, wsp_error *err);

/* Parse a record id: 1..19 decimal digits, no sign, no leading zero, value
 * 1..INT64_MAX.  Returns 0 and *out, or WSP_ERR_INVALID. */
int wsp_parse_id(const char *s, size_t len, long long *out);

/* 1 if s is a valid user name (same rule as the wsp_users CHECK:
 * [A-Za-z0-9_.@-]{1,64}). */
int wsp_valid_username(const char *s);

/* 1 if s is a broadcast namespace: starts with "/api/1/ws/", at most
 * WSP_NAMESPACE_MAX bytes, only [A-Za-z0-9_.~/-], a non-empty name after the
 * prefix, no empty, "." or ".." segments. */
int wsp_valid_namespace(const char *s);

/* 1 if s can be a WebSocket clientId: 1..WSP_CLIENT_ID_MAX of [A-Za-z0-9_-]. */
int wsp_valid_client_id(const char *s);

/* 1 if a Content-Type header value is application/json (any case, optional
 * parameters such as charset=utf-8). */
int wsp_content_type_is_json(const char *ct);

/* Find the token in an Authorization header "Bearer <token>" (scheme in any
 * case).  Returns a pointer to it and its length, or NULL. */
const char *wsp_bearer_token(const char *authz, size_t *len);

/* Find `name`=value in a query string ("a=1&limit=20") and parse the value
 * as a decimal number in min..max (digits only, no sign, at most 18 of
 * them).  Returns 0 when the name is absent (*out untouched), 1 with *out
 * set, or -1 when it is present but not such a number.  The first
 * occurrence counts. */
int wsp_query_long(const char *query, const char *name, long min, long max, long *out);

/* 1 if s is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
int wsp_utf8_valid(const char *s, size_t len);

#endif
