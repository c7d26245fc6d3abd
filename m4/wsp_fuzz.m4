# WSP_CHECK_LIBFUZZER
# -------------------
# Set and substitute FUZZ_CC: a clang that compiles and links
# -fsanitize=fuzzer,address,undefined (Debian: clang + libclang-rt-14-dev),
# or "no".  `make fuzz` builds the tests/fuzz targets with it and says what
# to install when it is "no".
AC_DEFUN([WSP_CHECK_LIBFUZZER], [
  AC_ARG_VAR([FUZZ_CC], [clang with libFuzzer for make fuzz (default: clang or clang-14 on PATH)])
  AC_PATH_PROGS([FUZZ_CC], [clang clang-14], [no])
  AS_IF([test "x$FUZZ_CC" != xno], [
    AC_MSG_CHECKING([whether $FUZZ_CC links -fsanitize=fuzzer,address,undefined])
    cat > conftest-fuzz.c <<_WSPEOF
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return n > 2 && *d == 'x' ? 0 : 0; }
_WSPEOF
    AS_IF([$FUZZ_CC -fsanitize=fuzzer,address,undefined conftest-fuzz.c -o conftest-fuzz$EXEEXT >&AS_MESSAGE_LOG_FD 2>&1],
      [AC_MSG_RESULT([yes])],
      [AC_MSG_RESULT([no]); FUZZ_CC=no])
    rm -f conftest-fuzz.c conftest-fuzz$EXEEXT])
  AS_IF([test "x$FUZZ_CC" = xno],
    [AC_MSG_WARN([no clang with libFuzzer: make fuzz will not run (apt-get install clang libclang-rt-14-dev)])])
])
