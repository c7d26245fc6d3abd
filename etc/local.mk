# The example configuration, installed as $(sysconfdir)/wspulse/wspulse.conf.example,
# and systemd units under $(pkgdatadir)/systemd (copy them to /etc/systemd/system).
# Its paths come from configure (--sysconfdir, --libdir), like the units'.
wspulseconfdir = $(sysconfdir)/wspulse
wspulseconf_DATA = etc/wspulse.conf.example
EXTRA_DIST += etc/wspulse.conf.example.in
CLEANFILES += etc/wspulse.conf.example

etc/wspulse.conf.example: $(top_srcdir)/etc/wspulse.conf.example.in Makefile
	$(AM_V_GEN)$(MKDIR_P) etc && $(SED) -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
		-e 's|@pkglibdir[@]|$(pkglibdir)|g' $< > $@

systemddir = $(pkgdatadir)/systemd
systemd_DATA = etc/systemd/wspulsed.service etc/systemd/wspulsed@.service etc/systemd/wspulse-fcgi.service
EXTRA_DIST += etc/systemd/wspulsed.service.in etc/systemd/wspulsed@.service.in etc/systemd/wspulse-fcgi.service.in
CLEANFILES += $(systemd_DATA)

etc/systemd/%.service: $(top_srcdir)/etc/systemd/%.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) etc/systemd && $(SED) -e 's|@sbindir[@]|$(sbindir)|g' \
		-e 's|@bindir[@]|$(bindir)|g' -e 's|@sysconfdir[@]|$(sysconfdir)|g' $< > $@
