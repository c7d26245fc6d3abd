/*
 * login.js — the /login/ page: posts {username, password} as JSON to
 * /api/1/auth/login (the server sets the wsp_session cookie) and, on success,
 * goes to ?next= — but only to a same-origin path: it must start with a
 * single '/' (never '//' or '/\', which browsers read as another host, nor a
 * scheme), contain no control characters or backslashes, and resolve (dot
 * segments removed) to a path of this origin that again starts with a single
 * '/'.
 * Anything else falls back to /hello-websocket/. On failure it shows the
 * server's error text in #login-error.
 */
(function (root, factory) {
	'use strict';
	var lib = factory();
	root.WspLogin = lib;
	if (typeof module === 'object' && module && module.exports)
		module.exports = lib;
	if (root.document && typeof root.document.addEventListener === 'function')
		lib.autoStart(root);
}(typeof globalThis !== 'undefined' ? globalThis : typeof window !== 'undefined' ? window : this,
function () {
	'use strict';

	var DEFAULT_NEXT = '/hello-websocket/';
	var LOGIN_API = '/api/1/auth/login';

	/* The redirect target for a raw ?next= value, given the page's origin.
	 * The value is resolved the way the browser will resolve it (dot
	 * segments, %2e, backslashes) and checked AFTER that: '/..//evil' and
	 * '/%2e%2e//evil' resolve to the path '//evil', which the browser would
	 * read as another host when assigned, so a resolved path must start
	 * with exactly one '/' too. */
	function safeNext(raw, origin) {
		var u, base = origin || 'http://wspulse.invalid';
		if (typeof raw !== 'string' || raw.length === 0 || raw.length > 2048)
			return DEFAULT_NEXT;
		if (raw.charAt(0) !== '/' || raw.charAt(1) === '/' || raw.charAt(1) === '\\')
			return DEFAULT_NEXT;
		if (/[\u0000-\u001f\u007f\\]/.test(raw))
			return DEFAULT_NEXT;
		if (typeof URL !== 'function')
			return DEFAULT_NEXT;
		try {
			u = new URL(raw, base);
		} catch (e) {
			return DEFAULT_NEXT;
		}
		if (u.origin !== new URL(base).origin || !/^\/(?![\/\\])/.test(u.pathname))
			return DEFAULT_NEXT;
		return u.pathname + u.search + u.hash;
	}

	function nextFromLocation(loc) {
		var m = /[?&]next=([^&#]*)/.exec(loc.search || '');
		var raw = null;
		if (m) {
			try {
				raw = decodeURIComponent(m[1].replace(/\+/g, ' '));
			} catch (e) {
				raw = null;
			}
		}
		return safeNext(raw, loc.origin);
	}

	/* Text to show for a failed login response. */
	function errorText(status, body) {
		if (body && typeof body.error === 'string' && body.error)
			return body.error;
		if (body && typeof body.message === 'string' && body.message)
			return body.message;
		if (status === 401)
			return 'Invalid username or password';
		return 'Login failed (HTTP ' + status + ')';
	}

	function autoStart(win) {
		var doc = win.document;
		function go() {
			if (doc.getElementById('login-form'))
				start(win);
		}
		if (doc.readyState === 'loading')
			doc.addEventListener('DOMContentLoaded', go);
		else
			go();
	}

	function start(win) {
		var doc = win.document;
		var form = doc.getElementById('login-form');
		var err = doc.getElementById('login-error');
		var btn = doc.getElementById('login-submit');
		var next = nextFromLocation(win.location);
		var link = doc.getElementById('login-next');

		if (link) {
			link.href = next;
			link.textContent = next;
		}
		function showError(text) {
			err.textContent = text || '';
			err.hidden = !text;
		}

		form.addEventListener('submit', async function (ev) {
			var res, body = null;
			ev.preventDefault();
			var username = doc.getElementById('username').value.trim();
			var password = doc.getElementById('password').value;
			if (!username || !password) {
				showError('Please enter your username and password.');
				return;
			}
			showError('');
			btn.disabled = true;
			try {
				res = await win.fetch(LOGIN_API, {
					method: 'POST',
					credentials: 'same-origin',
					headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' },
					body: JSON.stringify({ username: username, password: password })
				});
				try {
					body = await res.json();
				} catch (e) { /* not JSON */ }
			} catch (e) {
				btn.disabled = false;
				showError('Network error: ' + e.message);
				return;
			}
			if (res.ok && body && body.success) {
				win.location.assign(next);
				return;
			}
			btn.disabled = false;
			showError(errorText(res.status, body));
			doc.getElementById('password').select();
		});
	}

	return {
		DEFAULT_NEXT: DEFAULT_NEXT,
		safeNext: safeNext,
		nextFromLocation: nextFromLocation,
		errorText: errorText,
		autoStart: autoStart,
		start: start
	};
}));
