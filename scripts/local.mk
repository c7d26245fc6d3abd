# `make demo`: the whole stack on loopback (see scripts/demo.sh).
EXTRA_DIST += scripts/demo.sh scripts/wspulse-pg.sh scripts/install-deps.sh

demo: all
	WSPULSE_BUILDDIR='$(abs_top_builddir)' WSPULSE_SRCDIR='$(abs_top_srcdir)' \
	WSPULSE_WWW_FILES='$(filter www/%,$(nobase_dist_pkgdata_DATA))' \
	PG_BINDIR='$(PG_BINDIR)' $(SHELL) $(top_srcdir)/scripts/demo.sh
.PHONY: demo
