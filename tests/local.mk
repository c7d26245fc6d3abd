# Tests.  `make check` runs the CUnit unit tests and the integration tests
# (Node's test runner against the real programs, PostgreSQL and nginx).
check_PROGRAMS += tests/unit/unit-tests
tests_unit_unit_tests_SOURCES = \
	tests/unit/main.c tests/unit/suites.h \
	tests/unit/test_conf.c \
	tests/unit/test_secret.c \
	tests/unit/test_token.c \
	tests/unit/test_conntoken.c \
	tests/unit/test_access.c \
	tests/unit/test_envelope.c \
	tests/unit/test_evtimer.c src/daemon/evtimer.c \
	tests/unit/test_frameguard.c \
	tests/unit/test_idwin.c \
	tests/unit/test_json.c \
	tests/unit/test_outbox.c \
	tests/unit/test_hsrules.c \
	tests/unit/test_wsframe.c \
	tests/unit/test_reasm.c \
	tests/unit/test_reader.c \
	tests/unit/test_log.c \
	tests/unit/test_notify.c \
	tests/unit/test_metrics.c \
	tests/unit/test_msgq.c \
	tests/unit/test_nsreg.c \
	tests/unit/test_query.c \
	tests/unit/test_rate.c \
	tests/unit/test_stats.c \
	tests/unit/test_strmap.c \
	tests/unit/test_backlog.c \
	tests/unit/test_room.c \
	tests/unit/test_uuid.c \
	tests/unit/test_html.c \
	tests/unit/test_request.c \
	tests/unit/test_b64url.c \
	tests/unit/test_cidr.c \
	tests/unit/test_response.c \
	tests/unit/test_router.c \
	tests/unit/test_validate.c
tests_unit_unit_tests_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS) $(JANSSON_CFLAGS) -I$(top_srcdir)
tests_unit_unit_tests_LDADD = fcgi/libwspfcgi.la src/libwspd.la src/libwspcore.la $(CUNIT_LIBS) $(JANSSON_LIBS) $(EV_LIBS) $(DL_LIBS) -lm
TESTS += tests/unit/unit-tests

# The man pages render without warnings and wspulse.conf(5) has every key.
TESTS += tests/man/check-man.sh
EXTRA_DIST += tests/man/check-man.sh

# wspulsed exports exactly wspulse.h's functions and its interposed symbols.
TESTS += tests/abi/check-exports.sh
EXTRA_DIST += tests/abi/check-exports.sh

# The daemon's modules include each other without a cycle, no hub header.
TESTS += tests/arch/check-include-cycles.sh
EXTRA_DIST += tests/arch/check-include-cycles.sh

# Every JSON text leaves through wsp_json_dump (shortest-form doubles).
TESTS += tests/arch/check-json-writer.sh
EXTRA_DIST += tests/arch/check-json-writer.sh

# Test helper: prints the NOTIFYs on PostgreSQL channels (see the file).
check_PROGRAMS += tests/integration/helpers/pg-listen
tests_integration_helpers_pg_listen_SOURCES = tests/integration/helpers/pg-listen.c
tests_integration_helpers_pg_listen_CFLAGS = $(AM_CFLAGS) $(PQ_CFLAGS)
tests_integration_helpers_pg_listen_LDADD = $(PQ_LIBS)

# Test helper: a stand-in for systemd's NOTIFY_SOCKET (see the file).
check_PROGRAMS += tests/integration/helpers/notify-listen
tests_integration_helpers_notify_listen_SOURCES = tests/integration/helpers/notify-listen.c

# Integration tests: each file starts what it needs (tests/integration/lib).
INTEGRATION_TESTS = \
	tests/integration/browser.test.mjs \
	tests/integration/demo-off.test.mjs \
	tests/integration/dropin.test.mjs \
	tests/integration/fidelity.test.mjs \
	tests/integration/fidelity-demo.test.mjs \
	tests/integration/foundation.test.mjs \
	tests/integration/fcgi-auth.test.mjs \
	tests/integration/fcgi-todo.test.mjs \
	tests/integration/fcgi-admin.test.mjs \
	tests/integration/fcgi-run.test.mjs \
	tests/integration/fcgi-apache.test.mjs \
	tests/integration/fcgi-fcgid.test.mjs \
	tests/integration/fcgi-keepconn.test.mjs \
	tests/integration/fcgi-broadcast.test.mjs \
	tests/integration/daemon-core.test.mjs \
	tests/integration/daemon-bus.test.mjs \
	tests/integration/daemon-ops.test.mjs \
	tests/integration/writepath.test.mjs \
	tests/integration/daemon-service.test.mjs \
	tests/integration/units.test.mjs \
	tests/integration/metrics.test.mjs \
	tests/integration/bootstrap.test.mjs \
	tests/integration/scale.test.mjs \
	tests/integration/stats-cluster.test.mjs \
	tests/integration/torture.test.mjs \
	tests/integration/torture-tls.test.mjs \
	tests/integration/lwscheck.test.mjs \
	tests/integration/direct-tls.test.mjs \
	tests/integration/browser-direct.test.mjs \
	tests/integration/health.test.mjs \
	tests/integration/security.test.mjs \
	tests/integration/security-rest.test.mjs \
	tests/integration/faults.test.mjs \
	tests/integration/catchup.test.mjs \
	tests/integration/burst.test.mjs \
	tests/integration/abuse.test.mjs \
	tests/integration/demo.test.mjs \
	tests/integration/chaos.test.mjs \
	tests/integration/publish-sql.test.mjs \
	tests/integration/pubgroup.test.mjs \
	tests/integration/reader.test.mjs \
	tests/integration/conntoken.test.mjs \
	tests/integration/proxyauth.test.mjs \
	tests/integration/module-upgrade.test.mjs \
	tests/integration/example-php.test.mjs \
	tests/integration/bench-clients.test.mjs
TESTS += $(INTEGRATION_TESTS)
TEST_EXTENSIONS = .mjs .sh
SH_LOG_COMPILER = $(SHELL)
MJS_LOG_COMPILER = $(NODE)
# A hung test fails after 5 minutes instead of stalling the whole suite
# (30 under valgrind: check-valgrind).
MJS_TEST_TIMEOUT = 300000
AM_MJS_LOG_FLAGS = --experimental-websocket --no-warnings --test --test-reporter=spec \
	--test-timeout=$(MJS_TEST_TIMEOUT) --test-force-exit
AM_TESTS_ENVIRONMENT = \
	WSPULSE_BUILDDIR='$(abs_top_builddir)'; WSPULSE_SRCDIR='$(abs_top_srcdir)'; \
	PG_BINDIR='$(PG_BINDIR)'; NGINX='$(NGINX)'; WSPULSE_NODE_MODULES='$(WSPULSE_NODE_MODULES)'; \
	export WSPULSE_BUILDDIR WSPULSE_SRCDIR PG_BINDIR NGINX WSPULSE_NODE_MODULES;
# What the browser tests save (lib/browser.mjs screenshotPath); the shell
# expands the pattern in `rm -f $(CLEANFILES)`, so a new screenshot is
# covered too.
CLEANFILES += tests/screenshots/*.png
EXTRA_DIST += $(INTEGRATION_TESTS) \
	tests/integration/lib/stack.mjs \
	tests/integration/lib/chaos.mjs tests/integration/chaos.mjs \
	tests/integration/lib/rawclient.mjs \
	tests/integration/lib/browser.mjs tests/package.json tests/package-lock.json

EXTRA_DIST += tests/integration/lib/rawws.mjs tests/integration/lib/torture-suite.mjs

# `make distcheck` builds and tests the unpacked tarball, which has no
# node_modules: its tests use the source tree's (browser.mjs), unless
# WSPULSE_NODE_MODULES was given to configure.
AM_DISTCHECK_CONFIGURE_FLAGS = \
	WSPULSE_NODE_MODULES='$(or $(WSPULSE_NODE_MODULES),$(abs_top_srcdir)/tests/node_modules)'

# `make check-valgrind`: the integration tests with wspulsed and wspulse.fcgi
# under valgrind memcheck (tests/integration/lib/stack.mjs reads
# WSPULSE_VALGRIND).  Needs a build without --enable-asan.
check-valgrind: all $(check_PROGRAMS)
	@case '$(WSP_CFLAGS)' in *-fsanitize=*) \
	  echo "check-valgrind: this build uses --enable-asan; valgrind needs a plain build (configure without it)" >&2; exit 1;; esac
	@command -v valgrind >/dev/null || { echo "check-valgrind: valgrind not found (apt-get install valgrind)" >&2; exit 1; }
	WSPULSE_VALGRIND=1 WSPULSE_VALGRIND_SUPP='$(abs_top_srcdir)/tests/valgrind.supp' \
	  $(MAKE) $(AM_MAKEFLAGS) check-TESTS TESTS='$(INTEGRATION_TESTS)' MJS_TEST_TIMEOUT=1800000
.PHONY: check-valgrind
EXTRA_DIST += tests/valgrind.supp

# Test tools and modules used by the daemon's integration tests.
check_PROGRAMS += tests/tools/wsp-mint-session
tests_tools_wsp_mint_session_SOURCES = tests/tools/wsp-mint-session.c
tests_tools_wsp_mint_session_LDADD = src/libwspcore.la
check_LTLIBRARIES += tests/modules/test-module.la tests/modules/broken-module.la \
	tests/modules/gate-module.la tests/modules/v1-module.la tests/modules/future-module.la
tests_modules_test_module_la_SOURCES = tests/modules/test-module.c
tests_modules_test_module_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_modules_test_module_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere
tests_modules_broken_module_la_SOURCES = tests/modules/broken-module.c
tests_modules_broken_module_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere
tests_modules_gate_module_la_SOURCES = tests/modules/gate-module.c
tests_modules_gate_module_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_modules_gate_module_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere
tests_modules_v1_module_la_SOURCES = tests/modules/v1-module.c
tests_modules_v1_module_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere
tests_modules_future_module_la_SOURCES = tests/modules/future-module.c
tests_modules_future_module_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere

# `make chaos`: the fault drill for CHAOS_SECONDS (default 600) of faults;
# a short run is tests/integration/chaos.test.mjs in `make check`.
chaos: all $(check_PROGRAMS)
	$(AM_TESTS_ENVIRONMENT) CHAOS_SECONDS=$${CHAOS_SECONDS:-600}; export CHAOS_SECONDS; \
	$(NODE) --experimental-websocket --no-warnings $(srcdir)/tests/integration/chaos.mjs
.PHONY: chaos
