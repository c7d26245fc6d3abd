# Man pages, written for the installed paths: configure's directories are
# substituted at build time (see tests/man/check-man.sh for the checks).
man_MANS = man/wspulsed.8 man/wspulse.fcgi.8 man/wspulse-admin.1 man/wspulse.conf.5 man/wspulse.3
EXTRA_DIST += man/wspulsed.8.in man/wspulse.fcgi.8.in man/wspulse-admin.1.in \
	man/wspulse.conf.5.in man/wspulse.3.in
CLEANFILES += $(man_MANS)
# The date in the pages' footer: that of the release (configure.ac's version).
MAN_DATE = 2026-12-01

# Each '/' of a substituted path is followed by \: (a break point that prints
# nothing), so that a long --prefix (make distcheck's) still fits the line.
man_path = $(subst /,/\\:,$(1))

$(man_MANS): man/%: $(top_srcdir)/man/%.in Makefile
	$(AM_V_GEN)$(MKDIR_P) man && $(SED) -e 's|@sbindir[@]|$(call man_path,$(sbindir))|g' \
		-e 's|@bindir[@]|$(call man_path,$(bindir))|g' \
		-e 's|@sysconfdir[@]|$(call man_path,$(sysconfdir))|g' \
		-e 's|@pkgdatadir[@]|$(call man_path,$(pkgdatadir))|g' \
		-e 's|@pkglibdir[@]|$(call man_path,$(pkglibdir))|g' \
		-e 's|@includedir[@]|$(call man_path,$(includedir))|g' \
		-e 's|@libdir[@]|$(call man_path,$(libdir))|g' \
		-e 's|@PACKAGE_VERSION[@]|$(PACKAGE_VERSION)|g' -e 's|@MAN_DATE[@]|$(MAN_DATE)|g' \
		$(top_srcdir)/man/$*.in > $@
