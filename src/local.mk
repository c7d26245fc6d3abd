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
	src/outbox.c src/outbox.h \
	src/nspaths.h \
	src/presence.h \
	src/statsrow.c src/statsrow.h \
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
	src/daemon/main.c \
	src/daemon/accept.c src/daemon/accept.h \
	src/daemon/api.c \
	src/daemon/builtin.c src/daemon/builtin.h \
	src/daemon/bus.c src/daemon/bus.h \
	src/daemon/client.c src/daemon/client.h \
	src/daemon/conn.c src/daemon/conn.h \
	src/daemon/clock.c src/daemon/clock.h \
	src/daemon/cursor.c src/daemon/cursor.h \
	src/daemon/delivery.c src/daemon/delivery.h \
	src/daemon/evtimer.c src/daemon/evtimer.h \
	src/daemon/handshake.c src/daemon/handshake.h \
	src/daemon/history.c src/daemon/history.h \
	src/daemon/listener.c src/daemon/listener.h \
	src/daemon/lwscheck.c src/daemon/lwscheck.h \
	src/daemon/memtrim.c src/daemon/memtrim.h \
	src/daemon/modules.c src/daemon/modules.h \
	src/daemon/peeraddr.c src/daemon/peeraddr.h \
	src/daemon/pingpong.c src/daemon/pingpong.h \
	src/daemon/presence.c src/daemon/presence.h \
	src/daemon/proto.c src/daemon/proto.h \
	src/daemon/prune.c src/daemon/prune.h \
	src/daemon/reader.c src/daemon/reader.h \
	src/daemon/relay.c src/daemon/relay.h \
	src/daemon/reload.c src/daemon/reload.h \
	src/daemon/rxhook.c src/daemon/rxhook.h \
	src/daemon/server.c src/daemon/server.h \
	src/daemon/sessions.c src/daemon/sessions.h \
	src/daemon/shutdown.c src/daemon/shutdown.h \
	src/daemon/snapshot.c src/daemon/snapshot.h \
	src/daemon/supervisor.c src/daemon/supervisor.h \
	src/daemon/timeq.c src/daemon/timeq.h \
	src/daemon/tls.c src/daemon/tls.h \
	src/daemon/uring.c src/daemon/uring.h
src_wspulsed_CFLAGS = $(AM_CFLAGS) $(LWS_CFLAGS) $(JANSSON_CFLAGS) $(PQ_CFLAGS) $(SSL_CFLAGS) $(URING_CFLAGS)
src_wspulsed_LDADD = src/libwspd.la src/libwspcore.la $(LWS_LIBS) $(EV_LIBS) $(JANSSON_LIBS) $(PQ_LIBS) $(SSL_LIBS) $(URING_LIBS) $(DL_LIBS) $(PTHREAD_LIBS)
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
