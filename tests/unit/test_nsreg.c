/* test_nsreg.c - namespace path rules, the registry, config declarations. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "daemon/nsreg.h"
#include "suites.h"

static void test_paths(void)
{
	wsp_error err;

	CU_ASSERT_EQUAL(wsp_ns_path_check("/api/1/ws/chat", NULL), 0);
	CU_ASSERT_EQUAL(wsp_ns_path_check("/api/1/ws/a/b-c_d.e~f", NULL), 0);
	wsp_error_init(&err);
	CU_ASSERT_EQUAL(wsp_ns_path_check("/ws/chat", &err), WSP_ERR_INVALID);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.text, "must start with /api/1/ws/"));
	CU_ASSERT_EQUAL(wsp_ns_path_check("/api/1/ws/", NULL), WSP_ERR_INVALID);
	CU_ASSERT_EQUAL(wsp_ns_path_check("/api/1/ws/a/", NULL), WSP_ERR_INVALID);
	CU_ASSERT_EQUAL(wsp_ns_path_check("/api/1/ws/a//b", NULL), WSP_ERR_INVALID);
	CU_ASSERT_EQUAL(wsp_ns_path_check("/api/1/ws/../x", NULL), WSP_ERR_INVALID);
	CU_ASSERT_EQUAL(wsp_ns_path_check("/api/1/ws/a b", NULL), WSP_ERR_INVALID);
	CU_ASSERT_EQUAL(wsp_ns_path_check("/api/1/ws/a?b", NULL), WSP_ERR_INVALID);
	CU_ASSERT_EQUAL(wsp_ns_path_check(NULL, NULL), WSP_ERR_INVALID);
}

static void test_registry(void)
{
	wsp_nsreg r;
	int a, b;
	wsp_error err;

	memset(&r, 0, sizeof(r));
	CU_ASSERT_EQUAL(wsp_nsreg_add(&r, "/api/1/ws/a", &a, NULL), 0);
	CU_ASSERT_EQUAL(wsp_nsreg_add(&r, "/api/1/ws/b", &b, NULL), 0);
	wsp_error_init(&err);
	CU_ASSERT_EQUAL(wsp_nsreg_add(&r, "/api/1/ws/a", &b, &err), WSP_ERR_EXISTS);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.text, "already registered"));
	CU_ASSERT_EQUAL(wsp_nsreg_add(&r, "/other", &b, NULL), WSP_ERR_INVALID);
	CU_ASSERT_PTR_EQUAL(wsp_nsreg_find(&r, "/api/1/ws/a", 11), &a);
	CU_ASSERT_PTR_EQUAL(wsp_nsreg_find(&r, "/api/1/ws/bxyz", 11), &b);
	CU_ASSERT_PTR_NULL(wsp_nsreg_find(&r, "/api/1/ws/c", 11));
	CU_ASSERT_PTR_NULL(wsp_nsreg_find(&r, "/api/1/ws/", 10));
	for (int i = 0; i < 20; i++) {
		char p[64];

		snprintf(p, sizeof(p), "/api/1/ws/n%d", i);
		CU_ASSERT_EQUAL(wsp_nsreg_add(&r, p, &a, NULL), 0);
	}
	CU_ASSERT_EQUAL(r.n, 22);
	wsp_nsreg_cleanup(&r);
}

static void test_decl(void)
{
	wsp_nsdef d;
	wsp_error err;

	CU_ASSERT_EQUAL(wsp_nsdef_parse("/api/1/ws/news auth=on roles=admin,editor history=on", &d, NULL), 0);
	CU_ASSERT_STRING_EQUAL(d.path, "/api/1/ws/news");
	CU_ASSERT_TRUE(d.require_auth);
	CU_ASSERT_TRUE(d.history);
	CU_ASSERT_STRING_EQUAL(d.roles[0], "admin");
	CU_ASSERT_STRING_EQUAL(d.roles[1], "editor");
	CU_ASSERT_PTR_NULL(d.roles[2]);
	wsp_nsdef_cleanup(&d);
	CU_ASSERT_EQUAL(wsp_nsdef_parse("/api/1/ws/feed", &d, NULL), 0);
	CU_ASSERT_FALSE(d.require_auth);
	CU_ASSERT_FALSE(d.history);
	CU_ASSERT_PTR_NULL(d.roles);
	wsp_nsdef_cleanup(&d);
	CU_ASSERT_EQUAL(wsp_nsdef_parse("/api/1/ws/x roles=ops", &d, NULL), 0);
	CU_ASSERT_TRUE(d.require_auth);   /* roles imply auth */
	wsp_nsdef_cleanup(&d);
	wsp_error_init(&err);
	CU_ASSERT_EQUAL(wsp_nsdef_parse("/api/1/ws/x colour=red", &d, &err), WSP_ERR_INVALID);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.text, "unknown option"));
	CU_ASSERT_EQUAL(wsp_nsdef_parse("/api/1/ws/x auth=maybe", &d, NULL), WSP_ERR_INVALID);
	CU_ASSERT_EQUAL(wsp_nsdef_parse("/news", &d, NULL), WSP_ERR_INVALID);
	CU_ASSERT_EQUAL(wsp_nsdef_parse("", &d, NULL), WSP_ERR_INVALID);
}

int test_nsreg_register(void)
{
	CU_pSuite s = CU_add_suite("nsreg", NULL, NULL);

	if (!s)
		return CU_get_error();
	WSP_ADD_TEST(s, test_paths);
	WSP_ADD_TEST(s, test_registry);
	WSP_ADD_TEST(s, test_decl);
	return 0;
}
