/* test_log.c - the warn-line rate limit (wsp_log_limit), one event per line. */
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

static void test_one_line_per_event(void)
{
	char path[] = "/tmp/wsp-test-log-XXXXXX", buf[4096];
	FILE *f;
	size_t n;
	int fd = mkstemp(path), lines = 0;

	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	CU_ASSERT_EQUAL_FATAL(wsp_log_open("unit", "warn", path), 0);
	/* A libpq message as it comes: several lines, tabs, a trailing newline. */
	wsp_warn("bus", "lost: %s", "server closed the connection unexpectedly\n\tThis probably means the server "
		 "terminated abnormally\n\tbefore or while processing the request.\n");
	wsp_warn("", "no scope field for an empty scope");
	wsp_log_open("unit", "warn", NULL);
	f = fopen(path, "r");
	CU_ASSERT_FATAL(f != NULL);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	unlink(path);
	for (size_t i = 0; i < n; i++)
		lines += buf[i] == '\n';
	CU_ASSERT_EQUAL(lines, 2);
	CU_ASSERT_PTR_NULL(strchr(buf, '\t'));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "WARN [bus] lost: server closed the connection unexpectedly This probably "
				      "means the server terminated abnormally before or while processing the request.\n"));
	CU_ASSERT_PTR_NULL(strstr(buf, "[]"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "WARN no scope field for an empty scope\n"));
}

int test_log_register(void)
{
	CU_pSuite s = CU_add_suite("log", NULL, NULL);

	if (!s)
		return CU_get_error();
	WSP_ADD_TEST(s, test_limit_per_second);
	WSP_ADD_TEST(s, test_summary_in_next_second);
	WSP_ADD_TEST(s, test_one_line_per_event);
	return CUE_SUCCESS;
}
