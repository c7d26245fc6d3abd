#!/bin/sh
# check-exports.sh - wspulsed exports exactly its module API and the symbols
# it deliberately interposes, nothing else (no wsp__ internals, no test
# hooks, no core-library functions a module could start depending on).
#   1. `nm -D --defined-only` of the built daemon, minus the copies of
#      libc's data objects the linker makes in any executable (stderr@GLIBC_x,
#      optarg@GLIBC_x: versioned names) and, only in a sanitizer build, the
#      sanitizer runtimes' own __asan_/__ubsan_/__lsan_/__sanitizer_ names;
#   2. must equal the functions declared in src/wspulse/wspulse.h (comments
#      stripped; wsp_module_init is the module's) plus the interposed
#      recv, SSL_read, ev_timer_start (src/daemon/rxhook.c, evtimer.c);
#   3. and src/daemon/wspulsed.dynlist, which the link uses, must list the
#      same names (so a new API function cannot be forgotten there).
# Run by `make check` with WSPULSE_BUILDDIR/WSPULSE_SRCDIR set.
set -u
builddir=${WSPULSE_BUILDDIR:-.}
srcdir=${WSPULSE_SRCDIR:-$builddir}
bin=$builddir/src/wspulsed
# libtool may leave a wrapper script in src/ and the real program in .libs.
[ -f "$builddir/src/.libs/wspulsed" ] && bin=$builddir/src/.libs/wspulsed
header=$srcdir/src/wspulse/wspulse.h
dynlist=$srcdir/src/daemon/wspulsed.dynlist
interposed="recv SSL_read ev_timer_start"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0

command -v nm >/dev/null || { echo "check-exports: nm not found (apt-get install binutils)" >&2; exit 1; }
command -v perl >/dev/null || { echo "check-exports: perl not found" >&2; exit 1; }
[ -f "$bin" ] || { echo "FAIL: $bin missing (make all builds it)"; exit 1; }

# A sanitizer build links runtimes that may export their own interface.
sanitizer=
if nm -D "$bin" | grep -q ' U __\(asan\|ubsan\)_'; then sanitizer=yes; fi

nm -D --defined-only "$bin" | awk '{print $NF}' | grep -v '@' |
    if [ -n "$sanitizer" ]; then grep -v '^__\(asan\|ubsan\|lsan\|sanitizer\)_'; else cat; fi |
    sort -u >"$tmp/exported"

{ perl -0777 -ne 's{/\*.*?\*/}{}gs; s{//[^\n]*}{}g;
      while (/\b(wsp_[A-Za-z0-9_]+)\s*\(/g) { print "$1\n" unless $1 eq "wsp_module_init" }' "$header"
  for s in $interposed; do echo "$s"; done; } | sort -u >"$tmp/expected"

perl -0777 -ne 's{/\*.*?\*/}{}gs; while (/([A-Za-z_][A-Za-z0-9_]*)\s*;/g) { print "$1\n" }' "$dynlist" |
    sort -u >"$tmp/listed"

if [ "$(wc -l <"$tmp/expected")" -lt 20 ]; then
    echo "FAIL: found only $(wc -l <"$tmp/expected") names in $header (parser broken?)"; fail=1
fi
if cmp -s "$tmp/exported" "$tmp/expected"; then
    echo "ok: wspulsed exports exactly the $(wc -l <"$tmp/expected") functions of wspulse.h and the interposed $interposed"
else
    echo "FAIL: wspulsed's exports differ from wspulse.h + interposed ('<' exported only, '>' expected only):"
    diff "$tmp/exported" "$tmp/expected" | grep '^[<>]' | sed 's/^/    /'
    fail=1
fi
if cmp -s "$tmp/listed" "$tmp/expected"; then
    echo "ok: src/daemon/wspulsed.dynlist lists the same names"
else
    echo "FAIL: src/daemon/wspulsed.dynlist differs from wspulse.h + interposed ('<' listed only, '>' expected only):"
    diff "$tmp/listed" "$tmp/expected" | grep '^[<>]' | sed 's/^/    /'
    fail=1
fi
exit $fail
