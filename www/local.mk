# Browser assets, installed under $(pkgdatadir)/www (keep the list sorted).
nobase_dist_pkgdata_DATA += \
	www/admin/websocket-stats.css \
	www/admin/websocket-stats.js \
	www/hello-websocket/hello-websocket.css \
	www/hello-websocket/hello-websocket.js \
	www/hello-websocket/index.html \
	www/index.html \
	www/jpulse-ws.js \
	www/jpulse-ws.mjs \
	www/login/index.html \
	www/login/login.css \
	www/login/login.js

# Unit tests of the browser code: Node's test runner with a fake WebSocket,
# clock and DOM, no browser (run through MJS_LOG_COMPILER of tests/local.mk).
# `make check-js` runs just these.
JS_UNIT_TESTS = \
	tests/js/hello-websocket.test.mjs \
	tests/js/jpulse-ws.test.mjs \
	tests/js/login.test.mjs \
	tests/js/websocket-stats.test.mjs
TESTS += $(JS_UNIT_TESTS)
EXTRA_DIST += $(JS_UNIT_TESTS) \
	tests/js/lib/harness.mjs \
	tests/js/lib/mock-server.mjs

check-js:
	$(NODE) --test $(srcdir)/tests/js/
.PHONY: check-js
