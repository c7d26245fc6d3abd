// Unit tests of www/jpulse-ws.js with a fake WebSocket and a fake clock.
// Run: node --test tests/js/

import test from 'node:test';
import assert from 'node:assert/strict';
import { loadClient, evalIn, MemStorage, ThrowingStorage } from './lib/harness.mjs';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const NS = '/api/1/ws/test';

// Values made inside the vm context have that realm's prototypes: compare
// their JSON form.
const deq = (actual, expected, msg) => assert.deepEqual(JSON.parse(JSON.stringify(actual)), expected, msg);

function statusLog(handle) {
	const calls = [];
	handle.onStatusChange((s, old) => calls.push([s, old]));
	return calls;
}

// Advance until a socket beyond `count` exists; return the ms it took.
function waitForSocket(env, count, limit = 120000) {
	const start = env.clock.now;
	while (env.sockets.length <= count) {
		if (env.clock.now - start > limit)
			return null;
		env.clock.tick(1);
	}
	return env.clock.now - start;
}

test('backoff schedule is min(base*attempt, max): 5,10,15,20,25,30,30,... s, then gives up', () => {
	const env = loadClient();
	const h = env.ws.connect(NS, { jitter: false });
	assert.equal(env.sockets.length, 1);
	env.sockets[0].serverOpen();
	env.sockets[0].serverClose(1006);
	assert.equal(h.getStatus(), 'reconnecting');

	const delays = [];
	for (let i = 0; i < 10; i++) {
		const d = waitForSocket(env, env.sockets.length);
		assert.notEqual(d, null, 'attempt ' + (i + 1) + ' never came');
		delays.push(d);
		env.sockets.at(-1).serverClose(1006);		// the attempt fails
	}
	deq(delays, [5000, 10000, 15000, 20000, 25000, 30000, 30000, 30000, 30000, 30000]);
	assert.equal(h.getStatus(), 'disconnected');
	const n = env.sockets.length;
	env.clock.tick(10 * 60 * 1000);
	assert.equal(env.sockets.length, n, 'no attempt after maxReconnectAttempts');
	assert.equal(env.clock.pendingCount(), 0, 'no timer left behind');
});

test('reconnect timing is exact to the millisecond without jitter', () => {
	const env = loadClient();
	env.ws.connect(NS, { jitter: false, reconnectBaseInterval: 3000, reconnectMaxInterval: 7000 });
	env.sockets[0].serverClose(1006);		// never opened: still reconnects
	env.clock.tick(2999);
	assert.equal(env.sockets.length, 1);
	env.clock.tick(1);
	assert.equal(env.sockets.length, 2);
	env.sockets[1].serverClose(1006);
	env.clock.tick(5999);
	assert.equal(env.sockets.length, 2);
	env.clock.tick(1);
	assert.equal(env.sockets.length, 3);
	env.sockets[2].serverClose(1006);
	env.clock.tick(7000);				// capped at max
	assert.equal(env.sockets.length, 4);
});

test('give up after maxReconnectAttempts; the path can be connected anew', () => {
	const env = loadClient();
	const h = env.ws.connect(NS, { jitter: false, maxReconnectAttempts: 3 });
	const calls = statusLog(h);
	env.sockets[0].serverOpen();
	env.sockets[0].serverClose(1006);
	for (let i = 0; i < 3; i++) {
		env.clock.tick(60000);
		env.sockets.at(-1).serverClose(1006);
	}
	assert.equal(env.sockets.length, 4);
	assert.equal(h.getStatus(), 'disconnected');
	deq(calls, [['connected', 'connecting'], ['reconnecting', 'connected'], ['disconnected', 'reconnecting']]);
	deq(env.ws.getConnections(), []);
	env.clock.tick(600000);
	assert.equal(env.sockets.length, 4);

	const h2 = env.ws.connect(NS);
	assert.notEqual(h2, h);
	assert.equal(env.sockets.length, 5);
	assert.equal(h2.getStatus(), 'connecting');
});

test('maxReconnectAttempts 0 never reconnects', () => {
	const env = loadClient();
	const h = env.ws.connect(NS, { maxReconnectAttempts: 0 });
	env.sockets[0].serverOpen();
	env.sockets[0].serverClose(1001);
	assert.equal(h.getStatus(), 'disconnected');
	env.clock.tick(600000);
	assert.equal(env.sockets.length, 1);
});

test('a successful open resets the attempt count', () => {
	const env = loadClient();
	env.ws.connect(NS, { jitter: false });
	env.sockets[0].serverOpen();
	env.sockets[0].serverClose(1006);
	assert.equal(waitForSocket(env, 1), 5000);
	env.sockets[1].serverClose(1006);
	assert.equal(waitForSocket(env, 2), 10000);
	env.sockets[2].serverOpen();
	env.sockets[2].serverClose(1006);
	assert.equal(waitForSocket(env, 3), 5000);
});

test('jitter spreads the delay within ±20% by default', () => {
	const env = loadClient();
	const d = env.ws._internals.reconnectDelay;
	assert.equal(d(1, { jitter: false }), 5000);
	assert.equal(d(1, {}, () => 0), 4000);
	assert.equal(d(1, {}, () => 1), 6000);
	assert.equal(d(1, {}, () => 0.5), 5000);
	assert.equal(d(9, {}, () => 1), 36000);
	assert.equal(d(2, { jitter: 0.5 }, () => 0), 5000);
	assert.equal(env.ws._internals.defaults().jitter, 0.2);

	// and the live schedule uses it
	const h = env.ws.connect(NS);
	env.sockets[0].serverOpen();
	const seen = [];
	for (let i = 0; i < 6; i++) {
		env.sockets.at(-1).serverClose(1006);
		seen.push(waitForSocket(env, env.sockets.length));
	}
	const nominal = [5000, 10000, 15000, 20000, 25000, 30000];
	seen.forEach((ms, i) => {
		assert.ok(ms >= nominal[i] * 0.8 && ms <= nominal[i] * 1.2, `attempt ${i + 1}: ${ms} ms`);
	});
	assert.ok(new Set(seen.map((ms, i) => ms / nominal[i])).size > 1, 'jitter is random');
	h.disconnect();
});

test('status changes connecting → connected → reconnecting → connected → disconnected, each once', () => {
	const env = loadClient();
	const h = env.ws.connect(NS, { jitter: false });
	assert.equal(h.getStatus(), 'connecting');
	assert.equal(h.isConnected(), false);
	const calls = statusLog(h);
	const second = [];
	h.onStatusChange(() => { throw new Error('a broken handler'); });
	h.onStatusChange((s) => second.push(s));

	env.sockets[0].serverOpen();
	assert.equal(h.isConnected(), true);
	env.sockets[0].serverClose(1006);
	env.clock.tick(5000);
	env.sockets[1].serverClose(1006);		// reconnecting → reconnecting: no event
	env.clock.tick(10000);
	env.sockets[2].serverOpen();
	h.disconnect();
	h.disconnect();					// second call: no event

	deq(calls, [
		['connected', 'connecting'],
		['reconnecting', 'connected'],
		['connected', 'reconnecting'],
		['disconnected', 'connected'],
	]);
	deq(second, ['connected', 'reconnecting', 'connected', 'disconnected'],
		'a throwing handler does not stop the others');
	assert.equal(h.getStatus(), 'disconnected');
});

test('send() works from the connected status callback (the spec example)', () => {
	const env = loadClient();
	const results = [];
	const h = env.ws.connect(NS);
	h.onStatusChange((s) => { if (s === 'connected') results.push(h.send({ type: 'hello' })); });
	env.sockets[0].serverOpen();
	deq(results, [true]);
	deq(env.sockets[0].sentJSON, [{ type: 'hello' }]);
});

test('send while not open returns false and queues nothing', () => {
	const env = loadClient();
	const h = env.ws.connect(NS, { jitter: false });
	assert.equal(h.send({ type: 'early' }), false);		// connecting
	env.sockets[0].serverOpen();
	assert.equal(h.send({ type: 'a', n: 1 }), true);
	deq(env.sockets[0].sentJSON, [{ type: 'a', n: 1 }]);
	env.sockets[0].serverClose(1006);
	assert.equal(h.send({ type: 'while-reconnecting' }), false);
	env.clock.tick(5000);
	assert.equal(h.send({ type: 'while-connecting-again' }), false);
	env.sockets[1].serverOpen();
	deq(env.sockets[1].sent, [], 'nothing was queued for the new socket');
	assert.equal(h.send({ type: 'b' }), true);
	deq(env.sockets[1].sentJSON, [{ type: 'b' }]);
	h.disconnect();
	assert.equal(h.send({ type: 'after-disconnect' }), false);
	assert.equal(h.send(undefined), false);
});

test('onMessage gets (data, message); null data on error envelopes; chaining', () => {
	const env = loadClient();
	const got = [];
	const h = env.ws.connect(NS)
		.onMessage((data, message) => got.push([data, message]))
		.onStatusChange(() => {});
	assert.equal(typeof h.send, 'function', 'on* methods return the handle');
	env.sockets[0].serverOpen();
	const welcome = { success: true, data: { type: 'connected', clientId: 'c-1', namespace: NS, username: '' } };
	env.sockets[0].serverSend(welcome);
	env.sockets[0].serverSend({ success: true, data: { type: 'update', n: 2, username: 'alice' } });
	env.sockets[0].serverSend({ success: false, error: 'Rate limit exceeded', code: 429, username: '' });
	env.sockets[0].serverSend('not json {');
	assert.equal(got.length, 3);
	deq(got[0], [welcome.data, welcome]);
	assert.equal(got[1][0].n, 2);
	assert.equal(got[2][0], null);
	assert.equal(got[2][1].error, 'Rate limit exceeded');
	assert.equal(h.getClientId(), 'c-1');
});

test('close codes 4401 and 4403 stop reconnecting, with the reason available', () => {
	for (const code of [4401, 4403]) {
		const env = loadClient();
		const h = env.ws.connect(NS, { jitter: false });
		const calls = statusLog(h);
		env.sockets[0].serverOpen();
		env.sockets[0].serverClose(code, code === 4401 ? 'session expired' : 'forbidden');
		assert.equal(h.getStatus(), 'disconnected');
		deq(calls, [['connected', 'connecting'], ['disconnected', 'connected']]);
		deq(h.getCloseReason(), { code, reason: code === 4401 ? 'session expired' : 'forbidden' });
		env.clock.tick(600000);
		assert.equal(env.sockets.length, 1, `no reconnect after ${code}`);
		deq(env.ws.getConnections(), []);
	}
	// during a reconnect attempt too
	const env = loadClient();
	const h = env.ws.connect(NS, { jitter: false });
	env.sockets[0].serverClose(1006);
	env.clock.tick(5000);
	env.sockets[1].serverClose(4403, '');
	assert.equal(h.getStatus(), 'disconnected');
	env.clock.tick(600000);
	assert.equal(env.sockets.length, 2);
});

test('other close codes reconnect and are reported by getCloseReason()', () => {
	const env = loadClient();
	const h = env.ws.connect(NS, { jitter: false });
	assert.equal(h.getCloseReason(), null);
	env.sockets[0].serverOpen();
	env.sockets[0].serverClose(1013, 'try again later');
	deq(h.getCloseReason(), { code: 1013, reason: 'try again later' });
	assert.equal(h.getStatus(), 'reconnecting');
});

test('app-level ping every pingInterval; no pong within 5 s closes and reconnects', () => {
	const env = loadClient();
	const h = env.ws.connect(NS, { jitter: false });
	const calls = statusLog(h);
	const s = env.sockets[0];
	s.serverOpen();
	env.clock.tick(29999);
	deq(s.sent, []);
	env.clock.tick(1);
	deq(s.sentJSON, [{ type: 'ping' }]);

	// answered: the connection stays
	s.serverSend({ success: true, data: { type: 'pong', username: '' } });
	env.clock.tick(10000);
	assert.equal(h.getStatus(), 'connected');
	assert.equal(s.closedWith, null);

	// the next ping at 60 s goes unanswered
	env.clock.tick(20000);
	deq(s.sentJSON, [{ type: 'ping' }, { type: 'ping' }]);
	env.clock.tick(4999);
	assert.equal(h.getStatus(), 'connected');
	env.clock.tick(1);
	assert.equal(h.getStatus(), 'reconnecting');
	deq(s.closedWith, { code: 4000, reason: 'pong timeout' });
	deq(h.getCloseReason(), { code: 4000, reason: 'pong timeout' });
	assert.equal(env.sockets.length, 1);
	env.clock.tick(5000);
	assert.equal(env.sockets.length, 2, 'reconnected after the backoff delay');
	env.sockets[1].serverOpen();
	deq(calls.map((c) => c[0]), ['connected', 'reconnecting', 'connected']);

	// the dead socket's late events change nothing
	s.serverClose(1006);
	assert.equal(h.getStatus(), 'connected');
	assert.equal(env.sockets.length, 2);
});

test('pingInterval and pongTimeout are configurable; 0 disables pings', () => {
	const env = loadClient();
	env.ws.connect(NS, { pingInterval: 1000, pongTimeout: 200, jitter: false });
	env.sockets[0].serverOpen();
	env.clock.tick(1000);
	assert.equal(env.sockets[0].sent.length, 1);
	env.clock.tick(200);
	assert.equal(env.sockets[0].closedWith.code, 4000);

	const env2 = loadClient();
	env2.ws.connect(NS, { pingInterval: 0 });
	env2.sockets[0].serverOpen();
	env2.clock.tick(600000);
	deq(env2.sockets[0].sent, []);
});

test('pongs are consumed by the library, never passed to onMessage', () => {
	const env = loadClient();
	const got = [];
	env.ws.connect(NS).onMessage((data) => got.push(data && data.type));
	env.sockets[0].serverOpen();
	env.sockets[0].serverSend({ success: true, data: { type: 'pong', username: '' } });
	env.sockets[0].serverSend({ type: 'pong' });
	env.sockets[0].serverSend({ success: true, data: { type: 'ping-result' } });
	deq(got, ['ping-result']);
});

test('a second connect() to a live path returns the same handle; getConnections()', () => {
	const env = loadClient();
	const a = env.ws.connect(NS);
	const b = env.ws.connect(NS, { pingInterval: 5 });
	const c = env.ws.connect('/api/1/ws/other');
	assert.equal(a, b);
	assert.notEqual(a, c);
	assert.equal(env.sockets.length, 2);
	deq(env.ws.getConnections().sort(), ['/api/1/ws/other', NS]);

	env.sockets[0].serverClose(1006);		// reconnecting is still live
	assert.equal(env.ws.connect(NS), a);

	a.disconnect();
	deq(env.ws.getConnections(), ['/api/1/ws/other']);
	const d = env.ws.connect(NS);
	assert.notEqual(d, a);
	assert.equal(a.getStatus(), 'disconnected', 'the old handle stays disconnected');
	assert.throws(() => env.ws.connect(''), { name: 'TypeError' });
});

test('disconnect() closes with 1000 and prevents any reconnect, also mid-backoff', () => {
	const env = loadClient();
	const h = env.ws.connect(NS, { jitter: false });
	env.sockets[0].serverOpen();
	h.disconnect();
	deq(env.sockets[0].closedWith, { code: 1000, reason: 'client disconnect' });
	env.sockets[0].serverClose(1000);		// the browser's close event, later
	env.clock.tick(600000);
	assert.equal(env.sockets.length, 1);
	assert.equal(h.getStatus(), 'disconnected');
	assert.equal(env.clock.pendingCount(), 0, 'ping timer cleared');

	const h2 = env.ws.connect(NS, { jitter: false });
	env.sockets[1].serverOpen();
	env.sockets[1].serverClose(1006);
	assert.equal(h2.getStatus(), 'reconnecting');
	h2.disconnect();
	env.clock.tick(600000);
	assert.equal(env.sockets.length, 2);
	assert.equal(h2.getStatus(), 'disconnected');
});

test('since=<highest id seen> is sent on reconnect, not on the first connect', () => {
	const env = loadClient();
	const h = env.ws.connect(NS, { jitter: false });
	assert.doesNotMatch(env.sockets[0].url, /since=/);
	env.sockets[0].serverOpen();
	env.sockets[0].serverSend({ success: true, data: { type: 'connected', clientId: 'x' } });
	assert.equal(h.getLastMessageId(), null);
	env.sockets[0].serverClose(1006);
	env.clock.tick(5000);
	assert.doesNotMatch(env.sockets[1].url, /since=/, 'no id seen yet');

	env.sockets[1].serverOpen();
	env.sockets[1].serverSend({ success: true, id: 41, data: { type: 'todo-created' } });
	env.sockets[1].serverSend({ success: true, id: 42, data: { type: 'todo-updated' } });
	env.sockets[1].serverSend({ success: true, id: 40, data: { type: 'todo-deleted' } });
	env.sockets[1].serverSend({ success: true, id: '99', data: { type: 'x' } });	// not numeric
	assert.equal(h.getLastMessageId(), 42);
	env.sockets[1].serverClose(1006);
	env.clock.tick(5000);
	assert.match(env.sockets[2].url, /[?&]since=42(&|$)/);
	assert.match(env.sockets[2].url, /[?&]uuid=/);

	// a new handle for the same path starts afresh
	h.disconnect();
	env.ws.connect(NS);
	assert.doesNotMatch(env.sockets[3].url, /since=/);
});

test('URL: ws: under http, wss: under https, uuid as query parameter, full URLs kept', () => {
	const env = loadClient({ location: { protocol: 'https:', host: 'pulse.example:8443' } });
	const h = env.ws.connect('/api/1/ws/hello-emoji');
	const u = new URL(env.sockets[0].url);
	assert.equal(u.protocol, 'wss:');
	assert.equal(u.host, 'pulse.example:8443');
	assert.equal(u.pathname, '/api/1/ws/hello-emoji');
	assert.equal(u.searchParams.get('uuid'), h.getUUID());

	const env2 = loadClient({ location: { protocol: 'http:', host: 'localhost:8080' } });
	env2.ws.connect('/api/1/ws/a');
	assert.match(env2.sockets[0].url, /^ws:\/\/localhost:8080\/api\/1\/ws\/a\?uuid=[0-9a-f-]{36}$/);
	env2.ws.connect('ws://127.0.0.1:9/api/1/ws/b?x=1');
	assert.match(env2.sockets[1].url, /^ws:\/\/127\.0\.0\.1:9\/api\/1\/ws\/b\?x=1&uuid=/);
});

test('base URL: connect option, then configure(), then <meta name="jpulse-ws-base-url">, then the page origin', () => {
	const meta = { getAttribute: (n) => (n === 'content' ? 'https://ws.example.test:8443/' : null) };
	const document = { querySelector: (q) => (q === 'meta[name="jpulse-ws-base-url"]' ? meta : null) };
	const env = loadClient({ location: { protocol: 'https:', host: 'www.example.test' }, globals: { document } });
	env.ws.connect('/api/1/ws/a');
	assert.match(env.sockets[0].url, /^wss:\/\/ws\.example\.test:8443\/api\/1\/ws\/a\?uuid=[0-9a-f-]{36}$/, 'meta, https: taken as wss:');
	env.ws.configure({ baseUrl: 'wss://ws2.example.test' });
	env.ws.connect('/api/1/ws/b');
	assert.match(env.sockets[1].url, /^wss:\/\/ws2\.example\.test\/api\/1\/ws\/b\?uuid=/, 'configure() over the meta tag');
	env.ws.connect('/api/1/ws/c', { baseUrl: 'ws://127.0.0.1:9/prefix/' });
	assert.match(env.sockets[2].url, /^ws:\/\/127\.0\.0\.1:9\/prefix\/api\/1\/ws\/c\?uuid=/, 'the option over configure(), with a path prefix');
	env.ws.connect('wss://other.test/api/1/ws/d');
	assert.match(env.sockets[3].url, /^wss:\/\/other\.test\/api\/1\/ws\/d\?uuid=/, 'a full URL is kept');
	assert.throws(() => env.ws.connect('/api/1/ws/e', { baseUrl: 'ws.example.test' }), /baseUrl must be/);
	assert.throws(() => env.ws.configure({ baseUrl: 'ftp://x' }), /baseUrl must be/);
	// Without any of them: the page's origin, as before.
	const env2 = loadClient({ location: { protocol: 'https:', host: 'www.example.test' } });
	env2.ws.connect('/api/1/ws/a');
	assert.match(env2.sockets[0].url, /^wss:\/\/www\.example\.test\/api\/1\/ws\/a\?uuid=/);
});

test('uuid: localStorage by default, persists across page loads', () => {
	const local = new MemStorage();
	const session = new MemStorage();
	const p1 = loadClient({ localStorage: local, sessionStorage: session });
	const u1 = p1.ws.connect(NS).getUUID();
	assert.match(u1, UUID_V4);
	assert.equal(local.getItem('jPulse.ws.clientUUID'), u1);
	assert.equal(session.getItem('jPulse.ws.clientUUID'), null);
	assert.equal(p1.ws.connect('/api/1/ws/other').getUUID(), u1, 'one uuid per browser');

	const p2 = loadClient({ localStorage: local, sessionStorage: new MemStorage() });
	assert.equal(p2.ws.connect(NS).getUUID(), u1, 'same uuid after a reload');
	assert.equal(new URL(p2.sockets[0].url).searchParams.get('uuid'), u1);

	const p3 = loadClient();
	assert.notEqual(p3.ws.connect(NS).getUUID(), u1, 'another browser, another uuid');
});

test('uuid: session storage mode', () => {
	const local = new MemStorage();
	const session = new MemStorage();
	const p1 = loadClient({ localStorage: local, sessionStorage: session });
	const u1 = p1.ws.connect(NS, { uuidStorage: 'session' }).getUUID();
	assert.match(u1, UUID_V4);
	assert.equal(session.getItem('jPulse.ws.clientUUID'), u1);
	assert.equal(local.getItem('jPulse.ws.clientUUID'), null);
	const p2 = loadClient({ localStorage: local, sessionStorage: session });
	p2.ws.configure({ uuidStorage: 'session' });
	assert.equal(p2.ws.connect(NS).getUUID(), u1, 'same tab, reload');
	const p3 = loadClient({ localStorage: local, sessionStorage: new MemStorage() });
	p3.ws.configure({ uuidStorage: 'session' });
	assert.notEqual(p3.ws.connect(NS).getUUID(), u1, 'another tab');
});

test('uuid: memory mode stores nothing and lasts one page', () => {
	const local = new MemStorage();
	const session = new MemStorage();
	const p1 = loadClient({ localStorage: local, sessionStorage: session });
	const u1 = p1.ws.connect(NS, { uuidStorage: 'memory' }).getUUID();
	assert.match(u1, UUID_V4);
	assert.equal(p1.ws.getClientUUID('memory'), u1);
	assert.equal(local.map.size + session.map.size, 0);
	const p2 = loadClient({ localStorage: local, sessionStorage: session });
	assert.notEqual(p2.ws.connect(NS, { uuidStorage: 'memory' }).getUUID(), u1);
});

test('uuid: broken storage falls back to memory; a corrupt stored value is replaced', () => {
	const p1 = loadClient({ localStorage: new ThrowingStorage() });
	const h = p1.ws.connect(NS);
	assert.match(h.getUUID(), UUID_V4);
	assert.equal(p1.ws.connect('/api/1/ws/b').getUUID(), h.getUUID());

	const p2 = loadClient({ localStorage: undefined });
	assert.match(p2.ws.connect(NS).getUUID(), UUID_V4);

	const local = new MemStorage();
	local.setItem('jPulse.ws.clientUUID', '<script>');
	const p3 = loadClient({ localStorage: local });
	const u3 = p3.ws.connect(NS).getUUID();
	assert.match(u3, UUID_V4);
	assert.equal(local.getItem('jPulse.ws.clientUUID'), u3);
});

test('uuid: v4 without crypto.randomUUID (insecure context) and without crypto', async () => {
	const { webcrypto } = await import('node:crypto');
	const p1 = loadClient({ crypto: { getRandomValues: (a) => webcrypto.getRandomValues(new Uint8Array(a.length)).forEach((v, i) => { a[i] = v; }) || a } });
	const p2 = loadClient({ crypto: undefined });
	const seen = new Set();
	for (let i = 0; i < 200; i++) {
		for (const p of [p1, p2]) {
			const u = p.ws._internals.generateUUID();
			assert.match(u, UUID_V4);
			seen.add(u);
		}
	}
	assert.equal(seen.size, 400);
});

test('does not clobber an existing window.jPulse; loading twice keeps the first instance', () => {
	const existing = { api: { get() { return 'mine'; } }, UI: {} };
	const env = loadClient({ jPulse: existing });
	assert.equal(env.win.jPulse, existing, 'same object');
	assert.equal(env.win.jPulse.api.get(), 'mine');
	assert.ok(env.win.jPulse.UI);
	assert.equal(typeof env.win.jPulse.ws.connect, 'function');

	const h = env.ws.connect(NS);
	evalIn(env.ctx, 'jpulse-ws.js');		// included again by another template
	assert.equal(env.win.jPulse.ws, env.ws, 'first instance kept');
	assert.equal(env.win.jPulse.ws.connect(NS), h, 'its connections kept');

	const fresh = loadClient();
	assert.equal(typeof fresh.win.jPulse.ws.connect, 'function', 'creates window.jPulse when absent');
});

test('works when evaluated with module semantics (strict, top-level this undefined)', () => {
	const existing = { keep: true };
	const env = loadClient({ asModule: true, jPulse: existing });
	assert.equal(env.win.jPulse, existing);
	const h = env.win.jPulse.ws.connect(NS);
	env.sockets[0].serverOpen();
	assert.equal(h.isConnected(), true);
});

test('works as an ES module import (jpulse-ws.mjs) and shares globalThis.jPulse', async () => {
	const before = { other: 42 };
	globalThis.jPulse = before;
	try {
		const mod = await import('../../www/jpulse-ws.mjs');
		assert.equal(typeof mod.default.connect, 'function');
		assert.equal(mod.ws, mod.default);
		assert.equal(globalThis.jPulse, before, 'existing jPulse kept');
		assert.equal(globalThis.jPulse.other, 42);
		assert.equal(globalThis.jPulse.ws, mod.default);
		assert.equal(typeof mod.connect, 'function');
		deq(mod.getConnections(), []);
		assert.match(mod.getClientUUID('memory'), UUID_V4);
	} finally {
		delete globalThis.jPulse;
	}
});

test('cursor: since=<floor> survives an out-of-order commit; ids already had are dropped', () => {
	const env = loadClient();
	const h = env.ws.connect(NS, { jitter: false });
	const got = [];
	h.onMessage((data, msg) => got.push(msg.id === undefined ? data.type : msg.id));
	env.sockets[0].serverOpen();
	env.sockets[0].serverSend({ success: true, floor: 39, data: { type: 'connected', clientId: 'x' } });
	assert.equal(h.getCursor(), 39, 'the welcome floor');
	// 41 commits before 40: the server's floor stays at 39 until 40 comes.
	env.sockets[0].serverSend({ success: true, id: 41, floor: 39, data: { type: 'a' } });
	assert.equal(h.getLastMessageId(), 41);
	assert.equal(h.getCursor(), 39, 'not the highest id: 40 is still to come');
	env.sockets[0].serverClose(1006);
	env.clock.tick(5000);
	assert.match(env.sockets[1].url, /[?&]since=39(&|$)/);
	// The replay from 39 repeats 41, which is dropped.
	env.sockets[1].serverOpen();
	env.sockets[1].serverSend({ success: true, data: { type: 'connected', clientId: 'x' } });
	env.sockets[1].serverSend({ success: true, id: 40, floor: 40, data: { type: 'b' } });
	env.sockets[1].serverSend({ success: true, id: 41, floor: 41, data: { type: 'a' } });
	env.sockets[1].serverSend({ success: true, id: 42, floor: 42, data: { type: 'c' } });
	env.sockets[1].serverSend({ success: true, id: 40, floor: 42, data: { type: 'b' } });	// at or below the floor
	deq(got, ['connected', 41, 'connected', 40, 42]);
	assert.equal(h.getCursor(), 42);
	env.sockets[1].serverClose(1006);
	env.clock.tick(5000);
	assert.match(env.sockets[2].url, /[?&]since=42(&|$)/);
});

test('history-gap: passed to onMessage, and the cursor moves past the gap', () => {
	const env = loadClient();
	const h = env.ws.connect(NS, { jitter: false });
	const got = [];
	h.onMessage((data) => got.push(data));
	env.sockets[0].serverOpen();
	env.sockets[0].serverSend({ success: true, floor: 90, data: { type: 'history-gap', from: 11, to: 90 } });
	deq(got, [{ type: 'history-gap', from: 11, to: 90 }]);
	assert.equal(h.getCursor(), 90);
});

test('a socket that fires only error (Node\'s WebSocket on a refused handshake) is reconnected', () => {
	const env = loadClient();
	const h = env.ws.connect(NS, { jitter: false, reconnectBaseInterval: 1000 });
	const s = env.sockets[0];
	s.readyState = 3;
	s.onerror({ type: 'error' });		// and no close event, ever
	env.clock.tick(1);
	assert.equal(h.getStatus(), 'reconnecting');
	env.clock.tick(1000);
	assert.equal(env.sockets.length, 2, 'a second attempt');
	// In a browser the close event follows the error in the same task: one
	// reconnect, not two.
	env.sockets[1].serverClose(1006);
	env.clock.tick(1);
	env.clock.tick(2000);
	assert.equal(env.sockets.length, 3);
	env.clock.tick(2999);
	assert.equal(env.sockets.length, 3, 'no extra attempt from the error');
});

test('token: a string is sent as &token= (URL-encoded) on every connect', () => {
	const env = loadClient();
	env.ws.connect(NS, { jitter: false, token: 'a.b+c/d' });
	assert.match(env.sockets[0].url, /[?&]token=a\.b%2Bc%2Fd(&|$)/);
	env.sockets[0].serverOpen();
	env.sockets[0].serverClose(1006);
	env.clock.tick(5000);
	assert.match(env.sockets[1].url, /[?&]token=a\.b%2Bc%2Fd(&|$)/);
	const env2 = loadClient();
	env2.ws.connect(NS);
	assert.doesNotMatch(env2.sockets[0].url, /token=/, 'no token option: no token parameter');
});

test('token: a function is called before every (re)connect; a Promise is awaited', async () => {
	const env = loadClient();
	let n = 0;
	env.ws.connect(NS, { jitter: false, token: () => 'tok' + (++n) });
	assert.match(env.sockets[0].url, /token=tok1/);
	env.sockets[0].serverClose(1006);
	env.clock.tick(5000);
	assert.match(env.sockets[1].url, /token=tok2/);

	const env2 = loadClient();
	let resolve;
	env2.ws.connect(NS, { jitter: false, token: () => new Promise((r) => { resolve = r; }) });
	assert.equal(env2.sockets.length, 0, 'no socket before the token is there');
	resolve('late-token');
	await new Promise((r) => setImmediate(r));
	assert.equal(env2.sockets.length, 1);
	assert.match(env2.sockets[0].url, /token=late-token/);
});

test('token: a rejected Promise or a throwing function is a failed attempt (backoff, then retried)', async () => {
	const env = loadClient();
	let calls = 0;
	const h = env.ws.connect(NS, { jitter: false, token: () => { calls++; if (calls === 1) throw new Error('session gone'); return Promise.resolve('t2'); } });
	assert.equal(env.sockets.length, 0);
	assert.equal(h.getStatus(), 'reconnecting');
	assert.match(h.getCloseReason().reason, /session gone/);
	env.clock.tick(5000);
	await new Promise((r) => setImmediate(r));
	assert.equal(env.sockets.length, 1);
	assert.match(env.sockets[0].url, /token=t2/);
	const env2 = loadClient();
	const h2 = env2.ws.connect(NS, { jitter: false, token: () => Promise.reject(new Error('no')) });
	await new Promise((r) => setImmediate(r));
	assert.equal(h2.getStatus(), 'reconnecting');
	assert.equal(env2.sockets.length, 0);
});

test('token: close 4408 (token expired) gets a fresh token and reconnects at once with since=, never disconnected', async () => {
	const env = loadClient();
	let n = 0;
	const h = env.ws.connect(NS, { jitter: false, token: () => Promise.resolve('fresh' + (++n)) });
	const calls = statusLog(h);
	await new Promise((r) => setImmediate(r));
	env.sockets[0].serverOpen();
	env.sockets[0].serverSend({ success: true, id: 7, data: { type: 'x' } });
	env.sockets[0].serverClose(4408, 'token expired');
	await new Promise((r) => setImmediate(r));
	assert.equal(env.sockets.length, 2, 'reconnected without waiting for the backoff');
	assert.equal(env.clock.now, 0, 'no time passed');
	assert.match(env.sockets[1].url, /token=fresh2/);
	assert.match(env.sockets[1].url, /[?&]since=7(&|$)/);
	env.sockets[1].serverOpen();
	deq(calls, [['connected', 'connecting']], 'no reconnecting, no disconnected');
	assert.equal(h.getStatus(), 'connected');
	// A second expiry later renews again.
	env.sockets[1].serverClose(4408, 'token expired');
	await new Promise((r) => setImmediate(r));
	assert.equal(env.sockets.length, 3);
	// If the immediate reconnect fails, the usual backoff follows.
	env.sockets[2].serverClose(1006);
	assert.equal(h.getStatus(), 'reconnecting');
	env.clock.tick(4999);
	await new Promise((r) => setImmediate(r));
	assert.equal(env.sockets.length, 3);
	env.clock.tick(1);
	await new Promise((r) => setImmediate(r));
	assert.equal(env.sockets.length, 4);
	// Without a token option, 4408 is an ordinary close (backoff).
	const env2 = loadClient();
	env2.ws.connect(NS, { jitter: false });
	env2.sockets[0].serverOpen();
	env2.sockets[0].serverClose(4408);
	assert.equal(env2.sockets.length, 1);
});

test('close 4409 (the session ended, a namespace open to anyone) reconnects at once, never disconnected; a second in a row waits for the backoff', async () => {
	const env = loadClient();
	const h = env.ws.connect(NS, { jitter: false });
	const calls = statusLog(h);
	env.sockets[0].serverOpen();
	env.sockets[0].serverClose(4409, 'session ended, reconnect');
	assert.equal(env.sockets.length, 2, 'reconnected without waiting for the backoff');
	assert.equal(env.clock.now, 0, 'no time passed');
	env.sockets[1].serverOpen();
	deq(calls, [['connected', 'connecting']], 'no reconnecting, no disconnected');
	assert.equal(h.getCloseReason().code, 4409);
	assert.equal(h.getCloseReason().reason, 'session ended, reconnect');
	// The immediate reconnect closed again at once: the usual backoff.
	env.sockets[1].serverClose(4409);
	assert.equal(env.sockets.length, 3);
	env.sockets[2].serverClose(4409);
	assert.equal(h.getStatus(), 'reconnecting');
	assert.equal(env.sockets.length, 3);
});
