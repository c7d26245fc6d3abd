/* test_conf.c - the configuration parser. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "conf.h"
#include "db.h"
#include "suites.h"

static int parse(wsp_config *cfg, const char *text, wsp_error *err)
{
	wsp_error_init(err);
	CU_ASSERT_FATAL(wsp_config_init(cfg) == 0);
	return wsp_config_parse(cfg, text, strlen(text), "t.conf", err);
}

static void test_defaults(void)
{
	wsp_config cfg;
	wsp_error err;

	CU_ASSERT_EQUAL(parse(&cfg, "", &err), 0);
	CU_ASSERT_STRING_EQUAL(cfg.listen, "127.0.0.1:8081");
	CU_ASSERT_EQUAL(cfg.max_message_bytes, 65536);
	CU_ASSERT_EQUAL(cfg.rate_limit, 50);
	CU_ASSERT_EQUAL(cfg.ping_interval, 30);
	CU_ASSERT_EQUAL(cfg.pong_timeout, 5);
	CU_ASSERT_EQUAL(cfg.allowed_origins.n, 0);
	wsp_config_cleanup(&cfg);
}

static void test_values_comments_lists(void)
{
	wsp_config cfg;
	wsp_error err;
	const char *text = "# comment\n\n  listen =  0.0.0.0:9 \n"
			   "database = host=/tmp dbname=x user=y\n"
			   "allowed_origins = http://a.example, http://b.example\n"
			   "allowed_origins = http://c.example\n"
			   "namespace = /api/1/ws/news history=on\n"
			   "namespace = /api/1/ws/feed\n"
			   "rate_limit = 7\r\n";

	CU_ASSERT_EQUAL_FATAL(parse(&cfg, text, &err), 0);
	CU_ASSERT_STRING_EQUAL(cfg.listen, "0.0.0.0:9");
	CU_ASSERT_STRING_EQUAL(cfg.database, "host=/tmp dbname=x user=y");
	CU_ASSERT_EQUAL_FATAL(cfg.allowed_origins.n, 3);
	CU_ASSERT_STRING_EQUAL(cfg.allowed_origins.v[1], "http://b.example");
	CU_ASSERT_PTR_NULL(cfg.allowed_origins.v[3]);
	CU_ASSERT_EQUAL_FATAL(cfg.namespaces.n, 2);
	CU_ASSERT_STRING_EQUAL(cfg.namespaces.v[0], "/api/1/ws/news history=on");
	CU_ASSERT_EQUAL(cfg.rate_limit, 7);
	wsp_config_cleanup(&cfg);
}

static void test_errors_name_line(void)
{
	wsp_config cfg;
	wsp_error err;

	CU_ASSERT_EQUAL(parse(&cfg, "listen = x\nbogus = 1\n", &err), WSP_ERR_INVALID);
	CU_ASSERT_STRING_EQUAL(err.text, "t.conf:2: unknown key 'bogus'");
	wsp_config_cleanup(&cfg);

	CU_ASSERT_EQUAL(parse(&cfg, "\n\njust words\n", &err), WSP_ERR_INVALID);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.text, "t.conf:3: expected 'key = value'"));
	wsp_config_cleanup(&cfg);

	CU_ASSERT_EQUAL(parse(&cfg, "rate_limit = 12abc\n", &err), WSP_ERR_INVALID);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.text, "t.conf:1: rate_limit must be an integer"));
	wsp_config_cleanup(&cfg);

	CU_ASSERT_EQUAL(parse(&cfg, "rate_limit = 0\n", &err), WSP_ERR_INVALID);
	wsp_config_cleanup(&cfg);

	CU_ASSERT_EQUAL(parse(&cfg, " = 5\n", &err), WSP_ERR_INVALID);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.text, "missing key"));
	wsp_config_cleanup(&cfg);
}

static void test_nul_byte_rejected(void)
{
	wsp_config cfg;
	wsp_error err;
	const char text[] = "listen = a\0b\n";

	wsp_error_init(&err);
	CU_ASSERT_FATAL(wsp_config_init(&cfg) == 0);
	CU_ASSERT_EQUAL(wsp_config_parse(&cfg, text, sizeof(text) - 1, "t.conf", &err), WSP_ERR_INVALID);
	wsp_config_cleanup(&cfg);
}

static void test_missing_file(void)
{
	wsp_config cfg;
	wsp_error err;

	wsp_error_init(&err);
	CU_ASSERT_FATAL(wsp_config_init(&cfg) == 0);
	CU_ASSERT_EQUAL(wsp_config_load(&cfg, "/nonexistent/wspulse.conf", &err), WSP_ERR_IO);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.text, "/nonexistent/wspulse.conf"));
	wsp_config_cleanup(&cfg);
}

static void test_out_of_memory(void)
{
	wsp_config cfg;
	wsp_error err;
	int failed = 0;

	/* Fail each allocation in turn: every one must surface as an error,
	 * never a crash. */
	for (long n = 0; n < 200; n++) {
		int rc;

		wsp_error_init(&err);
		wsp_alloc_fail_after(n);
		rc = wsp_config_init(&cfg);
		if (rc == 0) {
			rc = wsp_config_parse(&cfg, "namespace = /api/1/ws/a\nallowed_origins = x y\n", 45,
					      "t", &err);
			wsp_config_cleanup(&cfg);
		}
		wsp_alloc_fail_after(-1);
		if (rc != 0)
			failed++;
		else
			break;
	}
	CU_ASSERT(failed > 0);
}

static void collect(const char *key, void *ud)
{
	char *out = ud;

	strcat(out, key);
	strcat(out, ";");
}

/* Reload's building blocks: which keys differ, copy one, print one. */
static void test_diff_copy_format(void)
{
	wsp_config a, b;
	wsp_error err;
	char changed[256] = "", buf[64];
	const char *text = "rate_limit = 7\nallowed_origins = https://a.test https://b.test\nlisten = :1\n";

	wsp_error_init(&err);
	CU_ASSERT_EQUAL(wsp_config_init(&a), 0);
	CU_ASSERT_EQUAL(wsp_config_init(&b), 0);
	CU_ASSERT_EQUAL(wsp_config_diff(&a, &b, collect, changed), 0);
	CU_ASSERT_EQUAL(wsp_config_parse(&b, text, strlen(text), "t", &err), 0);
	CU_ASSERT_EQUAL(wsp_config_diff(&a, &b, collect, changed), 3);
	CU_ASSERT_STRING_EQUAL(changed, "listen;allowed_origins;rate_limit;");
	CU_ASSERT_EQUAL(wsp_config_copy_key(&a, &b, "rate_limit", &err), 0);
	CU_ASSERT_EQUAL(wsp_config_copy_key(&a, &b, "allowed_origins", &err), 0);
	CU_ASSERT_EQUAL(a.rate_limit, 7);
	CU_ASSERT_EQUAL(a.allowed_origins.n, 2);
	CU_ASSERT_EQUAL(wsp_config_diff(&a, &b, NULL, NULL), 1);
	wsp_config_format(&a, "allowed_origins", buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "https://a.test https://b.test");
	wsp_config_format(&a, "rate_limit", buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "7");
	wsp_config_format(&a, "nope", buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "");
	CU_ASSERT_EQUAL(wsp_config_copy_key(&a, &b, "nope", &err), WSP_ERR_INVALID);
	wsp_config_cleanup(&a);
	wsp_config_cleanup(&b);
}

/* A changed `database` is logged on reload and printed by --check-config:
 * never with its password, whether keyword=value or a URI. */
static void test_database_password_never_shown(void)
{
	wsp_config c;
	wsp_error err;
	char buf[512], *dump = NULL;
	size_t len = 0;
	const char *text = "database = host=/tmp dbname=x user=y password='s3cr et'\n";
	FILE *f;

	wsp_error_init(&err);
	CU_ASSERT_EQUAL_FATAL(wsp_config_init(&c), 0);
	CU_ASSERT_EQUAL_FATAL(wsp_config_parse(&c, text, strlen(text), "t", &err), 0);
	wsp_config_format(&c, "database", buf, sizeof(buf));
	CU_ASSERT_PTR_NULL(strstr(buf, "s3cr"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "password=***"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "dbname=x"));
	f = open_memstream(&dump, &len);
	CU_ASSERT_FATAL(f != NULL);
	wsp_config_dump(&c, f);
	fclose(f);
	CU_ASSERT_PTR_NULL(strstr(dump, "s3cr"));
	CU_ASSERT_PTR_NOT_NULL(strstr(dump, "password=***"));
	free(dump);
	wsp_config_cleanup(&c);
	wsp_db_redact("postgresql://y:pw%40x@localhost:5433/x", buf, sizeof(buf));
	CU_ASSERT_PTR_NULL(strstr(buf, "pw"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "host=localhost"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "password=***"));
	wsp_db_redact("host='unterminated", buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "(unparsable)");
}

int test_conf_register(void)
{
	CU_pSuite s = CU_add_suite("conf", NULL, NULL);

	if (!s)
		return CU_get_error();
	WSP_ADD_TEST(s, test_defaults);
	WSP_ADD_TEST(s, test_values_comments_lists);
	WSP_ADD_TEST(s, test_errors_name_line);
	WSP_ADD_TEST(s, test_nul_byte_rejected);
	WSP_ADD_TEST(s, test_missing_file);
	WSP_ADD_TEST(s, test_out_of_memory);
	WSP_ADD_TEST(s, test_diff_copy_format);
	WSP_ADD_TEST(s, test_database_password_never_shown);
	return CUE_SUCCESS;
}
