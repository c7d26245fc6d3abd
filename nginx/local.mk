# nginx snippets, installed under $(pkgdatadir)/nginx.
nginxdir = $(pkgdatadir)/nginx
dist_nginx_DATA = nginx/wspulse.conf nginx/wspulse-upstream.conf
nginx_DATA = nginx/wspulse-site.conf
EXTRA_DIST += nginx/wspulse-site.conf.in
CLEANFILES += nginx/wspulse-site.conf

nginx/wspulse-site.conf: $(top_srcdir)/nginx/wspulse-site.conf.in Makefile
	$(AM_V_GEN)$(MKDIR_P) nginx && $(SED) -e 's|@pkgdatadir[@]|$(pkgdatadir)|g' $< > $@
