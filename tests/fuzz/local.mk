# libFuzzer targets for every parser that reads outside bytes (issue 8).
# `make fuzz` builds them with $(FUZZ_CC) (clang, found by configure) and
# runs each for FUZZ_SECONDS (default 60) starting from the seed corpus in
# tests/fuzz/corpus/<target>/.  New interesting inputs go to
# tests/fuzz/work/<target>/ in the build tree (the seeds stay small); a crash
# leaves tests/fuzz/crash-<target>-* and makes `make fuzz` fail.
#
# The targets are not built by `make all` or `make check`: they need clang,
# and the project's own sources are compiled again with coverage
# instrumentation into tests/fuzz/obj/ (independent of CC and --enable-asan).
FUZZ_TARGETS = config token envelope handshake rest frameguard json conntoken
FUZZ_SECONDS = 60
FUZZ_FLAGS = -timeout=10 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1
FUZZ_SANITIZE = -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS = -g -O1 -fno-omit-frame-pointer $(FUZZ_SANITIZE)
FUZZ_CPPFLAGS = $(DEFS) $(DEFAULT_INCLUDES) $(AM_CPPFLAGS) -I$(top_srcdir) -I$(srcdir)/tests/fuzz \
	$(JANSSON_CFLAGS) $(CRYPTO_CFLAGS) $(PQ_CFLAGS) $(XCRYPT_CFLAGS)
FUZZ_LIBS = $(JANSSON_LIBS) $(CRYPTO_LIBS) $(PQ_LIBS) $(XCRYPT_LIBS) -lm -pthread
# The code under test: the core library and the pure modules of both programs.
FUZZ_LIB_SRCS = $(filter %.c,$(src_libwspcore_la_SOURCES) $(src_libwspd_la_SOURCES) \
	$(fcgi_libwspfcgi_la_SOURCES))
FUZZ_LIB_OBJECTS = $(patsubst %.c,tests/fuzz/obj/%.o,$(FUZZ_LIB_SRCS))
FUZZ_BINS = $(patsubst %,tests/fuzz/fuzz_%,$(FUZZ_TARGETS))

EXTRA_DIST += tests/fuzz/fuzz.h $(patsubst %,tests/fuzz/fuzz_%.c,$(FUZZ_TARGETS)) \
	tests/fuzz/corpus

tests/fuzz/obj/%.o: %.c
	@$(MKDIR_P) $(@D)
	$(AM_V_CC)$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

tests/fuzz/libfuzzcore.a: $(FUZZ_LIB_OBJECTS)
	$(AM_V_AR)rm -f $@ && $(AR) cr $@ $(FUZZ_LIB_OBJECTS)

tests/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h tests/fuzz/libfuzzcore.a
	$(AM_V_CCLD)$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer \
		$< tests/fuzz/libfuzzcore.a $(FUZZ_LIBS) -o $@

fuzz-cc:
	@if test "x$(FUZZ_CC)" = xno || test -z "$(FUZZ_CC)"; then \
	  echo "make fuzz: configure found no clang with libFuzzer (-fsanitize=fuzzer)." >&2; \
	  echo "make fuzz: on Debian: apt-get install clang libclang-rt-14-dev, then run configure again" >&2; \
	  echo "make fuzz: (or point it at one: ./configure FUZZ_CC=/path/to/clang)" >&2; \
	  exit 1; \
	fi

fuzz-build: fuzz-cc
	@$(MAKE) $(AM_MAKEFLAGS) $(FUZZ_BINS)

# Run every target for FUZZ_SECONDS; all of them run even when one fails.
fuzz: fuzz-build
	@fail=; for t in $(FUZZ_TARGETS); do \
	  $(MKDIR_P) tests/fuzz/work/$$t; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	  if tests/fuzz/fuzz_$$t $(FUZZ_FLAGS) -max_total_time=$(FUZZ_SECONDS) \
	       -artifact_prefix=tests/fuzz/crash-$$t- \
	       tests/fuzz/work/$$t $(srcdir)/tests/fuzz/corpus/$$t >tests/fuzz/fuzz_$$t.out 2>&1; then \
	    grep -E '^stat::number_of_executed_units|^Done ' tests/fuzz/fuzz_$$t.out | sed "s/^/fuzz: $$t: /"; \
	  else \
	    fail="$$fail $$t"; tail -n 60 tests/fuzz/fuzz_$$t.out; \
	    echo "fuzz: $$t FAILED (reproducer: tests/fuzz/crash-$$t-*; log tests/fuzz/fuzz_$$t.out)"; \
	  fi; \
	done; \
	if test -n "$$fail"; then echo "fuzz: failed:$$fail"; exit 1; fi; \
	echo "fuzz: all $(words $(FUZZ_TARGETS)) targets clean"

# Replay the seed corpus (and anything fuzzing found) without mutating:
# a quick regression check.
fuzz-replay: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	  tests/fuzz/fuzz_$$t -runs=0 $(srcdir)/tests/fuzz/corpus/$$t \
	    `test -d tests/fuzz/work/$$t && echo tests/fuzz/work/$$t` >tests/fuzz/fuzz_$$t.out 2>&1 \
	    || { tail -n 60 tests/fuzz/fuzz_$$t.out; exit 1; }; \
	done; echo "fuzz-replay: all seeds pass"

fuzz-clean:
	rm -rf tests/fuzz/obj tests/fuzz/work tests/fuzz/libfuzzcore.a $(FUZZ_BINS) \
		tests/fuzz/fuzz_*.out tests/fuzz/crash-*
clean-local: fuzz-clean

.PHONY: fuzz fuzz-cc fuzz-build fuzz-replay fuzz-clean
