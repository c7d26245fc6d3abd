/* test_json.c - the shared serialiser: shortest round-trip reals, and
 * everything else exactly as jansson's JSON_COMPACT writes it. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "json.h"
#include "suites.h"

static void check_real(double v, const char *want)
{
	char buf[40];

	CU_ASSERT_TRUE(wsp_json_real(v, buf, sizeof(buf)) > 0);
	CU_ASSERT_STRING_EQUAL(buf, want);
	CU_ASSERT_EQUAL(strtod(buf, NULL), v);
}

static void test_shortest(void)
{
	check_real(40.9, "40.9");
	check_real(0.1, "0.1");
	check_real(0.1 + 0.2, "0.30000000000000004");
	check_real(1.0, "1.0");
	check_real(-0.0, "-0.0");
	check_real(100.0, "100.0");
	check_real(12.5, "12.5");
	check_real(1e300, "1e+300");
	check_real(5e-324, "5e-324");
	check_real(123456789.125, "123456789.125");
	check_real(2.0 / 3.0, "0.6666666666666666");
	check_real(1234500000000000.0, "1234500000000000.0");
	check_real(1e17, "1e+17");
	check_real(1e-7, "1e-07");
	check_real(-250.0, "-250.0");
}

static void test_not_finite(void)
{
	char buf[40];

	CU_ASSERT_EQUAL(wsp_json_real(INFINITY, buf, sizeof(buf)), -1);
	CU_ASSERT_EQUAL(wsp_json_real(NAN, buf, sizeof(buf)), -1);
	CU_ASSERT_EQUAL(wsp_json_real(1.5, buf, 8), -1);
}

/* Random doubles: every one reads back the same, and never with more
 * digits than jansson's %.17g. */
static void test_roundtrip_many(void)
{
	char buf[40];

	srand(7);
	for (int i = 0; i < 20000; i++) {
		unsigned long long bits = ((unsigned long long)rand() << 33) ^ ((unsigned long long)rand() << 11) ^
					  (unsigned long long)rand();
		double v;

		memcpy(&v, &bits, sizeof(v));
		if (!isfinite(v))
			continue;
		CU_ASSERT_TRUE_FATAL(wsp_json_real(v, buf, sizeof(buf)) > 0);
		CU_ASSERT_EQUAL_FATAL(strtod(buf, NULL), v);
	}
}

/* Without reals the output is jansson's own, byte for byte. */
static void test_same_as_jansson(void)
{
	const char *docs[] = {
		"{\"type\":\"cursor\",\"x\":1,\"s\":\"a\\\"b\\\\c\\n\\t\\u0001/\xc3\xa9\",\"n\":null,"
		"\"t\":true,\"f\":false,\"a\":[1,[],{}],\"o\":{\"k\":-9223372036854775807}}",
		"[]", "\"\\u001F\x7f\"", "{\"\\b\\f\\r\":0}",
	};

	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		json_t *j = json_loads(docs[i], JSON_DECODE_ANY, NULL);
		char *ours, *theirs;
		size_t len = 0;

		CU_ASSERT_PTR_NOT_NULL_FATAL(j);
		ours = wsp_json_dump(j, &len);
		theirs = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
		CU_ASSERT_PTR_NOT_NULL_FATAL(ours);
		CU_ASSERT_STRING_EQUAL(ours, theirs);
		CU_ASSERT_EQUAL(len, strlen(theirs));
		wsp_free(ours);
		free(theirs);
		json_decref(j);
	}
}

static void test_reals_in_a_document(void)
{
	json_t *j = json_pack("{s:f, s:[f, f], s:i}", "x", 40.9, "a", 0.1, 3.0, "n", 2);
	char *s = wsp_json_dump(j, NULL);

	CU_ASSERT_STRING_EQUAL(s, "{\"x\":40.9,\"a\":[0.1,3.0],\"n\":2}");
	wsp_free(s);
	/* Embedded NUL in a string is escaped, not a terminator. */
	json_decref(j);
	j = json_stringn("a\0b", 3);
	s = wsp_json_dump(j, NULL);
	CU_ASSERT_STRING_EQUAL(s, "\"a\\u0000b\"");
	wsp_free(s);
	json_decref(j);
	CU_ASSERT_PTR_NULL(wsp_json_dump(NULL, NULL));
}

static void test_oom(void)
{
	json_t *j = json_pack("{s:s}", "k", "a value long enough to need the buffer");
	char *s;

	wsp_alloc_fail_after(0);
	s = wsp_json_dump(j, NULL);
	wsp_alloc_fail_after(-1);
	CU_ASSERT_PTR_NULL(s);
	json_decref(j);
}

int test_json_register(void)
{
	CU_pSuite s = CU_add_suite("json", NULL, NULL);

	if (!s)
		return CU_get_error();
	WSP_ADD_TEST(s, test_shortest);
	WSP_ADD_TEST(s, test_not_finite);
	WSP_ADD_TEST(s, test_roundtrip_many);
	WSP_ADD_TEST(s, test_same_as_jansson);
	WSP_ADD_TEST(s, test_reals_in_a_document);
	WSP_ADD_TEST(s, test_oom);
	return 0;
}
