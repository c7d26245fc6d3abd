# wspulse.fcgi, the REST side.  The pure parts (no FastCGI, no libpq) form a
# convenience library the unit tests link too; the stats sum is the daemon's
# own (src/libwspd.la), so REST and live pushes agree.
noinst_LTLIBRARIES += fcgi/libwspfcgi.la
fcgi_libwspfcgi_la_SOURCES = \
	fcgi/admin_page.c fcgi/admin_page.h \
	fcgi/buf.c fcgi/buf.h \
	fcgi/html.c fcgi/html.h \
	fcgi/request.c fcgi/request.h \
	fcgi/response.c fcgi/response.h \
	fcgi/router.c fcgi/router.h \
	fcgi/validate.c fcgi/validate.h
fcgi_libwspfcgi_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
fcgi_libwspfcgi_la_LIBADD = src/libwspcore.la $(JANSSON_LIBS)

bin_PROGRAMS += fcgi/wspulse.fcgi
fcgi_wspulse_fcgi_SOURCES = \
	fcgi/main.c \
	fcgi/app.c fcgi/app.h \
	fcgi/reload.c fcgi/reload.h \
	fcgi/pubgroup.c fcgi/pubgroup.h \
	fcgi/connpool.c fcgi/connpool.h \
	fcgi/handlers.h fcgi/routes.c \
	fcgi/h_admin.c fcgi/h_auth.c fcgi/h_metrics.c fcgi/h_presence.c fcgi/h_publish.c fcgi/h_stats.c fcgi/h_todo.c \
	fcgi/stats_load.h
fcgi_wspulse_fcgi_CFLAGS = $(AM_CFLAGS) $(FCGI_CFLAGS) $(JANSSON_CFLAGS)
fcgi_wspulse_fcgi_LDADD = fcgi/libwspfcgi.la src/libwspd.la src/libwspcore.la $(FCGI_LIBS) $(JANSSON_LIBS) $(PTHREAD_LIBS)
