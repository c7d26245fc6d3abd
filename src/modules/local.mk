# The example site module, installed to $(pkglibdir) (load it with
# `modules = $(pkglibdir)/example-chat.so`).
pkglib_LTLIBRARIES += src/modules/example-chat.la
src_modules_example_chat_la_SOURCES = src/modules/example-chat.c
src_modules_example_chat_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
src_modules_example_chat_la_LDFLAGS = -module -avoid-version -shared
