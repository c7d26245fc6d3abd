// fcgi-admin.test.mjs - the stats API, the server-rendered admin page and the
// publish API, through nginx -> wspulse.fcgi -> PostgreSQL: role refusals,
// summing fresh daemon snapshots while listing stale ones as down, the DOM
// contract with every value escaped, and 60 KiB publishes through the outbox.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, http, login, pgListen } from './lib/stack.mjs';

let s, base, admin, root, bob;
before(async () => {
  s = await startStack({
    users: [
      { name: 'alice', password: 'alice-password-1', roles: ['admin'] },
      { name: 'rooty', password: 'rooty-password-1', roles: ['root'] },
      { name: 'bob', password: 'bob-password-1', roles: ['editor'] },
    ],
  });
  base = s.url;
  admin = (await login(base, 'alice', 'alice-password-1')).cookie;
  root = (await login(base, 'rooty', 'rooty-password-1')).cookie;
  bob = (await login(base, 'bob', 'bob-password-1')).cookie;
});
after(async () => { await s?.stop(); });

const EVIL = '<script>alert("pwn")</script>';

function snapshot(id, updatedAgo, ns) {
  const stats = {
    uptime: 120, totalMessages: ns.reduce((a, n) => a + n.totalMessages, 0),
    namespaces: ns,
    activityLog: ns.map((n, i) => ({ timestamp: `2026-11-25T10:0${i}:00.000Z`, namespace: n.path, type: 'todo-created', username: 'guest', message: `todo-created: ${EVIL}` })),
  };
  s.pg.psql(`INSERT INTO wsp_daemon_stats (daemon_id, host, pid, started_at, updated_at, stats)
    VALUES ($$${id}$$, 'testhost', 4242, now() - interval '120 seconds', now() - interval '${updatedAgo} seconds', $$${JSON.stringify(stats)}$$)
    ON CONFLICT (daemon_id) DO UPDATE SET updated_at = EXCLUDED.updated_at, stats = EXCLUDED.stats`);
}
const nsEntry = (path, clients, total, last) => ({
  path, status: 'green', clientCount: clients, activeUsers: 1, messagesPerMin: 2, messagesPerHour: 10,
  totalMessages: total, dropped: 1, lastActivity: last,
});

test('stats API: 401 anonymous, 403 without admin/root, 200 for admin and root', async () => {
  let r = await http(base, 'GET', '/api/1/websocket/stats');
  assert.equal(r.status, 401);
  assert.equal(r.json.code, 'UNAUTHORIZED');
  r = await http(base, 'GET', '/api/1/websocket/stats', { cookie: bob });
  assert.equal(r.status, 403);
  assert.equal(r.json.code, 'FORBIDDEN');
  for (const cookie of [admin, root]) {
    r = await http(base, 'GET', '/api/1/websocket/stats', { cookie });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.success, true);
    for (const k of ['uptime', 'totalMessages', 'daemons', 'namespaces', 'activityLog']) assert.ok(k in r.json.data, k);
  }
});

test('stats API sums fresh daemon snapshots and lists a stale daemon as down', async () => {
  const now = new Date().toISOString();
  snapshot('test-d1', 1, [nsEntry('/api/1/ws/test-sum', 2, 10, now), nsEntry('/api/1/ws/test-only-d1', 1, 1, now)]);
  snapshot('test-d2', 2, [nsEntry('/api/1/ws/test-sum', 3, 7, now)]);
  snapshot('test-stale', 3600, [nsEntry('/api/1/ws/test-sum', 500, 1000, now), nsEntry('/api/1/ws/test-stale-only', 9, 9, now)]);
  const r = await http(base, 'GET', '/api/1/websocket/stats', { cookie: admin });
  assert.equal(r.status, 200);
  const d = r.json.data;
  const ns = Object.fromEntries(d.namespaces.map((n) => [n.path, n]));
  assert.equal(ns['/api/1/ws/test-sum'].clientCount, 5);
  assert.equal(ns['/api/1/ws/test-sum'].totalMessages, 17);
  assert.equal(ns['/api/1/ws/test-sum'].dropped, 2);
  assert.equal(ns['/api/1/ws/test-sum'].messagesPerHour, 20);
  assert.equal(ns['/api/1/ws/test-sum'].status, 'green');
  assert.equal(ns['/api/1/ws/test-only-d1'].clientCount, 1);
  assert.ok(!('/api/1/ws/test-stale-only' in ns), 'a stale snapshot is not summed');
  assert.ok(d.totalMessages >= 18);
  const daemons = Object.fromEntries(d.daemons.map((x) => [x.id, x]));
  assert.equal(daemons['test-d1'].up, true);
  assert.equal(daemons['test-d2'].up, true);
  assert.equal(daemons['test-stale'].up, false);
  assert.equal(daemons['test-stale'].host, 'testhost');
  assert.equal(daemons['test-stale'].pid, 4242);
  assert.ok(d.activityLog.length >= 3);
  const ts = d.activityLog.map((a) => a.timestamp);
  assert.deepEqual([...ts].sort(), ts, 'oldest first, as jPulse v1.0.4 getStats() lists it (its admin page reverses the array)');
});

test('admin page: 302 to the login page when not logged in, for both names', async () => {
  for (const page of ['/admin/websocket-stats.shtml', '/admin/websocket-status.shtml']) {
    const r = await http(base, 'GET', page);
    assert.equal(r.status, 302);
    assert.equal(r.headers.get('location'), `/login/?next=${page}`);
  }
  // A forged cookie is the same as none.
  const r = await http(base, 'GET', '/admin/websocket-stats.shtml', { cookie: 'wsp_session=v1.abc' });
  assert.equal(r.status, 302);
});

test('admin page: 403 page for a logged-in non-admin', async () => {
  const r = await http(base, 'GET', '/admin/websocket-stats.shtml', { cookie: bob });
  assert.equal(r.status, 403);
  assert.match(r.headers.get('content-type'), /^text\/html/);
  assert.match(r.text, /<h1>Forbidden<\/h1>/);
});

test('admin page: server-rendered for admins, DOM contract, every value escaped', async () => {
  // A todo title with markup, echoed into a daemon's activity log.
  const todo = await http(base, 'POST', '/api/1/helloTodo', { body: { title: EVIL } });
  assert.equal(todo.status, 200);
  const now = new Date().toISOString();
  snapshot('test-d1', 1, [nsEntry('/api/1/ws/test-sum', 2, 10, now), nsEntry(`/api/1/ws/x"><b>`, 1, 1, now)]);
  for (const page of ['/admin/websocket-stats.shtml', '/admin/websocket-status.shtml']) {
    const r = await http(base, 'GET', page, { cookie: admin });
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('content-type'), /^text\/html; charset=utf-8/);
    const h = r.text;
    for (const id of ['wsp-uptime', 'wsp-total-messages', 'wsp-namespace-count', 'wsp-client-count', 'wsp-updated', 'wsp-conn'])
      assert.match(h, new RegExp(`id="${id}"`), id);
    assert.match(h, /<tbody id="wsp-namespaces">/);
    assert.match(h, /<ul id="wsp-activity"/);
    assert.match(h, /<tr class="wsp-ns-row wsp-ns-green" data-path="\/api\/1\/ws\/test-sum"><td><span class="wsp-dot wsp-green">/);
    assert.match(h, /id="wsp-conn" class="wsp-conn wsp-conn-connecting"/);
    assert.match(h, /<link rel="stylesheet" href="\/admin\/websocket-stats.css">/);
    assert.match(h, /<script src="\/jpulse-ws.js"><\/script>/);
    assert.match(h, /<script src="\/admin\/websocket-stats.js"><\/script>/);
    assert.ok(!h.includes(EVIL), 'the script tag is never emitted raw');
    assert.ok(h.includes('todo-created: &lt;script&gt;alert(&quot;pwn&quot;)&lt;/script&gt;'));
    assert.ok(h.includes('data-path="/api/1/ws/x&quot;&gt;&lt;b&gt;"'));
    assert.ok(!h.includes('x"><b>'));
    // Exactly the two scripts we ship, nothing injected.
    assert.equal((h.match(/<script/g) || []).length, 2);
  }
});

test('publish: 401 without credentials or with a wrong token, 403 for a non-admin', async () => {
  const body = { namespace: '/api/1/ws/news', data: { type: 'x' } };
  let r = await http(base, 'POST', '/api/1/websocket/publish', { body });
  assert.equal(r.status, 401);
  r = await http(base, 'POST', '/api/1/websocket/publish', { body, headers: { Authorization: 'Bearer wrong-token-wrong-token' } });
  assert.equal(r.status, 401);
  r = await http(base, 'POST', '/api/1/websocket/publish', { body, headers: { Authorization: `Bearer ${s.token}x` } });
  assert.equal(r.status, 401);
  r = await http(base, 'POST', '/api/1/websocket/publish', { body, cookie: bob });
  assert.equal(r.status, 403);
  assert.equal(Number(s.pg.psql("SELECT count(*) FROM wsp_outbox WHERE namespace = '/api/1/ws/news'")), 0);
});

test('publish: admin session and API token go through the outbox; 60 KiB beats NOTIFY\'s 8000 bytes', async () => {
  const l = await pgListen(s.pg, ['wsp_outbox']);
  try {
    let r = await http(base, 'POST', '/api/1/websocket/publish', { body: { namespace: '/api/1/ws/news', data: { type: 'headline', text: 'hi' } }, cookie: admin });
    assert.equal(r.status, 200, r.text);
    let row = JSON.parse(s.pg.psql(`SELECT row_to_json(o) FROM wsp_outbox o WHERE id = ${r.json.data.id}`));
    assert.equal(row.username, 'alice');
    assert.equal(row.client_id, null);
    assert.deepEqual(JSON.parse(row.payload), { type: 'headline', text: 'hi' });
    assert.equal((await l.next((e) => e.payload === String(r.json.data.id))).channel, 'wsp_outbox');

    const big = { type: 'bulk', blob: 'x'.repeat(60 * 1024) };
    r = await http(base, 'POST', '/api/1/websocket/publish', { body: { namespace: '/api/1/ws/news', data: big, clientId: '0f8fad5b-d9cb-469f-a165-70867728950e' }, headers: { Authorization: `Bearer ${s.token}` } });
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json.data.bytes > 60 * 1024);
    row = JSON.parse(s.pg.psql(`SELECT row_to_json(o) FROM wsp_outbox o WHERE id = ${r.json.data.id}`));
    assert.equal(row.username, '', 'system messages carry an empty username');
    assert.equal(row.client_id, '0f8fad5b-d9cb-469f-a165-70867728950e');
    assert.deepEqual(JSON.parse(row.payload), big);
    const ev = await l.next((e) => e.payload === String(r.json.data.id));
    assert.ok(ev.payload.length < 20, 'the NOTIFY carries only the id');
  } finally { await l.stop(); }
});

test('publish: bad namespace, data, clientId, size and content type', async () => {
  const auth = { Authorization: `Bearer ${s.token}` };
  const before = s.pg.psql('SELECT count(*) FROM wsp_outbox');
  for (const [body, code] of [
    [{ data: {} }, 'VALIDATION_ERROR'],
    [{ namespace: '/api/1/other/x', data: {} }, 'VALIDATION_ERROR'],
    [{ namespace: '/api/1/ws/', data: {} }, 'VALIDATION_ERROR'],
    [{ namespace: "/api/1/ws/x'; DROP TABLE wsp_outbox; --", data: {} }, 'VALIDATION_ERROR'],
    [{ namespace: '/api/1/ws/news' }, 'VALIDATION_ERROR'],
    [{ namespace: '/api/1/ws/news', data: [1, 2] }, 'VALIDATION_ERROR'],
    [{ namespace: '/api/1/ws/news', data: 'text' }, 'VALIDATION_ERROR'],
    [{ namespace: '/api/1/ws/news', data: {}, clientId: 'not a uuid!' }, 'VALIDATION_ERROR'],
    [{ namespace: '/api/1/ws/news', data: {}, clientId: 5 }, 'VALIDATION_ERROR'],
  ]) {
    const r = await http(base, 'POST', '/api/1/websocket/publish', { body, headers: auth });
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.json.code, code);
  }
  let r = await http(base, 'POST', '/api/1/websocket/publish', { body: { namespace: '/api/1/ws/news', data: { blob: 'y'.repeat(70 * 1024) } }, headers: auth });
  assert.equal(r.status, 413);
  assert.equal(r.json.code, 'PAYLOAD_TOO_LARGE');
  r = await http(base, 'POST', '/api/1/websocket/publish', { body: 'namespace=/api/1/ws/news', type: 'text/plain', headers: auth });
  assert.equal(r.status, 415);
  r = await http(base, 'GET', '/api/1/websocket/publish', { headers: auth });
  assert.equal(r.status, 405);
  assert.equal(r.headers.get('allow'), 'POST');
  assert.equal(s.pg.psql('SELECT count(*) FROM wsp_outbox'), before);
  assert.ok(Number(s.pg.psql('SELECT count(*) FROM wsp_users')) >= 3);
});
