# Benchmark harness (issue 7): `make bench`, not part of `make check` or `make all`.  The
# two load clients are check programs: `make check` builds them and
# tests/integration/bench-clients.test.mjs runs them against the stack, so they cannot rot.
check_PROGRAMS += tests/bench/loadgen
tests_bench_loadgen_SOURCES = tests/bench/loadgen.c
tests_bench_loadgen_CFLAGS = $(AM_CFLAGS) $(SSL_CFLAGS)
tests_bench_loadgen_LDADD = $(SSL_LIBS) $(CRYPTO_LIBS) -lm
# The second client (issue 18): libwebsockets' client, nothing of loadgen's.
check_PROGRAMS += tests/bench/lwsclient
tests_bench_lwsclient_SOURCES = tests/bench/lwsclient.c
tests_bench_lwsclient_CFLAGS = $(AM_CFLAGS) $(LWS_CFLAGS)
tests_bench_lwsclient_LDADD = $(LWS_LIBS) $(PTHREAD_LIBS) -lm

EXTRA_DIST += BENCHMARKS.md tests/bench/run.mjs tests/bench/ws-server.mjs tests/bench/wsclient.mjs tests/bench/presence-storm.mjs tests/bench/pubrate.mjs \
	tests/bench/package.json tests/bench/package-lock.json
CLEANFILES += bench-results.json

# BENCH_QUICK=1 make bench   → a ~10-minute smoke run; see BENCHMARKS.md for the other knobs.
bench: all tests/bench/loadgen$(EXEEXT) tests/bench/lwsclient$(EXEEXT)
	BENCH_BUILDDIR='$(abs_top_builddir)' BENCH_SRCDIR='$(abs_top_srcdir)' \
	PG_BINDIR='$(PG_BINDIR)' NGINX='$(NGINX)' \
	$(NODE) $(srcdir)/tests/bench/run.mjs --loadgen '$(abs_builddir)/tests/bench/loadgen$(EXEEXT)' \
		--lwsclient '$(abs_builddir)/tests/bench/lwsclient$(EXEEXT)' \
		--out '$(abs_builddir)/bench-results.json'
.PHONY: bench
