#!/bin/sh
# check-include-cycles.sh - the daemon's modules call each other one way only.
#
# Derives the module graph of src/daemon from the sources: module X (X.c and
# X.h) depends on module Y when X.c or X.h includes "daemon/Y.h" (or "Y.h",
# which the compiler resolves in the same folder first).  Fails when
#   1. the graph has a cycle (tsort(1) finds it; the modules on the loop are
#      printed), or
#   2. a header of src/daemon has no .c of the same name: a hub header that
#      declares several modules' functions would hide their cycles (the old
#      daemon.h), so every header is exactly one module's contract, or
#   3. the graph came out implausibly small (the parsing broke).
# Run by `make check` with WSPULSE_SRCDIR set.
set -u
srcdir=${WSPULSE_SRCDIR:-.}
dir=$srcdir/src/daemon
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0

command -v tsort >/dev/null || { echo "check-include-cycles: tsort not found (coreutils)" >&2; exit 1; }
[ -d "$dir" ] || { echo "FAIL: $dir missing"; exit 1; }

for h in "$dir"/*.h; do
	m=$(basename "$h" .h)
	if [ ! -f "$dir/$m.c" ]; then
		echo "FAIL: src/daemon/$m.h has no $m.c: every daemon header is one module's contract (no hub headers)"
		fail=1
	fi
done

: >"$tmp/edges"
for f in "$dir"/*.c "$dir"/*.h; do
	m=$(basename "$f"); m=${m%.*}
	# Every module is a node, even one that includes no other.
	echo "$m $m" >>"$tmp/edges"
	sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\(daemon\/\)\{0,1\}\([A-Za-z0-9_]*\)\.h".*/\2/p' "$f" |
	while read -r dep; do
		[ "$dep" = "$m" ] && continue
		[ -f "$dir/$dep.h" ] || continue   # a core-library header (log.h, ...)
		echo "$m $dep"
	done >>"$tmp/edges"
done
sort -u "$tmp/edges" >"$tmp/graph"
nedges=$(awk '$1 != $2' "$tmp/graph" | wc -l)
nmods=$(awk '{ print $1 }' "$tmp/graph" | sort -u | wc -l)
if [ "$nedges" -lt 20 ]; then
	echo "FAIL: only $nedges include edges among $nmods modules found: the parsing is broken"
	fail=1
fi
if ! tsort "$tmp/graph" >"$tmp/order" 2>"$tmp/loop"; then
	echo "FAIL: the modules of src/daemon include each other in a cycle:"
	sed 's/^/  /' "$tmp/loop"
	echo "  (a module calls down only; an upward call is a hook the upper module passes in)"
	fail=1
fi
[ $fail -eq 0 ] && echo "ok: $nmods modules, $nedges include edges, no cycle"
exit $fail
