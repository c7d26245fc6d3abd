# nginx snippets, installed under $(pkgdatadir)/nginx.
nginxdir = $(pkgdatadir)/nginx
dist_nginx_DATA = nginx/wspulse.conf nginx/wspulse-log.conf
nginx_DATA = nginx/wspulse-site.conf nginx/wspulse-upstream.conf
EXTRA_DIST += nginx/wspulse-site.conf.in nginx/wspulse-upstream.conf.in
CLEANFILES += nginx/wspulse-site.conf nginx/wspulse-upstream.conf

nginx/wspulse-site.conf: $(top_srcdir)/nginx/wspulse-site.conf.in Makefile
	$(AM_V_GEN)$(MKDIR_P) nginx && $(SED) -e 's|@pkgdatadir[@]|$(pkgdatadir)|g' $< > $@
nginx/wspulse-upstream.conf: $(top_srcdir)/nginx/wspulse-upstream.conf.in Makefile
	$(AM_V_GEN)$(MKDIR_P) nginx && $(SED) -e 's|@pkgdatadir[@]|$(pkgdatadir)|g' $< > $@
