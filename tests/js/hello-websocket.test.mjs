// Unit tests of the pure logic of www/hello-websocket/hello-websocket.js.
// Run: node --test tests/js/

import test from 'node:test';
import assert from 'node:assert/strict';
import { loadScript, FakeClock } from './lib/harness.mjs';

const plain = (v) => JSON.parse(JSON.stringify(v));
const deq = (a, b, m) => assert.deepEqual(plain(a), b, m);
const H = loadScript('hello-websocket/hello-websocket.js').win.HelloWebsocket;

test('loads without a document and does not start the page', () => {
	const env = loadScript('hello-websocket/hello-websocket.js');
	assert.equal(typeof env.win.HelloWebsocket.applyTodoEvent, 'function');
	assert.equal(env.win.helloWs, undefined);
	assert.equal(H.EMOJI_NS, '/api/1/ws/hello-emoji');
	assert.equal(H.TODO_NS, '/api/1/ws/hello-todo');
	assert.equal(H.CURSOR_INTERVAL, 50);
});

test('toPercent: position as clamped percentages, same for any window size', () => {
	deq(H.toPercent(150, 100, { left: 100, top: 50, width: 200, height: 100 }), { x: 25, y: 50 });
	deq(H.toPercent(600, 300, { left: 200, top: 100, width: 1600, height: 800 }), { x: 25, y: 25 });
	deq(H.toPercent(0, 9999, { left: 100, top: 50, width: 200, height: 100 }), { x: 0, y: 100 });
	deq(H.toPercent(133.3333, 10, { left: 0, top: 0, width: 300, height: 0 }), { x: 44.44, y: 0 });
});

test('throttle: first call at once, then at most one per 50 ms, trailing call kept', () => {
	const clock = new FakeClock();
	const calls = [];
	const t = H.throttle((x) => calls.push([clock.now, x]), 50,
		{ now: () => clock.now, setTimeout: (f, ms) => clock.setTimeout(f, ms), clearTimeout: (id) => clock.clearTimeout(id) });
	t(1);				// t=0: sent
	clock.tick(10); t(2);		// queued
	clock.tick(10); t(3);		// replaces 2
	clock.tick(30);			// t=50: 3 sent
	clock.tick(5); t(4);		// t=55: queued until 100
	clock.tick(100);
	t(5);				// t=155: window passed, at once
	deq(calls, [[0, 1], [50, 3], [100, 4], [155, 5]]);

	// a burst of mouse moves over one second: ≤ 21 messages (one per 50 ms + last)
	const clock2 = new FakeClock();
	let n = 0;
	const t2 = H.throttle(() => n++, 50, { now: () => clock2.now, setTimeout: (f, ms) => clock2.setTimeout(f, ms), clearTimeout: (id) => clock2.clearTimeout(id) });
	for (let i = 0; i < 1000; i += 4) { t2(i); clock2.tick(4); }
	clock2.tick(100);
	assert.ok(n >= 19 && n <= 21, `${n} messages`);
	t2(1); t2(2); t2.cancel(); clock2.tick(100);
	assert.ok(n <= 22);
});

test('userCountOf: the count of welcome, user-joined, user-left and presence (jPulse: userCount)', () => {
	assert.equal(H.userCountOf({ type: 'welcome', userCount: 2 }), 2);
	assert.equal(H.userCountOf({ type: 'user-left', clientId: 'x', userCount: 0 }), 0);
	assert.equal(H.userCountOf({ type: 'user-joined', userCount: 5, count: 5 }), 5);
	assert.equal(H.userCountOf({ type: 'presence', count: 5 }), null, 'count alone is the Pattern-5 name; the page reads userCount');
	assert.equal(H.userCountOf({ type: 'cursor', userCount: 5 }), null);
	assert.equal(H.userCountOf(null), null);
});

test('presenceText', () => {
	assert.equal(H.presenceText(0), '0 users online');
	assert.equal(H.presenceText(1), '1 user online');
	assert.equal(H.presenceText(12), '12 users online');
	assert.equal(H.presenceText('x'), '0 users online');
});

test('cursorAction: own broadcasts ignored, others upserted, left removed, presence', () => {
	const me = 'c-me';
	deq(H.cursorAction({ type: 'cursor', clientId: me, x: 1, y: 2, emoji: 'a' }, me), { op: 'ignore' });
	deq(H.cursorAction({ type: 'cursor', clientId: 'c-2', username: 'bob', emoji: '🚀', x: 31.5, y: 140 }, me),
		{ op: 'upsert', clientId: 'c-2', username: 'bob', emoji: '🚀', x: 31.5, y: 100 });
	deq(H.cursorAction({ type: 'user-emoji', clientId: 'c-2', username: '', emoji: '🐱' }, me),
		{ op: 'emoji', clientId: 'c-2', username: '', emoji: '🐱' });
	deq(H.cursorAction({ type: 'user-emoji', clientId: me, emoji: '🐱' }, me), { op: 'ignore' });
	deq(H.cursorAction({ type: 'user-left', clientId: 'c-2' }, me), { op: 'remove', clientId: 'c-2' });
	deq(H.cursorAction({ type: 'presence', userCount: 3, count: 3 }, me), { op: 'presence', text: '3 users online' });
	deq(H.cursorAction({ type: 'welcome', message: 'hi', userCount: 1 }, me), { op: 'presence', text: '1 user online' });
	deq(H.cursorAction({ type: 'user-joined', clientId: 'c-3', userCount: 4, count: 4 }, me), { op: 'presence', text: '4 users online' });
	deq(H.cursorAction({ type: 'user-left', userCount: 2, count: 2 }, me), { op: 'ignore' }, 'a count-only user-left removes no cursor');
	deq(H.cursorAction(null, me), { op: 'ignore' });
	deq(H.cursorAction({ type: 'connected', clientId: me }, me), { op: 'ignore' });
});

const t1 = { _id: '1', title: 'one', completed: false, username: 'alice', createdAt: '2026-01-01T10:00:00Z', updatedAt: '2026-01-01T10:00:00Z' };
const t2 = { _id: '2', title: 'two', completed: false, username: 'bob', createdAt: '2026-01-01T11:00:00Z', updatedAt: '2026-01-01T11:00:00Z' };

test('applyTodoEvent: created prepends (newest first) and is idempotent', () => {
	let list = H.applyTodoEvent([], { type: 'todo-created', todo: t1, username: 'alice' });
	list = H.applyTodoEvent(list, { type: 'todo-created', todo: t2, username: 'bob' });
	deq(list.map((t) => t._id), ['2', '1']);
	const again = H.applyTodoEvent(list, { type: 'todo-created', todo: t2, username: 'bob' });
	deq(again.map((t) => t._id), ['2', '1'], 'a replayed event adds nothing');
});

test('applyTodoEvent: updated replaces, older updates ignored, unknown id inserted', () => {
	const list = [t2, t1];
	const done = { ...t1, completed: true, updatedAt: '2026-01-01T12:00:00Z' };
	const after = H.applyTodoEvent(list, { type: 'todo-updated', todo: done });
	assert.equal(after.find((t) => t._id === '1').completed, true);
	assert.equal(list[1].completed, false, 'input not modified');
	const stale = { ...t1, completed: false, updatedAt: '2026-01-01T11:30:00Z' };
	assert.equal(H.applyTodoEvent(after, { type: 'todo-updated', todo: stale }), after, 'stale update ignored');
	const t3 = { _id: '3', title: 'three', createdAt: '2026-01-01T10:30:00Z', updatedAt: '2026-01-01T10:30:00Z' };
	deq(H.applyTodoEvent(after, { type: 'todo-updated', todo: t3 }).map((t) => t._id), ['2', '3', '1']);
});

test('applyTodoEvent: todo-deleted removes by todoId (jPulse), missing is a no-op', () => {
	const list = [t2, t1];
	deq(H.applyTodoEvent(list, { type: 'todo-deleted', todoId: '1' }).map((t) => t._id), ['2']);
	deq(H.applyTodoEvent(list, { type: 'todo-deleted', todoId: 1 }).map((t) => t._id), ['2'], 'number or string');
	assert.equal(H.applyTodoEvent(list, { type: 'todo-deleted', todoId: '9' }), list);
	assert.equal(H.applyTodoEvent(list, { type: 'todo-created', todo: { id: 1, title: 'no _id' } }), list, 'a todo without _id is ignored');
	assert.equal(H.applyTodoEvent(list, { type: 'todo-deleted' }), list);
	assert.equal(H.applyTodoEvent(list, { type: 'something-else', todo: t1 }), list);
});

test('isTodoEvent', () => {
	assert.equal(H.isTodoEvent({ type: 'todo-created' }), true);
	assert.equal(H.isTodoEvent({ type: 'connected' }), false);
	assert.equal(H.isTodoEvent(null), false);
});

test('toastText says who did what, with the title from the list for deletes', () => {
	assert.equal(H.toastText({ type: 'todo-created', todo: t1, username: 'alice' }), 'alice added “one”');
	assert.equal(H.toastText({ type: 'todo-updated', todo: { ...t1, completed: true }, username: 'bob' }), 'bob completed “one”');
	assert.equal(H.toastText({ type: 'todo-updated', todo: t1, username: 'bob' }), 'bob reopened “one”');
	assert.equal(H.toastText({ type: 'todo-deleted', todoId: '2', username: 'carol' }, [t2, t1]), 'carol deleted “two”');
	assert.equal(H.toastText({ type: 'todo-deleted', todoId: '7', username: '' }, []), 'someone deleted a todo');
	const long = 'x'.repeat(100);
	assert.equal(H.toastText({ type: 'todo-created', todo: { _id: '5', title: long }, username: 'a' }), 'a added “' + 'x'.repeat(60) + '…”');
});

test('combinedStatus is the worst of the sockets', () => {
	assert.equal(H.combinedStatus(['connected', 'connected']), 'connected');
	assert.equal(H.combinedStatus(['connected', 'connecting']), 'connecting');
	assert.equal(H.combinedStatus(['reconnecting', 'connecting']), 'reconnecting');
	assert.equal(H.combinedStatus(['reconnecting', 'disconnected']), 'disconnected');
});
