/* envelope.c - see envelope.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "envelope.h"
#include "json.h"

int wsp_envelope_stamp(json_t *data, const char *username)
{
	if (!json_is_object(data))
		return WSP_ERR_INVALID;
	return json_object_set_new(data, "username", json_string(username ? username : "")) ?
		WSP_ERR_NOMEM : 0;
}

/* Dump `prefix` + json + "}" into one message. */
static wsp_msg *wrap(const char *prefix, json_t *j)
{
	size_t plen = strlen(prefix), n = 0;
	char *body = wsp_json_dump(j, &n), *tmp;
	wsp_msg *m;

	if (!body)
		return NULL;
	tmp = wsp_malloc(plen + n + 2);
	if (!tmp) {
		wsp_free(body);
		return NULL;
	}
	memcpy(tmp, prefix, plen);
	memcpy(tmp + plen, body, n);
	wsp_free(body);
	tmp[plen + n] = '}';
	m = wsp_msg_new(tmp, plen + n + 1);
	wsp_free(tmp);
	return m;
}

wsp_msg *wsp_envelope_success(json_t *data, long long id)
{
	return wsp_envelope_success_floor(data, id, -1);
}

#define FLOOR_KEY ",\"floor\":"

wsp_msg *wsp_envelope_success_floor(json_t *data, long long id, long long floor)
{
	char prefix[96];
	size_t n;

	if (!json_is_object(data))
		return NULL;
	n = (size_t)snprintf(prefix, sizeof(prefix), "{\"success\":true");
	if (id >= 0)
		n += (size_t)snprintf(prefix + n, sizeof(prefix) - n, ",\"id\":%lld", id);
	if (floor >= 0)
		n += (size_t)snprintf(prefix + n, sizeof(prefix) - n, FLOOR_KEY "%lld", floor);
	snprintf(prefix + n, sizeof(prefix) - n, ",\"data\":");
	return wrap(prefix, data);
}

wsp_msg *wsp_envelope_unfloor(wsp_msg *m)
{
	const char *p = (const char *)wsp_msg_payload(m), *f, *end;
	size_t n = m->len, head = sizeof("{\"success\":true,\"id\":") - 1;
	wsp_msg *out;

	/* Only our own prefix is looked at: {"success":true,"id":N,"floor":F, */
	if (n < head || memcmp(p, "{\"success\":true,\"id\":", head) != 0)
		return wsp_msg_ref(m);
	f = p + head + strspn(p + head, "0123456789");
	if ((size_t)(f - p) + sizeof(FLOOR_KEY) - 1 > n || memcmp(f, FLOOR_KEY, sizeof(FLOOR_KEY) - 1) != 0)
		return wsp_msg_ref(m);
	end = f + sizeof(FLOOR_KEY) - 1;
	end += strspn(end, "0123456789");
	out = wsp_msg_new(p, n - (size_t)(end - f));
	if (!out)
		return NULL;
	memcpy(wsp_msg_payload(out) + (f - p), end, n - (size_t)(end - p));
	return out;
}

wsp_msg *wsp_envelope_error(int code, const char *text, json_t *extra)
{
	json_t *e = json_pack("{s:b, s:s, s:i, s:s}", "success", 0, "error", text ? text : "error",
			      "code", code, "username", "");
	wsp_msg *m = NULL;
	char *s;

	if (!e)
		return NULL;
	if (json_is_object(extra))
		json_object_update_missing(e, extra);
	s = wsp_json_dump(e, NULL);
	if (s) {
		m = wsp_msg_new(s, strlen(s));
		wsp_free(s);
	}
	json_decref(e);
	return m;
}

int wsp_envelope_parse(const char *buf, size_t len, json_t **out, wsp_error *err)
{
	json_error_t je;
	json_t *j;

	*out = NULL;
	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		return wsp_error_set(err, WSP_ERR_INVALID, "invalid JSON: %s", je.text);
	if (!json_is_object(j)) {
		json_decref(j);
		return wsp_error_set(err, WSP_ERR_INVALID, "a message must be a JSON object");
	}
	*out = j;
	return 0;
}

const char *wsp_envelope_type(const json_t *data)
{
	const char *t = json_string_value(json_object_get(data, "type"));

	return t ? t : "";
}

int wsp_envelope_is_ping(const json_t *data)
{
	return strcmp(wsp_envelope_type(data), "ping") == 0;
}

json_t *wsp_envelope_from_payload(const char *payload, size_t len, const char *username)
{
	json_t *d = json_loadb(payload, len, 0, NULL);

	if (!json_is_object(d) || wsp_envelope_stamp(d, username) < 0) {
		json_decref(d);
		return NULL;
	}
	return d;
}
