#!/bin/sh
# check-json-writer.sh - every JSON text wspulse sends is written by
# wsp_json_dump (src/json.h): doubles in their shortest round-trip form
# (40.9, not jansson's "%.17g" 40.899999999999999), the same bytes from the
# daemon and from the REST side.  Fails when a C file of the programs
# (src/, fcgi/) other than src/json.c calls one of jansson's serialisers.
# Run by `make check` with WSPULSE_SRCDIR set.
set -u
srcdir=${WSPULSE_SRCDIR:-.}

for d in src fcgi; do
	[ -d "$srcdir/$d" ] || { echo "FAIL: $srcdir/$d missing"; exit 1; }
done
hits=$(find "$srcdir/src" "$srcdir/fcgi" -name '*.c' ! -path "$srcdir/src/json.c" -exec \
	grep -nE '\bjson_dump(s|b|f|fd|_file|_callback)[[:space:]]*\(' {} + 2>/dev/null)
if [ -n "$hits" ]; then
	echo "FAIL: JSON written with jansson's serialiser instead of wsp_json_dump (src/json.h):"
	echo "$hits"
	exit 1
fi
n=$(find "$srcdir/src" "$srcdir/fcgi" -name '*.c' -exec grep -l 'wsp_json_dump' {} + | wc -l)
if [ "$n" -lt 5 ]; then
	echo "FAIL: only $n files call wsp_json_dump: the search broke"
	exit 1
fi
echo "ok: $n files write JSON through wsp_json_dump, none through jansson's json_dump*"
