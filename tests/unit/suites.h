/* suites.h - every unit-test file registers its CUnit suite here. */
#ifndef WSP_TEST_SUITES_H
#define WSP_TEST_SUITES_H

#include <CUnit/CUnit.h>

/* Each returns 0 or a CUnit error code. */
int test_conf_register(void);
int test_token_register(void);
int test_conntoken_register(void);
int test_secret_register(void);
int test_uuid_register(void);
int test_query_register(void);
int test_rate_register(void);
int test_msgq_register(void);
int test_envelope_register(void);
int test_access_register(void);
int test_strmap_register(void);
int test_backlog_register(void);
int test_room_register(void);
int test_nsreg_register(void);
int test_idwin_register(void);
int test_router_register(void);
int test_validate_register(void);
int test_html_register(void);
int test_response_register(void);
int test_request_register(void);
int test_b64url_register(void);
int test_cidr_register(void);
int test_stats_register(void);
int test_frameguard_register(void);
int test_evtimer_register(void);
int test_log_register(void);
int test_notify_register(void);
int test_metrics_register(void);
int test_json_register(void);
int test_outbox_register(void);
int test_hsrules_register(void);
int test_wsframe_register(void);
int test_reasm_register(void);
int test_reader_register(void);

/* Add a test to `suite`, returning non-zero from the caller on failure. */
#define WSP_ADD_TEST(suite, fn) \
	do { if (!CU_add_test((suite), #fn, (fn))) return CU_get_error(); } while (0)

#endif
