/* envelope.h - the jPulse message envelopes, built and parsed.
 *
 *   success  {"success":true[,"id":N[,"floor":F]],"data":{...,"username":"<name>"}}
 *   error    {"success":false,"error":"<text>","code":N,"username":""[,extra...]}
 *
 * `username` is stamped on every outgoing success message (it overrides a
 * "username" the data may carry: the framework says who caused a message,
 * "" for nobody/the system).  `id` is the outbox row id of messages that came
 * through PostgreSQL's outbox.  `floor` is the client's cursor: every message
 * for this client with an id <= floor was sent to it before this one (or is
 * one it had before it connected), so the browser client reconnects with
 * ?since=<floor> and drops ids it already has; ids commit out of order, so
 * the highest id seen is no such cursor (README, "Catch-up").
 */
#ifndef WSP_ENVELOPE_H
#define WSP_ENVELOPE_H

#include <stddef.h>

#include <jansson.h>

#include "error.h"
#include "msgq.h"

/* Stamp data.username = username (NULL: "").  data must be an object;
 * BORROWED and modified in place.  0, WSP_ERR_INVALID or WSP_ERR_NOMEM. */
int wsp_envelope_stamp(json_t *data, const char *username);

/* Serialise a success envelope around `data` (BORROWED, an object, already
 * stamped) into a new shared message (refs = 1).  id < 0: no "id" member.
 * NULL when out of memory or data is not an object. */
wsp_msg *wsp_envelope_success(json_t *data, long long id);

/* The same with a "floor" member after the id (floor < 0: none). */
wsp_msg *wsp_envelope_success_floor(json_t *data, long long id, long long floor);

/* A new message (refs = 1) with m's bytes minus its "floor" member, or a new
 * reference to m itself when it has none.  NULL when out of memory.  For a
 * shared live message sent to a client whose catch-up is not done: the
 * daemon's floor is not that client's. */
wsp_msg *wsp_envelope_unfloor(wsp_msg *m);

/* Serialise an error envelope; `extra` (BORROWED, may be NULL) is an object
 * whose members are added (e.g. retryAfterMs).  NULL when out of memory. */
wsp_msg *wsp_envelope_error(int code, const char *text, json_t *extra);

/* Parse one client message: it must be a JSON object.  Returns 0 and a NEW
 * reference in *out, or WSP_ERR_INVALID with a one-line reason in err (the
 * caller answers code 400). */
int wsp_envelope_parse(const char *buf, size_t len, json_t **out, wsp_error *err);

/* 1 if data is an application ping ({"type":"ping"}), else 0. */
int wsp_envelope_is_ping(const json_t *data);

/* The "type" member of data, or "" (borrowed). */
const char *wsp_envelope_type(const json_t *data);

/* Outbox payload text + username -> stamped data object (NEW reference) or
 * NULL if the payload is not a JSON object. */
json_t *wsp_envelope_from_payload(const char *payload, size_t len, const char *username);

#endif
