/* main.c - the one CUnit runner: Basic mode, exit status = failures. */
#include "config.h"

#include <stdio.h>

#include <CUnit/Basic.h>

#include "suites.h"

static int (*const suites[])(void) = {
	test_conf_register,
	test_token_register,
	test_conntoken_register,
	test_secret_register,
	test_uuid_register,
	test_query_register,
	test_rate_register,
	test_msgq_register,
	test_envelope_register,
	test_access_register,
	test_strmap_register,
	test_backlog_register,
	test_room_register,
	test_nsreg_register,
	test_idwin_register,
	test_router_register,
	test_validate_register,
	test_html_register,
	test_response_register,
	test_request_register,
	test_b64url_register,
	test_cidr_register,
	test_stats_register,
	test_frameguard_register,
	test_evtimer_register,
	test_log_register,
	test_notify_register,
	test_metrics_register,
	test_json_register,
	test_outbox_register,
	test_hsrules_register,
	test_wsframe_register,
	test_reasm_register,
	test_reader_register,
};

int main(void)
{
	unsigned failures;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		if (suites[i]() != CUE_SUCCESS) {
			fprintf(stderr, "cannot register suite %zu: %s\n", i, CU_get_error_msg());
			CU_cleanup_registry();
			return 1;
		}
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	printf("%u passed, %u failed\n", CU_get_number_of_tests_run() - CU_get_number_of_tests_failed(),
	       CU_get_number_of_tests_failed());
	CU_cleanup_registry();
	return failures ? 1 : 0;
}
