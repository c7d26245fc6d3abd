/* test_envelope.c - success/error envelopes, username stamping, parsing. */
#include "config.h"

#include <string.h>

#include "daemon/envelope.h"
#include "suites.h"

static json_t *load(wsp_msg *m)
{
	return json_loadb((const char *)wsp_msg_payload(m), m->len, 0, NULL);
}

static void test_success_stamped(void)
{
	json_t *d = json_pack("{s:s, s:s}", "type", "cursor", "username", "forged");
	wsp_msg *m;
	json_t *j;

	CU_ASSERT_EQUAL(wsp_envelope_stamp(d, "alice"), 0);
	m = wsp_envelope_success(d, -1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	j = load(m);
	CU_ASSERT_TRUE(json_is_true(json_object_get(j, "success")));
	CU_ASSERT_PTR_NULL(json_object_get(j, "id"));
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(j, "data"), "username")), "alice");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(j, "data"), "type")), "cursor");
	json_decref(j);
	wsp_msg_unref(m);
	CU_ASSERT_EQUAL(wsp_envelope_stamp(d, NULL), 0);
	m = wsp_envelope_success(d, 42);
	j = load(m);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "id")), 42);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(j, "data"), "username")), "");
	json_decref(j);
	wsp_msg_unref(m);
	json_decref(d);
	d = json_array();
	CU_ASSERT_EQUAL(wsp_envelope_stamp(d, "x"), WSP_ERR_INVALID);
	CU_ASSERT_PTR_NULL(wsp_envelope_success(d, -1));
	json_decref(d);
}

static void test_error(void)
{
	json_t *extra = json_pack("{s:i}", "retryAfterMs", 20);
	wsp_msg *m = wsp_envelope_error(429, "rate limit", extra);
	json_t *j = load(m);

	CU_ASSERT_TRUE(json_is_false(json_object_get(j, "success")));
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "code")), 429);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "error")), "rate limit");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "username")), "");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "retryAfterMs")), 20);
	json_decref(j);
	json_decref(extra);
	wsp_msg_unref(m);
}

static void test_parse(void)
{
	json_t *j;
	wsp_error err;

	wsp_error_init(&err);
	CU_ASSERT_EQUAL(wsp_envelope_parse("{\"type\":\"ping\"}", 15, &j, &err), 0);
	CU_ASSERT_TRUE(wsp_envelope_is_ping(j));
	CU_ASSERT_STRING_EQUAL(wsp_envelope_type(j), "ping");
	json_decref(j);
	CU_ASSERT_EQUAL(wsp_envelope_parse("{\"type\":1}", 10, &j, &err), 0);
	CU_ASSERT_FALSE(wsp_envelope_is_ping(j));
	CU_ASSERT_STRING_EQUAL(wsp_envelope_type(j), "");
	json_decref(j);
	CU_ASSERT_EQUAL(wsp_envelope_parse("{nope", 5, &j, &err), WSP_ERR_INVALID);
	CU_ASSERT_PTR_NULL(j);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.text, "invalid JSON"));
	wsp_error_init(&err);
	CU_ASSERT_EQUAL(wsp_envelope_parse("[1,2]", 5, &j, &err), WSP_ERR_INVALID);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.text, "object"));
	CU_ASSERT_EQUAL(wsp_envelope_parse("{\"a\":1,\"a\":2}", 13, &j, NULL), WSP_ERR_INVALID);
}

static void test_from_payload(void)
{
	json_t *d = wsp_envelope_from_payload("{\"type\":\"todo-created\",\"todo\":{\"id\":1}}", 39, "bob");

	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(d, "username")), "bob");
	json_decref(d);
	CU_ASSERT_PTR_NULL(wsp_envelope_from_payload("\"str\"", 5, "bob"));
	CU_ASSERT_PTR_NULL(wsp_envelope_from_payload("{", 1, "bob"));
}

/* The client's cursor: "floor" after the id; unfloor takes it out again. */
static void test_floor(void)
{
	json_t *d = json_pack("{s:s, s:s}", "type", "t", "username", "");
	wsp_msg *m = wsp_envelope_success_floor(d, 42, 40), *u, *w;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_STRING_EQUAL((char *)wsp_msg_payload(m),
			       "{\"success\":true,\"id\":42,\"floor\":40,\"data\":{\"type\":\"t\",\"username\":\"\"}}");
	u = wsp_envelope_unfloor(m);
	CU_ASSERT_PTR_NOT_NULL_FATAL(u);
	CU_ASSERT(u != m);
	CU_ASSERT_EQUAL(u->len, strlen((char *)wsp_msg_payload(u)));
	CU_ASSERT_STRING_EQUAL((char *)wsp_msg_payload(u),
			       "{\"success\":true,\"id\":42,\"data\":{\"type\":\"t\",\"username\":\"\"}}");
	/* Without a floor: the same message back, one more reference. */
	w = wsp_envelope_unfloor(u);
	CU_ASSERT_PTR_EQUAL(w, u);
	CU_ASSERT_EQUAL(u->refs, 2);
	wsp_msg_unref(w);
	wsp_msg_unref(u);
	wsp_msg_unref(m);
	/* No id: the floor alone (a history namespace's welcome). */
	m = wsp_envelope_success_floor(d, -1, 7);
	CU_ASSERT_STRING_EQUAL((char *)wsp_msg_payload(m),
			       "{\"success\":true,\"floor\":7,\"data\":{\"type\":\"t\",\"username\":\"\"}}");
	wsp_msg_unref(m);
	/* A data member named floor is not touched. */
	json_object_set_new(d, "floor", json_integer(3));
	m = wsp_envelope_success(d, 5);
	u = wsp_envelope_unfloor(m);
	CU_ASSERT_PTR_EQUAL(u, m);
	wsp_msg_unref(u);
	wsp_msg_unref(m);
	json_decref(d);
}

int test_envelope_register(void)
{
	CU_pSuite s = CU_add_suite("envelope", NULL, NULL);

	if (!s)
		return CU_get_error();
	WSP_ADD_TEST(s, test_success_stamped);
	WSP_ADD_TEST(s, test_error);
	WSP_ADD_TEST(s, test_parse);
	WSP_ADD_TEST(s, test_from_payload);
	WSP_ADD_TEST(s, test_floor);
	return 0;
}
