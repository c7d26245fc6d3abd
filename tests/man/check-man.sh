#!/bin/sh
# check-man.sh - the man pages as `make install` installs them (man/*.[1-8],
# built from man/*.in with configure's paths):
#   1. each renders with man-db and groff warnings enabled, and prints nothing
#      on stderr (a bad macro, an unknown escape, a line that cannot be broken);
#   2. no @placeholder@ is left unsubstituted;
#   3. each program answers --help and --version (exit 0, on stdout);
#   4. wspulse.conf(5) documents exactly the keys of the table in src/conf.c:
#      every key there has a `.BI key` entry under KEYS, and no entry names a
#      key the code does not have;
#   5. README.md's configuration table has a row for exactly those keys too.
# Run by `make check` with WSPULSE_BUILDDIR/WSPULSE_SRCDIR set.
set -u
builddir=${WSPULSE_BUILDDIR:-.}
srcdir=${WSPULSE_SRCDIR:-$builddir}
pages="wspulsed.8 wspulse.fcgi.8 wspulse-admin.1 wspulse.conf.5 wspulse.3"
fail=0

command -v man >/dev/null || { echo "check-man: man not found (apt-get install man-db)" >&2; exit 1; }
for p in $pages; do
    f=$builddir/man/$p
    if [ ! -s "$f" ]; then echo "FAIL: $f missing (make all builds it)"; fail=1; continue; fi
    out=$(MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l -E UTF-8 "$f" 2>&1 >/dev/null)
    if [ -n "$out" ]; then
        echo "FAIL: $p: man --warnings printed:"; echo "$out" | sed 's/^/    /'; fail=1
    else
        echo "ok: $p renders without warnings"
    fi
    if grep -n '@[A-Za-z_]*@' "$f"; then echo "FAIL: $p: unsubstituted placeholder above"; fail=1; fi
done

# Each program answers the --help and --version its page documents, on
# stdout with exit status 0.
for prog in src/wspulsed fcgi/wspulse.fcgi src/wspulse-admin; do
    for opt in --help --version; do
        if ! out=$("$builddir/$prog" $opt 2>/dev/null) || [ -z "$out" ]; then
            echo "FAIL: $prog $opt: no output on stdout or a non-zero exit status"; fail=1
        fi
    done
done

# The keys of the code: the first string of each row of `keys[]` in src/conf.c.
code_keys=$(sed -n '/^static const struct key keys\[\] = {/,/^};/p' "$srcdir/src/conf.c" |
    sed -n 's/^[[:space:]]*{ *"\([a-z_0-9]*\)",.*/\1/p' | sort)
# The keys of the page: `.BI key " value"` entries of the KEYS section.
man_keys=$(sed -n '/^\.SH KEYS/,/^\.SH [^K]/p' "$builddir/man/wspulse.conf.5" |
    sed -n 's/^\.BI \([a-z_0-9]*\) .*/\1/p' | sort)
if [ "$(echo "$code_keys" | wc -w)" -lt 10 ]; then
    echo "FAIL: found only $(echo "$code_keys" | wc -w) keys in src/conf.c: has the table moved?"; fail=1
fi
missing=$(echo "$code_keys" | comm -23 - "$(printf '%s\n' "$man_keys" > "$builddir/man/.keys"; echo "$builddir/man/.keys")")
extra=$(echo "$code_keys" | comm -13 - "$builddir/man/.keys")
rm -f "$builddir/man/.keys"
for k in $missing; do echo "FAIL: key '$k' (src/conf.c) is not documented in man/wspulse.conf.5.in"; fail=1; done
for k in $extra; do echo "FAIL: wspulse.conf(5) documents '$k', which src/conf.c does not have"; fail=1; done
[ -z "$missing$extra" ] && echo "ok: wspulse.conf(5) documents the $(echo "$code_keys" | wc -w) keys of src/conf.c"

# README's "## Configuration" table: a row "| `key` | default | meaning |" per key.
readme_keys=$(sed -n '/^## Configuration/,/^## [^C]/p' "$srcdir/README.md" |
    sed -n 's/^| `\([a-z_0-9]*\)` |.*/\1/p' | sort)
rmissing=$(for k in $code_keys; do echo "$readme_keys" | grep -qx "$k" || echo "$k"; done)
rextra=$(for k in $readme_keys; do echo "$code_keys" | grep -qx "$k" || echo "$k"; done)
for k in $rmissing; do echo "FAIL: key '$k' (src/conf.c) has no row in README.md's Configuration table"; fail=1; done
for k in $rextra; do echo "FAIL: README.md's Configuration table has '$k', which src/conf.c does not have"; fail=1; done
[ -z "$rmissing$rextra" ] && echo "ok: README.md's Configuration table has the $(echo "$code_keys" | wc -w) keys of src/conf.c"
exit $fail
