# The core library shared by every program (pure logic + the blocking db
# module), the daemon, the admin tool and the public module header.
noinst_LTLIBRARIES += src/libwspcore.la
src_libwspcore_la_SOURCES = \
	src/alloc.c src/alloc.h \
	src/b64url.c src/b64url.h \
	src/cidr.c src/cidr.h \
	src/conf.c src/conf.h \
	src/conntoken.c src/conntoken.h \
	src/db.c src/db.h \
	src/error.c src/error.h \
	src/presence.h \
	src/json.c src/json.h \
	src/log.c src/log.h \
	src/notify.c src/notify.h \
	src/password.c src/password.h \
	src/secret.c src/secret.h \
	src/token.c src/token.h
src_libwspcore_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(PQ_CFLAGS) $(CRYPTO_CFLAGS) $(XCRYPT_CFLAGS)
src_libwspcore_la_LIBADD = $(JANSSON_LIBS) $(PQ_LIBS) $(CRYPTO_LIBS) $(XCRYPT_LIBS) $(PTHREAD_LIBS)

include src/daemon/local.mk
include src/modules/local.mk

sbin_PROGRAMS += src/wspulsed
src_wspulsed_SOURCES = \
	src/daemon/main.c src/daemon/daemon.h \
	src/daemon/server.c src/daemon/client.c src/daemon/relay.c \
	src/daemon/bus.c src/daemon/bus.h src/daemon/proto.c \
	src/daemon/builtin.c src/daemon/modules.c src/daemon/presence.c \
	src/daemon/workers.c src/daemon/workers.h src/daemon/history.c \
	src/daemon/reload.c src/daemon/reload.h \
	src/daemon/rxhook.c src/daemon/rxhook.h \
	src/daemon/tls.c src/daemon/tls.h \
	src/daemon/evtimer.c src/daemon/evtimer.h \
	src/daemon/lwscheck.c src/daemon/lwscheck.h \
	src/daemon/reader.c src/daemon/reader.h
src_wspulsed_CFLAGS = $(AM_CFLAGS) $(LWS_CFLAGS) $(JANSSON_CFLAGS) $(PQ_CFLAGS) $(SSL_CFLAGS)
src_wspulsed_LDADD = src/libwspd.la src/libwspcore.la $(LWS_LIBS) $(EV_LIBS) $(JANSSON_LIBS) $(PQ_LIBS) $(SSL_LIBS) $(DL_LIBS) $(PTHREAD_LIBS)
# Modules loaded with dlopen() resolve the wsp_* API from the executable,
# and lws/libev must bind to the daemon's recv/SSL_read/ev_timer_start: the
# executable exports exactly those (wspulsed.dynlist), nothing else
# (tests/abi/check-exports.sh checks it against wspulse.h).
src_wspulsed_LDFLAGS = $(AM_LDFLAGS) -Wl,--dynamic-list=$(top_srcdir)/src/daemon/wspulsed.dynlist
EXTRA_src_wspulsed_DEPENDENCIES = $(top_srcdir)/src/daemon/wspulsed.dynlist
EXTRA_DIST += src/daemon/wspulsed.dynlist

bin_PROGRAMS += src/wspulse-admin
src_wspulse_admin_SOURCES = src/admin/wspulse-admin.c
src_wspulse_admin_LDADD = src/libwspcore.la

wspulseincludedir = $(includedir)/wspulse
wspulseinclude_HEADERS = src/wspulse/wspulse.h

pkgconfigdir = $(libdir)/pkgconfig
pkgconfig_DATA = src/wspulse.pc
