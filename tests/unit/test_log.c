/* test_log.c - the warn-line rate limit (wsp_log_limit). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "suites.h"

static void test_limit_per_second(void)
{
	wsp_log_limit l;
	int ok = 0;

	memset(&l, 0, sizeof(l));
	for (int i = 0; i < 25; i++)
		ok += wsp_log_limit_ok(&l, 10, WSP_LOG_WARN, "things");
	/* Unless the test crossed a second boundary, 10 pass and 15 are counted. */
	CU_ASSERT_TRUE(ok == 10 || (ok > 10 && ok <= 20));
	if (ok == 10)
		CU_ASSERT_EQUAL(l.dropped, 15);
}

static void test_summary_in_next_second(void)
{
	char path[] = "/tmp/wsp-test-log-XXXXXX", buf[4096];
	wsp_log_limit l;
	FILE *f;
	size_t n;
	int fd = mkstemp(path);

	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	CU_ASSERT_EQUAL_FATAL(wsp_log_open("unit", "warn", path), 0);
	memset(&l, 0, sizeof(l));
	l.sec = 1;            /* a second long past */
	l.n = 10;
	l.dropped = 7;
	/* The first call in a new second reports the 7 and passes. */
	CU_ASSERT_TRUE(wsp_log_limit_ok(&l, 10, WSP_LOG_WARN, "widgets dropped"));
	CU_ASSERT_EQUAL(l.n, 1);
	CU_ASSERT_EQUAL(l.dropped, 0);
	wsp_log_open("unit", "warn", NULL);
	f = fopen(path, "r");
	CU_ASSERT_FATAL(f != NULL);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	unlink(path);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "... and 7 more widgets dropped in the previous second"));
}

int test_log_register(void)
{
	CU_pSuite s = CU_add_suite("log", NULL, NULL);

	if (!s)
		return CU_get_error();
	WSP_ADD_TEST(s, test_limit_per_second);
	WSP_ADD_TEST(s, test_summary_in_next_second);
	return CUE_SUCCESS;
}
