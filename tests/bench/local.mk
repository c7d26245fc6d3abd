# Benchmark harness (issue 7): `make bench`. Not part of `make check` or `make all`:
# the load generator is an EXTRA_PROGRAM, built only when bench asks for it.
EXTRA_PROGRAMS += tests/bench/loadgen
tests_bench_loadgen_SOURCES = tests/bench/loadgen.c
tests_bench_loadgen_CFLAGS = $(AM_CFLAGS) $(SSL_CFLAGS)
tests_bench_loadgen_LDADD = $(SSL_LIBS) $(CRYPTO_LIBS) -lm

EXTRA_DIST += BENCHMARKS.md tests/bench/run.mjs tests/bench/ws-server.mjs tests/bench/wsclient.mjs tests/bench/presence-storm.mjs tests/bench/pubrate.mjs \
	tests/bench/package.json tests/bench/package-lock.json
CLEANFILES += tests/bench/loadgen$(EXEEXT) bench-results.json

# BENCH_QUICK=1 make bench   → a ~2 minute smoke run; see BENCHMARKS.md for the other knobs.
bench: all tests/bench/loadgen$(EXEEXT)
	BENCH_BUILDDIR='$(abs_top_builddir)' BENCH_SRCDIR='$(abs_top_srcdir)' \
	PG_BINDIR='$(PG_BINDIR)' NGINX='$(NGINX)' \
	$(NODE) $(srcdir)/tests/bench/run.mjs --loadgen '$(abs_builddir)/tests/bench/loadgen$(EXEEXT)' \
		--out '$(abs_builddir)/bench-results.json'
.PHONY: bench
