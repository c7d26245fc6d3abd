/* test_cidr.c - addresses and CIDR blocks for trusted_proxies. */
#include "config.h"

#include "cidr.h"
#include "suites.h"

static void test_valid(void)
{
	const char *good[] = { "127.0.0.1", "10.0.0.0/8", "0.0.0.0/0", "::1", "fd00::/8", "::/0",
			       "192.168.1.0/24", "::ffff:127.0.0.1", "2001:db8::/128", "unix", NULL };
	const char *bad[] = { "", "localhost", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/-1",
			      "10.0.0.0/8x", "1.2.3", "1.2.3.4.5", "10.0.0.0/+8", "fd00::/ 8", "UNIX", "unix/8", NULL };

	for (const char **p = good; *p; p++)
		CU_ASSERT_TRUE(wsp_cidr_valid(*p));
	for (const char **p = bad; *p; p++)
		CU_ASSERT_FALSE(wsp_cidr_valid(*p));
	CU_ASSERT_FALSE(wsp_cidr_valid(NULL));
}

static void test_match(void)
{
	char *list[] = { "10.1.2.0/23", "fd00::/8", "192.0.2.9", NULL };

	CU_ASSERT_TRUE(wsp_cidr_match("127.0.0.1", "127.0.0.0/8"));
	CU_ASSERT_TRUE(wsp_cidr_match("127.255.0.1", "127.0.0.0/8"));
	CU_ASSERT_FALSE(wsp_cidr_match("128.0.0.1", "127.0.0.0/8"));
	CU_ASSERT_TRUE(wsp_cidr_match("::ffff:127.0.0.1", "127.0.0.0/8"));
	CU_ASSERT_TRUE(wsp_cidr_match("127.0.0.1", "::ffff:127.0.0.1"));
	CU_ASSERT_TRUE(wsp_cidr_match("::1", "::1"));
	CU_ASSERT_FALSE(wsp_cidr_match("::2", "::1"));
	CU_ASSERT_FALSE(wsp_cidr_match("0.0.0.1", "::1"));
	CU_ASSERT_TRUE(wsp_cidr_match("1.2.3.4", "0.0.0.0/0"));
	CU_ASSERT_FALSE(wsp_cidr_match("::2", "0.0.0.0/0"));
	CU_ASSERT_TRUE(wsp_cidr_match("10.1.3.255", "10.1.2.0/23"));
	CU_ASSERT_FALSE(wsp_cidr_match("10.1.4.0", "10.1.2.0/23"));
	CU_ASSERT_FALSE(wsp_cidr_match("not-an-ip", "0.0.0.0/0"));
	CU_ASSERT_FALSE(wsp_cidr_match(NULL, "0.0.0.0/0"));
	CU_ASSERT_FALSE(wsp_cidr_match("1.2.3.4", "garbage"));
	CU_ASSERT_TRUE(wsp_cidr_match_any("fd12::5", list));
	CU_ASSERT_TRUE(wsp_cidr_match_any("192.0.2.9", list));
	CU_ASSERT_FALSE(wsp_cidr_match_any("192.0.2.10", list));
	CU_ASSERT_FALSE(wsp_cidr_match_any("127.0.0.1", NULL));
	/* "unix": an empty (or NULL) peer, a unix socket, and nothing else. */
	CU_ASSERT_TRUE(wsp_cidr_match("", "unix"));
	CU_ASSERT_TRUE(wsp_cidr_match(NULL, "unix"));
	CU_ASSERT_FALSE(wsp_cidr_match("127.0.0.1", "unix"));
	CU_ASSERT_FALSE(wsp_cidr_match("", "0.0.0.0/0"));
	CU_ASSERT_TRUE(wsp_cidr_match_any("::1", wsp_cidr_loopback));
	CU_ASSERT_TRUE(wsp_cidr_match_any("127.9.9.9", wsp_cidr_loopback));
	CU_ASSERT_FALSE(wsp_cidr_match_any("", wsp_cidr_loopback));
}

int test_cidr_register(void)
{
	CU_pSuite s = CU_add_suite("cidr", NULL, NULL);

	if (!s)
		return CU_get_error();
	WSP_ADD_TEST(s, test_valid);
	WSP_ADD_TEST(s, test_match);
	return 0;
}
