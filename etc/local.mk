# The example configuration, installed as $(sysconfdir)/wspulse/wspulse.conf.example.
wspulseconfdir = $(sysconfdir)/wspulse
dist_wspulseconf_DATA = etc/wspulse.conf.example
