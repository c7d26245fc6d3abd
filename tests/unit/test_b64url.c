/* test_b64url.c - unpadded base64url, against RFC 4648's test vectors. */
#include "config.h"

#include <string.h>

#include "b64url.h"
#include "suites.h"

static void test_vectors(void)
{
	/* RFC 4648 section 10, without the padding. */
	const char *plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	const char *coded[] = { "", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy" };
	char out[16];
	unsigned char back[16];

	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		CU_ASSERT_EQUAL(wsp_b64url_encode((const unsigned char *)plain[i], strlen(plain[i]), out), strlen(coded[i]));
		CU_ASSERT_STRING_EQUAL(out, coded[i]);
		CU_ASSERT_EQUAL(wsp_b64url_decode(coded[i], strlen(coded[i]), back, sizeof(back)), (long)strlen(plain[i]));
		CU_ASSERT_EQUAL(memcmp(back, plain[i], strlen(plain[i])), 0);
	}
	/* The URL alphabet: 0xfb 0xff -> "-_8" (not "+/8"). */
	CU_ASSERT_EQUAL(wsp_b64url_encode((const unsigned char *)"\xfb\xff", 2, out), 3);
	CU_ASSERT_STRING_EQUAL(out, "-_8");
}

static void test_refused(void)
{
	unsigned char back[8];

	CU_ASSERT_EQUAL(wsp_b64url_decode("Zm9v+", 5, back, sizeof(back)), -1);   /* bad length */
	CU_ASSERT_EQUAL(wsp_b64url_decode("Zm+v", 4, back, sizeof(back)), -1);    /* '+': base64, not base64url */
	CU_ASSERT_EQUAL(wsp_b64url_decode("Zm9v=", 5, back, sizeof(back)), -1);   /* padding */
	CU_ASSERT_EQUAL(wsp_b64url_decode("Zh", 2, back, sizeof(back)), -1);      /* non-zero bits past "f" */
	CU_ASSERT_EQUAL(wsp_b64url_decode("Zm9vYmFy", 8, back, 5), -1);           /* longer than outsz */
	CU_ASSERT_EQUAL(wsp_b64url_decode("Zm9vYmFy", 8, back, 6), 6);
}

int test_b64url_register(void)
{
	CU_pSuite s = CU_add_suite("b64url", NULL, NULL);

	if (!s)
		return CU_get_error();
	WSP_ADD_TEST(s, test_vectors);
	WSP_ADD_TEST(s, test_refused);
	return 0;
}
