/* test_notify.c - the sd_notify datagram, received on a socket the test
 * binds (a file path and an abstract name). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"
#include "suites.h"

static int bind_dgram(const char *name, socklen_t *len)
{
	struct sockaddr_un sun;
	struct timeval tv = { 2, 0 };
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	size_t n = strlen(name);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, name, n);
	if (name[0] == '@')
		sun.sun_path[0] = '\0';
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (name[0] == '/'));
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(bind(fd, (struct sockaddr *)&sun, *len) == 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void roundtrip(const char *name)
{
	char buf[128];
	socklen_t len;
	int fd = bind_dgram(name, &len);
	ssize_t n;
	wsp_error err;

	wsp_error_init(&err);
	setenv("NOTIFY_SOCKET", name, 1);
	CU_ASSERT_EQUAL(wsp_notify("READY=1\nSTATUS=up", &err), 0);
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	CU_ASSERT_EQUAL(n, 17);
	if (n > 0) {
		buf[n] = '\0';
		CU_ASSERT_STRING_EQUAL(buf, "READY=1\nSTATUS=up");
	}
	close(fd);
}

static void test_path_and_abstract(void)
{
	char path[64], abstract[64];

	snprintf(path, sizeof(path), "/tmp/wsp-notify-test-%d", (int)getpid());
	unlink(path);
	roundtrip(path);
	unlink(path);
	snprintf(abstract, sizeof(abstract), "@wsp-notify-test-%d", (int)getpid());
	roundtrip(abstract);
	unsetenv("NOTIFY_SOCKET");
}

static void test_unset_and_bad(void)
{
	wsp_error err;

	wsp_error_init(&err);
	unsetenv("NOTIFY_SOCKET");
	CU_ASSERT_EQUAL(wsp_notify("READY=1", &err), 1);
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	CU_ASSERT_EQUAL(wsp_notify("READY=1", &err), WSP_ERR_INVALID);
	wsp_error_init(&err);
	setenv("NOTIFY_SOCKET", "/nonexistent/wsp-notify", 1);
	CU_ASSERT_EQUAL(wsp_notify("READY=1", &err), WSP_ERR_IO);
	CU_ASSERT(strstr(err.text, "/nonexistent/wsp-notify") != NULL);
	unsetenv("NOTIFY_SOCKET");
}

int test_notify_register(void)
{
	CU_pSuite s = CU_add_suite("notify", NULL, NULL);

	if (!s)
		return CU_get_error();
	WSP_ADD_TEST(s, test_path_and_abstract);
	WSP_ADD_TEST(s, test_unset_and_bad);
	return CUE_SUCCESS;
}
