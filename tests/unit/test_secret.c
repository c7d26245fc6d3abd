/* test_secret.c - secret files: generation, modes, contents. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secret.h"
#include "suites.h"

static char dir[64];

static int setup(void)
{
	strcpy(dir, "/tmp/wsp-secret-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static void test_generate_and_load(void)
{
	char path[128];
	wsp_secret s;
	wsp_error err;
	struct stat st;

	snprintf(path, sizeof(path), "%s/gen", dir);
	wsp_error_init(&err);
	CU_ASSERT_EQUAL_FATAL(wsp_secret_generate(path, &err), 0);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
	CU_ASSERT_EQUAL(wsp_secret_load(&s, path, &err), 0);
	CU_ASSERT_EQUAL(s.len, 32);
	/* Never overwrites. */
	CU_ASSERT_EQUAL(wsp_secret_generate(path, &err), WSP_ERR_EXISTS);
}

static void test_open_mode_refused(void)
{
	char path[128];
	wsp_secret s;
	wsp_error err;

	snprintf(path, sizeof(path), "%s/open", dir);
	write_file(path, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n", 0644);
	wsp_error_init(&err);
	CU_ASSERT_EQUAL(wsp_secret_load(&s, path, &err), WSP_ERR_FORBIDDEN);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.text, "chmod 600"));
	chmod(path, 0600);
	wsp_error_init(&err);
	CU_ASSERT_EQUAL(wsp_secret_load(&s, path, &err), 0);
	CU_ASSERT_EQUAL(s.key[1], 0x11);
	/* 0640 with a group of our own (the file was created with our egid):
	 * the `wspulse` group model - accepted.  Group-writable: never. */
	chmod(path, 0640);
	wsp_error_init(&err);
	CU_ASSERT_EQUAL(wsp_secret_load(&s, path, &err), 0);
	chmod(path, 0660);
	wsp_error_init(&err);
	CU_ASSERT_EQUAL(wsp_secret_load(&s, path, &err), WSP_ERR_FORBIDDEN);
	/* 0640 with a group we are not in (only root can give it away). */
	chmod(path, 0640);
	if (geteuid() == 0 && chown(path, 0, 65534) == 0 && getegid() != 65534) {
		wsp_error_init(&err);
		CU_ASSERT_EQUAL(wsp_secret_load(&s, path, &err), WSP_ERR_FORBIDDEN);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.text, "is not one of this process's"));
	}
	/* Owned by someone else (neither root nor us). */
	if (geteuid() == 0 && chown(path, 65534, 0) == 0) {
		chmod(path, 0600);
		wsp_error_init(&err);
		CU_ASSERT_EQUAL(wsp_secret_load(&s, path, &err), WSP_ERR_FORBIDDEN);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.text, "owned by uid 65534"));
	}
}

static void test_bad_contents(void)
{
	char path[128];
	wsp_secret s;
	wsp_error err;

	snprintf(path, sizeof(path), "%s/short", dir);
	write_file(path, "abcd\n", 0600);
	wsp_error_init(&err);
	CU_ASSERT_EQUAL(wsp_secret_load(&s, path, &err), WSP_ERR_INVALID);
	snprintf(path, sizeof(path), "%s/nothex", dir);
	write_file(path, "zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n", 0600);
	wsp_error_init(&err);
	CU_ASSERT_EQUAL(wsp_secret_load(&s, path, &err), WSP_ERR_INVALID);
	wsp_error_init(&err);
	CU_ASSERT_EQUAL(wsp_secret_load(&s, "/nonexistent/secret", &err), WSP_ERR_IO);
}

int test_secret_register(void)
{
	CU_pSuite s = CU_add_suite("secret", setup, teardown);

	if (!s)
		return CU_get_error();
	WSP_ADD_TEST(s, test_generate_and_load);
	WSP_ADD_TEST(s, test_open_mode_refused);
	WSP_ADD_TEST(s, test_bad_contents);
	return CUE_SUCCESS;
}
