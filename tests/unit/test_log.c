/* test_log.c - the warn-line rate limit (wsp_log_limit), one event per line. */
#include "config.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "suites.h"

/* The file's text (at most len - 1 bytes) into buf; the file is removed.
 * Returns its length. */
static size_t slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	CU_ASSERT_FATAL(f != NULL);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	unlink(path);
	return n;
}

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
	slurp(path, buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "... and 7 more widgets dropped in the previous second"));
}

static void test_one_line_per_event(void)
{
	char path[] = "/tmp/wsp-test-log-XXXXXX", buf[4096];
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
	n = slurp(path, buf, sizeof(buf));
	for (size_t i = 0; i < n; i++)
		lines += buf[i] == '\n';
	CU_ASSERT_EQUAL(lines, 2);
	CU_ASSERT_PTR_NULL(strchr(buf, '\t'));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "WARN [bus] lost: server closed the connection unexpectedly This probably "
				      "means the server terminated abnormally before or while processing the request.\n"));
	CU_ASSERT_PTR_NULL(strstr(buf, "[]"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "WARN no scope field for an empty scope\n"));
}

/* The descriptor of this process that refers to `path`, or -1. */
static int fd_of(const char *path)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int found = -1;

	if (!d)
		return -2;
	while ((e = readdir(d)) != NULL) {
		char link[300], target[PATH_MAX];
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (strcmp(target, path) == 0)
			found = atoi(e->d_name);
	}
	closedir(d);
	return found;
}

/* wspulse.fcgi's workers log while its main thread reopens the log: the
 * log's descriptor number must never be free in between (another thread's
 * accept() could take it), so a reopen points the SAME number at the new
 * file, and logging to stderr again leaves no descriptor on the file. */
static void test_reopen_keeps_descriptor(void)
{
	char path[] = "/tmp/wsp-test-log-XXXXXX", rotated[64], buf[4096];
	int fd = mkstemp(path), before, after;

	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	snprintf(rotated, sizeof(rotated), "%s.1", path);
	CU_ASSERT_EQUAL_FATAL(wsp_log_open("unit", "warn", path), 0);
	before = fd_of(path);
	CU_ASSERT_FATAL(before > 2);
	CU_ASSERT_EQUAL_FATAL(rename(path, rotated), 0);     /* logrotate */
	CU_ASSERT_EQUAL(wsp_log_reopen(), 0);
	after = fd_of(path);
	CU_ASSERT_EQUAL(after, before);
	CU_ASSERT_EQUAL(fd_of(rotated), -1);                 /* closed */
	wsp_warn(NULL, "a line after the rotation");
	CU_ASSERT_EQUAL(wsp_log_open("unit", "warn", NULL), 0);
	CU_ASSERT_EQUAL(fd_of(path), -1);
	slurp(path, buf, sizeof(buf));
	unlink(rotated);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "WARN a line after the rotation\n"));
}

int test_log_register(void)
{
	CU_pSuite s = CU_add_suite("log", NULL, NULL);

	if (!s)
		return CU_get_error();
	WSP_ADD_TEST(s, test_limit_per_second);
	WSP_ADD_TEST(s, test_summary_in_next_second);
	WSP_ADD_TEST(s, test_one_line_per_event);
	WSP_ADD_TEST(s, test_reopen_keeps_descriptor);
	return CUE_SUCCESS;
}
