// Unit tests of www/admin/websocket-stats.js: formatting, activity filtering
// and shortening, and rendering on a minimal fake DOM.
// Run: node --test tests/js/

import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadScript, FakeDocument, WWW } from './lib/harness.mjs';

const plain = (v) => JSON.parse(JSON.stringify(v));
const deq = (a, b, m) => assert.deepEqual(plain(a), b, m);
const S = loadScript('admin/websocket-stats.js').win.WspStats;

const NOW = Date.parse('2026-11-25T20:00:00Z');
const ago = (s) => new Date(NOW - s * 1000).toISOString();

function stats(over = {}) {
	return {
		uptime: 93784000,
		totalMessages: 1234567,
		daemons: [{ id: 'd1', host: 'h1', pid: 42, workers: 2, uptime: 100000, up: true, updatedAt: ago(3) }],
		namespaces: [
			{ path: '/api/1/ws/hello-todo', status: 'yellow', clientCount: 2, activeUsers: 1, messagesPerMin: 0, messagesPerHour: 12, totalMessages: 40, dropped: 0, lastActivity: ago(600) },
			{ path: '/api/1/ws/hello-emoji', status: 'green', clientCount: 3, activeUsers: 2, messagesPerMin: 120, messagesPerHour: 7200, totalMessages: 10000, dropped: 1, lastActivity: ago(5) },
		],
		activityLog: [
			{ timestamp: ago(1), namespace: '/api/1/ws/hello-emoji', direction: 'received', type: 'cursor', username: 'alice', message: '{"type":"cursor","x":1}' },
			{ timestamp: ago(2), namespace: '/api/1/ws/hello-emoji', type: 'ping', username: '', message: '{"type":"ping"}' },
			{ timestamp: ago(3), namespace: '/api/1/ws/hello-todo', direction: 'sent', type: 'todo-created', username: 'bob', message: 'x'.repeat(300) },
			{ timestamp: ago(4), namespace: '/api/1/ws/hello-emoji', type: 'pong', username: '', message: '' },
		],
		...over,
	};
}

test('shorten: 120 characters then …; short text kept; non-strings as JSON', () => {
	assert.equal(S.MESSAGE_MAX, 120);
	assert.equal(S.shorten('a'.repeat(120)), 'a'.repeat(120));
	assert.equal(S.shorten('a'.repeat(121)), 'a'.repeat(120) + '…');
	assert.equal(S.shorten('hello', 3), 'hel…');
	assert.equal(S.shorten({ a: 1 }), '{"a":1}');
	assert.equal(S.shorten(null), '');
	const emoji = 'a'.repeat(119) + '😀' + 'b';
	assert.equal(S.shorten(emoji), 'a'.repeat(119) + '…', 'no half surrogate pair');
});

test('ping and pong entries are hidden, by type or by message', () => {
	assert.equal(S.isPingPong({ type: 'ping' }), true);
	assert.equal(S.isPingPong({ type: 'PONG' }), true);
	assert.equal(S.isPingPong({ type: '', message: '{"type":"pong"}' }), true);
	assert.equal(S.isPingPong({ type: 'message', message: '{"success":true,"data":{"type":"ping"}}' }), true);
	assert.equal(S.isPingPong({ type: 'cursor', message: '{"type":"cursor"}' }), false);
	assert.equal(S.isPingPong({ type: 'ping-result' }), false);
	assert.equal(S.isPingPong({ type: 'x', message: '{not json' }), false);
});

test('activityItems: filtered, newest first, shortened, capped', () => {
	const log = stats().activityLog.slice().reverse();	// server order must not matter
	const items = S.activityItems(log);
	deq(items.map((i) => i.type), ['cursor', 'todo-created']);
	assert.equal(items[1].message, 'x'.repeat(120) + '…');
	assert.equal(items[1].fullMessage.length, 300);
	assert.equal(items[1].shortened, true);
	assert.equal(items[0].shortened, false);
	assert.equal(items[0].username, 'alice');
	assert.equal(items[0].direction, 'received');
	assert.equal(items[1].direction, 'sent');

	const many = Array.from({ length: 250 }, (_, i) => ({ timestamp: ago(i), namespace: 'n', type: 't' + i, username: '', message: 'm' }));
	const capped = S.activityItems(many);
	assert.equal(capped.length, 100);
	assert.equal(capped[0].type, 't0');
	assert.equal(S.activityItems(many, { max: 5 }).length, 5);
	deq(S.activityItems(null), []);
	deq(S.activityItems([null, 5, { type: 'ok', timestamp: 'garbage' }]).map((i) => i.type), ['ok']);
});

test('formatUptime, formatNumber, formatAgo', () => {
	assert.equal(S.formatUptime(42000), '42s');
	assert.equal(S.formatUptime(303000), '5m 03s');
	assert.equal(S.formatUptime(14700000), '4h 05m');
	assert.equal(S.formatUptime(93784000), '1d 2h 03m');
	assert.equal(S.formatUptime(-1), '—');
	assert.equal(S.formatUptime(undefined), '—');
	assert.equal(S.formatNumber(1234567), '1,234,567');
	assert.equal(S.formatNumber(0), '0');
	assert.equal(S.formatNumber(12.5), '12.5');
	assert.equal(S.formatNumber(null), '—');
	assert.equal(S.formatAgo(null, NOW), 'never');
	assert.equal(S.formatAgo(ago(1), NOW), 'just now');
	assert.equal(S.formatAgo(ago(12), NOW), '12s ago');
	assert.equal(S.formatAgo(ago(600), NOW), '10m ago');
	assert.equal(S.formatAgo(ago(7200), NOW), '2h ago');
	assert.equal(S.formatAgo(ago(3 * 86400), NOW), '3d ago');
});

test('namespaceRows: sorted by path, status validated, columns from the header', () => {
	const rows = S.namespaceRows(stats().namespaces, null, NOW);
	deq(rows.map((r) => [r.path, r.status]), [['/api/1/ws/hello-emoji', 'green'], ['/api/1/ws/hello-todo', 'yellow']]);
	deq(rows[0].cells.map((c) => c.text), ['/api/1/ws/hello-emoji', '3', '2', '120', '7,200', '10,000', '1', '5s ago']);
	const custom = S.namespaceRows(stats().namespaces, ['path', 'clientCount', 'lastActivity'], NOW);
	deq(custom[1].cells.map((c) => c.text), ['/api/1/ws/hello-todo', '2', '10m ago']);
	assert.equal(S.namespaceRows([{ path: '/x', status: 'purple' }])[0].status, 'red');
	deq(S.namespaceRows(undefined), []);
});

test('cards sum the clients', () => {
	deq(S.cards(stats()), { uptime: '1d 2h 03m', totalMessages: '1,234,567', namespaceCount: '2', clientCount: '5' });
	deq(S.cards({}), { uptime: '—', totalMessages: '—', namespaceCount: '0', clientCount: '0' });
});

function adminDoc(withCols = true) {
	const doc = new FakeDocument();
	for (const id of ['wsp-uptime', 'wsp-total-messages', 'wsp-namespace-count', 'wsp-client-count', 'wsp-updated'])
		doc.build(['div', { id, text: '…' }]);
	doc.build(['span', { id: 'wsp-conn', class: 'wsp-conn wsp-conn-connecting', text: 'connecting' }]);
	const cols = withCols ? ['path', 'clientCount', 'messagesPerMin', 'lastActivity'] : ['Namespace', 'Clients'];
	doc.build(['table', {},
		['thead', {}, ['tr', {}, ...cols.map((c) => ['th', withCols ? { 'data-col': c, text: c } : { text: c }])]],
		['tbody', { id: 'wsp-namespaces' }, ['tr', { 'data-path': '/old' }, ['td', { text: 'server-rendered' }]]]]);
	doc.build(['ul', { id: 'wsp-activity' }]);
	doc.build(['table', {}, ['tbody', { id: 'wsp-daemons' }]]);
	return doc;
}

test('render: cards, namespace rows with dots, activity, updated time', () => {
	const doc = adminDoc();
	S.render(doc, stats(), NOW);
	assert.equal(doc.getElementById('wsp-uptime').textContent, '1d 2h 03m');
	assert.equal(doc.getElementById('wsp-total-messages').textContent, '1,234,567');
	assert.equal(doc.getElementById('wsp-namespace-count').textContent, '2');
	assert.equal(doc.getElementById('wsp-client-count').textContent, '5');

	const rows = doc.getElementById('wsp-namespaces').children;
	deq(rows.map((r) => r.getAttribute('data-path')), ['/api/1/ws/hello-emoji', '/api/1/ws/hello-todo']);
	const first = rows[0].children[0];
	assert.equal(first.children[0].className, 'wsp-dot wsp-green');
	assert.equal(rows[1].children[0].children[0].className, 'wsp-dot wsp-yellow');
	assert.equal(first.textContent, '/api/1/ws/hello-emoji');
	deq(rows[0].children.map((td) => td.textContent), ['/api/1/ws/hello-emoji', '3', '120', '5s ago'], 'columns follow data-col');

	const lis = doc.getElementById('wsp-activity').children;
	assert.equal(lis.length, 2);
	assert.match(lis[0].textContent, /cursor/);
	assert.doesNotMatch(doc.getElementById('wsp-activity').textContent, /ping|pong/);
	const msg = lis[1].children.find((c) => c.className === 'wsp-msg');
	assert.equal(msg.textContent, 'x'.repeat(120) + '…');
	assert.equal(msg.getAttribute('title').length, 300);

	assert.match(doc.getElementById('wsp-updated').textContent, /^\d\d:\d\d:\d\d$/);
	assert.equal(doc.getElementById('wsp-updated').getAttribute('data-time'), new Date(NOW).toISOString());
	assert.equal(doc.getElementById('wsp-daemons').children[0].getAttribute('data-id'), 'd1');

	// the next update replaces, never appends
	S.render(doc, stats({ namespaces: [stats().namespaces[0]], activityLog: [] }), NOW + 5000);
	deq(doc.getElementById('wsp-namespaces').children.map((r) => r.getAttribute('data-path')), ['/api/1/ws/hello-todo']);
	deq(doc.getElementById('wsp-activity').children.map((l) => l.className), ['wsp-empty']);
	assert.equal(doc.getElementById('wsp-client-count').textContent, '2');
});

test('render: default columns without data-col; no namespaces; text never parsed as HTML', () => {
	const doc = adminDoc(false);
	const evil = '<img src=x onerror=alert(1)>';
	S.render(doc, stats({ namespaces: [{ path: evil, status: 'green', clientCount: 1 }],
		activityLog: [{ timestamp: ago(1), namespace: evil, type: evil, username: evil, message: evil }] }), NOW);
	const row = doc.getElementById('wsp-namespaces').children[0];
	assert.equal(row.getAttribute('data-path'), evil);
	assert.equal(row.children.length, S.DEFAULT_COLUMNS.length);
	assert.equal(row.children[0].textContent, evil);
	assert.match(doc.getElementById('wsp-activity').textContent, /<img src=x onerror=alert\(1\)>/);

	S.render(doc, stats({ namespaces: [] }), NOW);
	const empty = doc.getElementById('wsp-namespaces').children;
	assert.equal(empty.length, 1);
	assert.equal(empty[0].className, 'wsp-empty');
});

test('setConnection: text = status, one wsp-conn-<status> class', () => {
	const doc = adminDoc();
	S.setConnection(doc, 'connected');
	const pill = doc.getElementById('wsp-conn');
	assert.equal(pill.textContent, 'connected');
	assert.equal(pill.className, 'wsp-conn wsp-conn-connected');
	S.setConnection(doc, 'reconnecting');
	assert.equal(pill.className, 'wsp-conn wsp-conn-reconnecting');
	S.setConnection(doc, 'disconnected', 'Admin role required (4403)');
	assert.equal(pill.getAttribute('title'), 'Admin role required (4403)');
	assert.equal(pill.textContent, 'disconnected');
});

test('no www script writes innerHTML, outerHTML, insertAdjacentHTML or document.write', () => {
	for (const f of ['jpulse-ws.js', 'hello-websocket/hello-websocket.js', 'login/login.js', 'admin/websocket-stats.js']) {
		const src = readFileSync(path.join(WWW, f), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
		assert.doesNotMatch(src, /innerHTML|outerHTML|insertAdjacentHTML|document\.write/, f);
	}
});

test('presenceRows: one row per namespace from GET /api/1/websocket/presence', () => {
	const rows = S.presenceRows({ namespaces: [
		{ namespace: '/api/1/ws/hello-emoji', userCount: 3, workers: 2, users: ['alice', 'bob'] },
		{ namespace: '/api/1/ws/hello-todo', userCount: 1, workers: 1, users: [] },
	], expireSeconds: 3 });
	deq(rows.map((r) => r.cells), [
		['/api/1/ws/hello-emoji', '3', '2', 'alice, bob'],
		['/api/1/ws/hello-todo', '1', '1', '—'],
	]);
	deq(S.presenceRows(null), []);
});
