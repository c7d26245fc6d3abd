# Apache snippet, installed under $(pkgdatadir)/apache.
apachedir = $(pkgdatadir)/apache
apache_DATA = apache/wspulse.conf
EXTRA_DIST += apache/wspulse.conf.in
CLEANFILES += apache/wspulse.conf

apache/wspulse.conf: $(top_srcdir)/apache/wspulse.conf.in Makefile
	$(AM_V_GEN)$(MKDIR_P) apache && $(SED) -e 's|@pkgdatadir[@]|$(pkgdatadir)|g' $< > $@
