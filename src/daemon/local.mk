# wspulsed.  The pure parts (no lws, no libpq) live in libwspd.la so the
# CUnit tests link exactly the code the daemon runs.
noinst_LTLIBRARIES += src/libwspd.la
src_libwspd_la_SOURCES = \
	src/daemon/access.c src/daemon/access.h \
	src/daemon/backlog.c src/daemon/backlog.h \
	src/daemon/envelope.c src/daemon/envelope.h \
	src/daemon/frameguard.c src/daemon/frameguard.h \
	src/daemon/hsrules.c src/daemon/hsrules.h \
	src/daemon/idwin.c src/daemon/idwin.h \
	src/daemon/metrics.c src/daemon/metrics.h \
	src/daemon/msgq.c src/daemon/msgq.h \
	src/daemon/nsreg.c src/daemon/nsreg.h \
	src/daemon/query.c src/daemon/query.h \
	src/daemon/rate.c src/daemon/rate.h \
	src/daemon/reasm.c src/daemon/reasm.h \
	src/daemon/room.c src/daemon/room.h \
	src/daemon/stats.c src/daemon/stats.h \
	src/daemon/strmap.c src/daemon/strmap.h \
	src/daemon/uuid.c src/daemon/uuid.h \
	src/daemon/wsframe.c src/daemon/wsframe.h
src_libwspd_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
src_libwspd_la_LIBADD = src/libwspcore.la $(JANSSON_LIBS) -lm
