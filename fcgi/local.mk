# wspulse.fcgi, the REST side.
bin_PROGRAMS += fcgi/wspulse.fcgi
fcgi_wspulse_fcgi_SOURCES = fcgi/main.c
fcgi_wspulse_fcgi_CFLAGS = $(AM_CFLAGS) $(FCGI_CFLAGS) $(JANSSON_CFLAGS)
fcgi_wspulse_fcgi_LDADD = src/libwspcore.la $(FCGI_LIBS) $(JANSSON_LIBS) $(PTHREAD_LIBS)
