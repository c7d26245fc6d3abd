/*
 * jpulse-ws.js — the jPulse.ws browser client for wspulse.
 *
 * Plain JavaScript, no build step, no dependencies. Load it either way:
 *
 *   <script src="/jpulse-ws.js"></script>                  classic script
 *   <script type="module">import '/jpulse-ws.js'; ...      side-effect import
 *   import ws from '/jpulse-ws.mjs';                       ES module wrapper
 *
 * It defines window.jPulse.ws (globalThis.jPulse.ws) and never replaces an
 * existing window.jPulse object: it only adds the `ws` member to it. Loading
 * the file twice keeps the first instance (and its open connections).
 * Under CommonJS (Node) it also sets module.exports to the same object.
 *
 * API (the client half of the jPulse WebSocket specification v1.0.4):
 *
 *   jPulse.ws.connect(path, options) -> handle
 *       path     '/api/1/ws/<name>' (resolved against the base URL, below),
 *                or a full ws:// / wss:// URL (used as it is).
 *       options  baseUrl                where wspulsed is, e.g.
 *                                       'wss://ws.example.com' (below)
 *                reconnectBaseInterval  5000   ms, delay before attempt 1
 *                reconnectMaxInterval   30000  ms, cap of the delay
 *                maxReconnectAttempts   10     then status 'disconnected'
 *                pingInterval           30000  ms, app-level {type:'ping'};
 *                                              0 turns pings off
 *                pongTimeout            5000   ms without a pong after a
 *                                              ping: the socket is dead
 *                jitter                 0.2    delay × (1 ± jitter), random;
 *                                              false or 0 for exact delays
 *                uuidStorage            'local' | 'session' | 'memory'
 *                token                  connection token (a JWT your site
 *                                       signs for its own user): a string,
 *                                       or a function returning a string or
 *                                       a Promise of one, called before every
 *                                       (re)connect; sent as &token=
 *                WebSocket              constructor to use (tests)
 *       A second connect() to a path whose handle is not 'disconnected'
 *       returns that same handle (the options of the second call are ignored).
 *
 * Where the daemon is (the base URL).  A path is resolved against, in order:
 *   1. the connect() option baseUrl;
 *   2. jPulse.ws.configure({ baseUrl: 'wss://ws.example.com' }) (every later
 *      connect() of the page);
 *   3. <meta name="jpulse-ws-base-url" content="wss://ws.example.com:8443">
 *      in the page (a site template can set it once for every page);
 *   4. the page's own origin (ws: or wss: under https:): the daemon behind
 *      the same nginx/Apache as the page (proxied mode, the default).
 * A base URL is an origin, optionally with a path prefix
 * ('wss://example.com/ws' + '/api/1/ws/x'); http: and https: are taken as
 * ws: and wss:.  Direct mode (README): the page comes from the web server and
 * its sockets go straight to wspulsed on another host or port, which then
 * needs the page's origin in allowed_origins and the login cookie's domain
 * to cover its host (cookie_domain).
 *
 *   jPulse.ws.getConnections() -> array of the paths with a live handle
 *   jPulse.ws.configure(options)  changes the defaults of later connect()s
 *   jPulse.ws.getClientUUID(storage?) -> the persistent client UUID
 *
 * Handle (every on* method returns the handle, for chaining):
 *   send(data)           JSON-encodes data and sends it: true if it was handed
 *                        to an open socket, false otherwise. Nothing is ever
 *                        queued or retried (fire and forget, as the spec says).
 *   onMessage(cb)        cb(data, message): data is message.data on success
 *                        and null on an error envelope ({success:false,...}).
 *                        The server's welcome {type:'connected',clientId,...}
 *                        arrives here like any other message. Pongs never do.
 *   onStatusChange(cb)   cb(newStatus, oldStatus), only when it changes:
 *                        connecting -> connected -> reconnecting ->
 *                        connected | disconnected.
 *   getStatus(), isConnected()
 *   disconnect()         closes (1000) and never reconnects; status
 *                        'disconnected'; the path may then be connect()ed anew.
 *   getCloseReason()     {code, reason} of the latest close of this handle's
 *                        socket, or null. After 4401 (not / no longer logged
 *                        in) or 4403 (forbidden) the client stops reconnecting
 *                        at once and this says why. A pong timeout is reported
 *                        as {code: 4000, reason: 'pong timeout'}. After 4409
 *                        (the session ended, in a namespace open to anyone)
 *                        it reconnects at once, as whoever the cookie says
 *                        now (anonymous after a logout).
 *   getClientId()        clientId from the latest welcome, or null.
 *   getUUID()            the uuid sent as ?uuid=.
 *   getLastMessageId()   highest numeric envelope `id` seen, or null.
 *   getCursor()          the id sent as &since= on the next reconnect, or
 *                        null (see Catch-up).
 *   getPath()
 *
 * Reconnection: after an unexpected close the client waits
 * min(reconnectBaseInterval × attempt, reconnectMaxInterval) — 5, 10, 15, 20,
 * 25, 30, 30 … s with the defaults — times a random factor in
 * [1 - jitter, 1 + jitter] so that a restarted daemon is not hit by every
 * client in the same instant. A successful open resets the attempt count.
 * After maxReconnectAttempts failed attempts the status is 'disconnected'.
 *
 * Catch-up: messages may carry a numeric envelope id ({success:true, id:123,
 * floor:120, data:{...}}). Ids commit out of order (two transactions), so
 * the highest id seen is no cursor: a message whose id is below it may
 * still come. The server's `floor` is: every message for this client with
 * an id <= floor has been sent before this one. The handle keeps the
 * highest floor as its cursor and the ids it got above it; on reconnect it
 * adds &since=<cursor> to the URL, so the server replays from there, and
 * it drops (never passes to onMessage) an id at or below the cursor or one
 * it already has. Against a server that sends no floor it falls back to
 * the highest id seen. A new handle (new page, or connect() after
 * disconnect()) starts afresh. A {type:'history-gap', from, to} message
 * says the messages with ids in [from, to] may be gone (the client was
 * away longer than the server keeps them): reload the page's state.
 *
 * Tokens: with the token option, a socket whose token reaches its exp is
 * closed by the server with 4408; the handle then calls the token function
 * again and reconnects at once, with &since= for what it missed, without
 * the backoff and without passing through 'disconnected' or 'reconnecting'
 * (the status stays 'connected'; send() returns false for the moment the
 * new socket takes to open). If that reconnect fails, the usual backoff
 * follows. A token function that throws or rejects counts as a failed
 * connection attempt.
 *
 * Health: every pingInterval the client sends {type:'ping'}; if no pong
 * ({success:true, data:{type:'pong'}}) arrives within pongTimeout the socket
 * is treated as dead: closed with 4000 and reconnected like any other drop.
 * Protocol-level pings from the server are answered by the browser itself.
 */
(function (root, factory) {
	'use strict';
	var existing = root.jPulse && root.jPulse.ws;
	var api = existing && existing.__wspulse ? existing : factory(root);

	if (root.jPulse === null || (typeof root.jPulse !== 'object' && typeof root.jPulse !== 'function'))
		root.jPulse = {};
	root.jPulse.ws = api;

	if (typeof module === 'object' && module && module.exports)
		module.exports = api;
}(typeof globalThis !== 'undefined' ? globalThis
	: typeof self !== 'undefined' ? self
	: typeof window !== 'undefined' ? window : this,
function (root) {
	'use strict';

	var OPEN = 1;
	var UUID_KEY = 'jPulse.ws.clientUUID';
	var UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
	var AUTH_CLOSE_CODES = { 4401: true, 4403: true };
	var PONG_TIMEOUT_CODE = 4000;
	var TOKEN_EXPIRED_CODE = 4408;
	var SESSION_ENDED_CODE = 4409;	/* a namespace open to anyone: reconnect as whoever the cookie says now */

	var defaults = {
		baseUrl: null,
		reconnectBaseInterval: 5000,
		reconnectMaxInterval: 30000,
		maxReconnectAttempts: 10,
		pingInterval: 30000,
		pongTimeout: 5000,
		jitter: 0.2,
		uuidStorage: 'local',
		token: null,
		WebSocket: null
	};

	/* One entry per path whose handle is not 'disconnected'. */
	var connections = new Map();
	var memoryUUID = null;

	function log(level, msg, extra) {
		var c = root.console;
		if (c && typeof c[level] === 'function') {
			if (extra !== undefined)
				c[level]('jPulse.ws: ' + msg, extra);
			else
				c[level]('jPulse.ws: ' + msg);
		}
	}

	function merge(base, over) {
		var out = {}, k;
		for (k in base)
			if (Object.prototype.hasOwnProperty.call(base, k))
				out[k] = base[k];
		if (over)
			for (k in over)
				if (Object.prototype.hasOwnProperty.call(over, k) && over[k] !== undefined)
					out[k] = over[k];
		return out;
	}

	/* RFC 4122 version 4 UUID. crypto.randomUUID exists only in secure
	 * contexts (https, localhost); getRandomValues works everywhere. */
	function generateUUID() {
		var c = root.crypto, b, i, h = [];
		if (c && typeof c.randomUUID === 'function') {
			try {
				return c.randomUUID();
			} catch (e) { /* fall through */ }
		}
		b = new Array(16);
		if (c && typeof c.getRandomValues === 'function') {
			var u8 = new Uint8Array(16);
			c.getRandomValues(u8);
			for (i = 0; i < 16; i++)
				b[i] = u8[i];
		} else {
			for (i = 0; i < 16; i++)
				b[i] = Math.floor(Math.random() * 256);
		}
		b[6] = (b[6] & 0x0f) | 0x40;
		b[8] = (b[8] & 0x3f) | 0x80;
		for (i = 0; i < 16; i++)
			h.push((b[i] + 0x100).toString(16).slice(1));
		return h.slice(0, 4).join('') + '-' + h.slice(4, 6).join('') + '-' +
			h.slice(6, 8).join('') + '-' + h.slice(8, 10).join('') + '-' + h.slice(10).join('');
	}

	function storageFor(mode) {
		try {
			if (mode === 'session')
				return root.sessionStorage || null;
			if (mode === 'local')
				return root.localStorage || null;
		} catch (e) { /* storage disabled (privacy mode, sandboxed iframe) */ }
		return null;
	}

	/* The persistent client UUID: localStorage by default, sessionStorage, or
	 * page memory. A storage that throws or is absent degrades to memory. */
	function getClientUUID(mode) {
		var store, id;
		mode = mode || defaults.uuidStorage;
		if (mode !== 'local' && mode !== 'session' && mode !== 'memory') {
			log('warn', 'unknown uuidStorage "' + mode + '", using "local"');
			mode = 'local';
		}
		store = mode === 'memory' ? null : storageFor(mode);
		if (store) {
			try {
				id = store.getItem(UUID_KEY);
				if (id && UUID_RE.test(id))
					return id;
				id = generateUUID();
				store.setItem(UUID_KEY, id);
				return id;
			} catch (e) { /* fall back to memory */ }
		}
		if (!memoryUUID)
			memoryUUID = generateUUID();
		return memoryUUID;
	}

	function checkBaseUrl(b) {
		if (b !== undefined && b !== null && (typeof b !== 'string' || !/^(wss?|https?):\/\/[^/]/i.test(b)))
			throw new TypeError('jPulse.ws: baseUrl must be a ws://, wss://, http:// or https:// URL, not ' + b);
	}

	/* The page's <meta name="jpulse-ws-base-url" content="...">, or null. */
	function metaBaseUrl() {
		var doc = root.document, m;
		if (!doc || typeof doc.querySelector !== 'function')
			return null;
		m = doc.querySelector('meta[name="jpulse-ws-base-url"]');
		return m && m.getAttribute('content') ? m.getAttribute('content') : null;
	}

	/* baseUrl: the option or configure()d value (null: the meta tag, then
	 * the page's origin). */
	function buildURL(path, uuid, since, baseUrl, token) {
		var loc = root.location, url, proto, host, base = baseUrl || metaBaseUrl();
		if (/^wss?:\/\//i.test(path)) {
			url = path;
		} else if (/^https?:\/\//i.test(path)) {
			url = path.replace(/^http/i, 'ws');
		} else if (base) {
			if (!/^(wss?|https?):\/\//i.test(base))
				throw new TypeError('jPulse.ws: baseUrl must start with wss://, ws://, https:// or http://, not ' + base);
			url = base.replace(/^http/i, 'ws').replace(/\/+$/, '') + (path.charAt(0) === '/' ? '' : '/') + path;
		} else {
			proto = loc && loc.protocol === 'https:' ? 'wss:' : 'ws:';
			host = (loc && loc.host) || 'localhost';
			url = proto + '//' + host + (path.charAt(0) === '/' ? '' : '/') + path;
		}
		url += (url.indexOf('?') >= 0 ? '&' : '?') + 'uuid=' + encodeURIComponent(uuid);
		if (since !== null && since !== undefined)
			url += '&since=' + encodeURIComponent(String(since));
		if (token !== null && token !== undefined)
			url += '&token=' + encodeURIComponent(String(token));
		return url;
	}

	/* Delay before reconnect attempt n (1-based). */
	function reconnectDelay(attempt, opts, random) {
		var d = Math.min(opts.reconnectBaseInterval * attempt, opts.reconnectMaxInterval);
		var j = opts.jitter === true ? defaults.jitter : Number(opts.jitter) || 0;
		if (j > 0) {
			j = Math.min(j, 1);
			d = d * (1 + (2 * (random ? random() : Math.random()) - 1) * j);
		}
		return Math.max(0, Math.round(d));
	}

	function isPong(msg) {
		if (msg.type === 'pong')
			return true;
		return msg.success !== false && msg.data !== null && typeof msg.data === 'object' &&
			msg.data.type === 'pong';
	}

	/* One per connect() call that created a new connection. */
	function Connection(path, opts) {
		var self = this;
		var status = 'connecting';
		var socket = null;
		var attempts = 0;
		var stopped = false;		/* disconnect(), auth close, or gave up */
		var closeInfo = null;
		var lastId = null;
		var floor = null;		/* the server's cursor: all ids <= floor had */
		var above = new Set();	/* ids had above the floor */
		var clientId = null;
		var reconnectTimer = null, pingTimer = null, pongTimer = null;
		var renewing = false;		/* reconnecting at once after 4408 */
		var generation = 0;		/* bumped by every open(): a late token is dropped */
		var messageCbs = [], statusCbs = [];
		var uuid = getClientUUID(opts.uuidStorage);

		function setStatus(s) {
			var old = status;
			if (s === old)
				return;
			status = s;
			statusCbs.slice().forEach(function (cb) {
				try {
					cb(s, old);
				} catch (e) {
					log('error', 'status handler threw', e);
				}
			});
		}

		function clearTimers() {
			if (reconnectTimer !== null) {
				clearTimeout(reconnectTimer);
				reconnectTimer = null;
			}
			stopPing();
		}

		function stopPing() {
			if (pingTimer !== null) {
				clearInterval(pingTimer);
				pingTimer = null;
			}
			if (pongTimer !== null) {
				clearTimeout(pongTimer);
				pongTimer = null;
			}
		}

		function detach(s) {
			if (!s)
				return;
			s.onopen = s.onmessage = s.onerror = s.onclose = null;
		}

		function closeSocket(code, reason) {
			var s = socket;
			socket = null;
			detach(s);
			if (s) {
				try {
					s.close(code, reason);
				} catch (e) { /* already closed */ }
			}
		}

		function finish() {
			stopped = true;
			clearTimers();
			if (connections.get(path) === self)
				connections.delete(path);
			setStatus('disconnected');
		}

		function sendPing() {
			if (!socket || socket.readyState !== OPEN || pongTimer !== null)
				return;
			try {
				socket.send(JSON.stringify({ type: 'ping' }));
			} catch (e) {
				return;
			}
			pongTimer = setTimeout(function () {
				pongTimer = null;
				log('warn', 'no pong within ' + opts.pongTimeout + ' ms on ' + path + ', reconnecting');
				closeSocket(PONG_TIMEOUT_CODE, 'pong timeout');
				handleClose({ code: PONG_TIMEOUT_CODE, reason: 'pong timeout' });
			}, opts.pongTimeout);
		}

		function handleClose(ev) {
			stopPing();
			closeInfo = {
				code: ev && typeof ev.code === 'number' ? ev.code : 1006,
				reason: (ev && ev.reason) || ''
			};
			if (stopped)
				return;
			if (closeInfo.code === SESSION_ENDED_CODE && !renewing) {
				log('info', 'session ended on ' + path + ', reconnecting');
				renewing = true;
				open();
				return;
			}
			if (closeInfo.code === TOKEN_EXPIRED_CODE && opts.token && !renewing) {
				log('info', 'token expired on ' + path + ', reconnecting with a fresh one');
				renewing = true;
				open();
				return;
			}
			if (renewing) {
				renewing = false;
				attempts = 0;
			}
			if (AUTH_CLOSE_CODES[closeInfo.code]) {
				log('warn', 'closed with ' + closeInfo.code + ' on ' + path + ', not reconnecting');
				finish();
				return;
			}
			if (attempts >= opts.maxReconnectAttempts) {
				log('warn', 'giving up on ' + path + ' after ' + attempts + ' attempts');
				finish();
				return;
			}
			attempts++;
			setStatus('reconnecting');
			var delay = reconnectDelay(attempts, opts);
			reconnectTimer = setTimeout(function () {
				reconnectTimer = null;
				open();
			}, delay);
		}

		function handleMessage(raw) {
			var msg, data;
			try {
				msg = JSON.parse(raw);
			} catch (e) {
				log('warn', 'ignoring a message that is not JSON on ' + path);
				return;
			}
			if (msg === null || typeof msg !== 'object')
				return;
			if (typeof msg.id === 'number' && isFinite(msg.id)) {
				/* A replay after a reconnect may repeat what we have. */
				if ((floor !== null && msg.id <= floor) || above.has(msg.id))
					return;
				above.add(msg.id);
				if (lastId === null || msg.id > lastId)
					lastId = msg.id;
			}
			if (typeof msg.floor === 'number' && isFinite(msg.floor) && (floor === null || msg.floor > floor)) {
				floor = msg.floor;
				above.forEach(function (id) {
					if (id <= floor)
						above.delete(id);
				});
			}
			if (isPong(msg)) {
				if (pongTimer !== null) {
					clearTimeout(pongTimer);
					pongTimer = null;
				}
				return;
			}
			data = msg.success === false || msg.data === undefined ? null : msg.data;
			if (data && data.type === 'connected' && data.clientId !== undefined)
				clientId = data.clientId;
			messageCbs.slice().forEach(function (cb) {
				try {
					cb(data, msg);
				} catch (e) {
					log('error', 'message handler threw', e);
				}
			});
		}

		/* The token for the next socket: a value, or a Promise of one. */
		function getToken() {
			var t = opts.token;
			return typeof t === 'function' ? t() : t;
		}

		function open() {
			var gen = ++generation, t;
			if (stopped)
				return;
			if (opts.token === null || opts.token === undefined || opts.token === false) {
				openWith(null);
				return;
			}
			try {
				t = getToken();
			} catch (e) {
				tokenFailed(e);
				return;
			}
			if (t && typeof t.then === 'function') {
				t.then(function (v) {
					if (gen === generation && !stopped)
						openWith(v);
				}, function (e) {
					if (gen === generation && !stopped)
						tokenFailed(e);
				});
			} else {
				openWith(t);
			}
		}

		function tokenFailed(e) {
			log('warn', 'no connection token for ' + path, e);
			handleClose({ code: 1006, reason: 'token: ' + String(e && e.message || e) });
		}

		function openWith(token) {
			var WS = opts.WebSocket || root.WebSocket, s;
			if (stopped)
				return;
			if (token !== null && (typeof token !== 'string' || !token)) {
				tokenFailed(new TypeError('the token option gave ' + (token === '' ? 'an empty string' : typeof token)));
				return;
			}
			try {
				s = new WS(buildURL(path, uuid, floor !== null ? floor : lastId, opts.baseUrl, token));
			} catch (e) {
				log('error', 'cannot create a WebSocket for ' + path, e);
				handleClose({ code: 1006, reason: String(e && e.message || e) });
				return;
			}
			socket = s;
			s.onopen = function () {
				if (socket !== s)
					return;
				attempts = 0;
				renewing = false;
				setStatus('connected');
				stopPing();
				if (opts.pingInterval > 0)
					pingTimer = setInterval(sendPing, opts.pingInterval);
			};
			s.onmessage = function (ev) {
				if (socket === s)
					handleMessage(ev.data);
			};
			s.onerror = function () {
				/* Browsers fire close right after error (same task); Node's
				 * WebSocket (undici) fires only error when the handshake is
				 * refused. Whatever did not get its close by the next turn
				 * is treated as closed. */
				setTimeout(function () {
					if (socket !== s)
						return;
					socket = null;
					detach(s);
					try {
						s.close();
					} catch (e) { /* already closed */ }
					handleClose({ code: 1006, reason: 'connection failed' });
				}, 0);
			};
			s.onclose = function (ev) {
				if (socket !== s)
					return;
				socket = null;
				detach(s);
				handleClose(ev);
			};
		}

		this.handle = {
			send: function (data) {
				var text;
				if (!socket || socket.readyState !== OPEN || status !== 'connected')
					return false;
				try {
					text = JSON.stringify(data);
					if (text === undefined)
						return false;
					socket.send(text);
				} catch (e) {
					log('warn', 'send failed on ' + path, e);
					return false;
				}
				return true;
			},
			onMessage: function (cb) {
				if (typeof cb === 'function')
					messageCbs.push(cb);
				return self.handle;
			},
			onStatusChange: function (cb) {
				if (typeof cb === 'function')
					statusCbs.push(cb);
				return self.handle;
			},
			getStatus: function () { return status; },
			isConnected: function () { return status === 'connected'; },
			disconnect: function () {
				if (stopped)
					return self.handle;
				stopped = true;
				if (socket)
					closeInfo = { code: 1000, reason: 'client disconnect' };
				closeSocket(1000, 'client disconnect');
				finish();
				return self.handle;
			},
			getCloseReason: function () {
				return closeInfo ? { code: closeInfo.code, reason: closeInfo.reason } : null;
			},
			getClientId: function () { return clientId; },
			getUUID: function () { return uuid; },
			getLastMessageId: function () { return lastId; },
			getCursor: function () { return floor !== null ? floor : lastId; },
			getPath: function () { return path; }
		};

		this.start = open;
	}

	var api = {
		__wspulse: true,
		version: '1.0.4',

		connect: function (path, options) {
			var existing, conn;
			if (typeof path !== 'string' || !path)
				throw new TypeError('jPulse.ws.connect: path must be a non-empty string');
			existing = connections.get(path);
			if (existing)
				return existing.handle;
			checkBaseUrl(options && options.baseUrl);
			conn = new Connection(path, merge(defaults, options));
			connections.set(path, conn);
			conn.start();
			return conn.handle;
		},

		getConnections: function () {
			return Array.from(connections.keys());
		},

		configure: function (options) {
			checkBaseUrl(options && options.baseUrl);
			defaults = merge(defaults, options);
			return api;
		},

		getClientUUID: function (storage) {
			return getClientUUID(storage);
		},

		/* Exposed for tests and curious readers; not part of the stable API. */
		_internals: {
			reconnectDelay: function (attempt, options, random) {
				return reconnectDelay(attempt, merge(defaults, options), random);
			},
			buildURL: buildURL,
			generateUUID: generateUUID,
			defaults: function () { return merge(defaults); }
		}
	};

	return api;
}));
