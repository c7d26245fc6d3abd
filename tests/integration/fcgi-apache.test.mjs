// fcgi-apache.test.mjs - the shipped apache/wspulse.conf in front of the real
// stack, with Debian's Apache 2.4 (mod_proxy_fcgi to wspulse.fcgi,
// mod_proxy_wstunnel to wspulsed): static files, login, the todo API with
// its broadcast, the admin redirect, the publish API's bearer token (needs
// CGIPassAuth) and a WebSocket upgrade.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, startApache, http, login, pgListen, openWs, stop, writeConfig } from './lib/stack.mjs';
import { upgradeStatus } from './lib/rawclient.mjs';

let s, a;
before(async () => {
  s = await startStack({ users: [{ name: 'alice', password: 'alice-password-1', roles: ['admin'] }], nginx: false });
  a = await startApache(s);
});
after(async () => { await a?.stop(); await s?.stop(); });

test('static www/ through Apache', async () => {
  const r = await http(a.url, 'GET', '/');
  assert.equal(r.status, 200);
  assert.match(r.text, /wspulse/);
});

test('login + todo through Apache, the todo broadcast committed to the outbox', async () => {
  const l = await pgListen(s.pg, ['wsp_outbox']);
  try {
    const { res, cookie } = await login(a.url, 'alice', 'alice-password-1');
    assert.equal(res.status, 200, res.text);
    assert.match(res.cookies[0], /^wsp_session=v1\.[^;]+; HttpOnly; SameSite=Lax; Path=\/; Max-Age=\d+$/);
    assert.equal((await http(a.url, 'GET', '/api/1/auth/me', { cookie })).json.data.username, 'alice');
    const r = await http(a.url, 'POST', '/api/1/helloTodo', { body: { title: 'through apache' }, cookie });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.data.username, 'alice');
    const ev = await l.next();
    const row = JSON.parse(s.pg.psql(`SELECT row_to_json(o) FROM wsp_outbox o WHERE id = ${ev.payload}`));
    assert.deepEqual(JSON.parse(row.payload), { type: 'todo-created', todo: r.json.data });
    assert.equal(row.username, 'alice');
    const t = await http(a.url, 'PUT', `/api/1/helloTodo/${r.json.data.id}/toggle`, { cookie });
    assert.equal(t.json.data.completed, true);
    const d = await http(a.url, 'DELETE', `/api/1/helloTodo/${r.json.data.id}`, { cookie });
    assert.equal(d.status, 200);
    assert.equal((await http(a.url, 'GET', '/api/1/helloTodo')).json.data.length, 0);
  } finally { await l.stop(); }
});

test('errors keep their status and JSON through Apache', async () => {
  let r = await http(a.url, 'GET', '/api/1/auth/nope');
  assert.equal(r.status, 404);
  assert.equal(r.json.code, 'NOT_FOUND');
  assert.equal(r.json.path, '/api/1/auth/nope');
  r = await http(a.url, 'PATCH', '/api/1/helloTodo');
  assert.equal(r.status, 405);
  assert.equal(r.headers.get('allow'), 'GET, POST');
  r = await http(a.url, 'POST', '/api/1/helloTodo', { body: 'x', type: 'text/plain' });
  assert.equal(r.status, 415);
  r = await http(a.url, 'DELETE', '/api/1/helloTodo/abc');
  assert.equal(r.json.code, 'INVALID_TODO_ID');
});

test('admin page redirect and page through Apache', async () => {
  let r = await http(a.url, 'GET', '/admin/websocket-stats.shtml');
  assert.equal(r.status, 302);
  assert.equal(r.headers.get('location'), '/login/?next=/admin/websocket-stats.shtml');
  const { cookie } = await login(a.url, 'alice', 'alice-password-1');
  r = await http(a.url, 'GET', '/admin/websocket-status.shtml', { cookie });
  assert.equal(r.status, 200);
  assert.match(r.text, /<tbody id="wsp-namespaces">/);
});

test('publish with Authorization: Bearer reaches wspulse.fcgi through Apache', async () => {
  const r = await http(a.url, 'POST', '/api/1/websocket/publish', { body: { namespace: '/api/1/ws/news', data: { type: 'x' } }, headers: { Authorization: `Bearer ${s.token}` } });
  assert.equal(r.status, 200, r.text);
  const bad = await http(a.url, 'POST', '/api/1/websocket/publish', { body: { namespace: '/api/1/ws/news', data: {} }, headers: { Authorization: 'Bearer not-the-token-at-all' } });
  assert.equal(bad.status, 401);
});

test('a WebSocket upgrade through Apache reaches wspulsed', async () => {
  const ws = await openWs(`${a.wsUrl}/api/1/ws/hello-todo`, { headers: { Origin: a.url } });
  const m = await ws.next((m) => m.data?.type === 'connected');
  assert.equal(m.success, true);
  assert.equal(m.data.namespace, '/api/1/ws/hello-todo');
  ws.close();
});

test('a restarted wspulsed or wspulse.fcgi is used again at once (retry=0; Apache\'s default holds a failed backend out for 60 s)', async () => {
  // Both down: Apache's connect fails, and by default it marks the worker
  // "in error" for `retry` seconds -- 503 while the backend is back up.
  await s.stopDaemon('SIGKILL');
  await stop(s.fcgi, 'SIGKILL');
  assert.notEqual(await upgradeStatus(`${a.wsUrl}/api/1/ws/hello-todo`, { Origin: a.url }), 101, 'the daemon is down');
  assert.equal((await http(a.url, 'GET', '/api/1/helloTodo')).status, 503, 'wspulse.fcgi is down');
  await s.startDaemon();
  await s.startFcgi();
  assert.equal(await upgradeStatus(`${a.wsUrl}/api/1/ws/hello-todo`, { Origin: a.url }), 101, 'the daemon is used again at once');
  const r = await http(a.url, 'GET', '/api/1/helloTodo');
  assert.equal(r.status, 200, `wspulse.fcgi is used again at once: ${r.status} ${r.text.slice(0, 200)}`);
  const err = a.log();
  assert.doesNotMatch(err, /AH00940|disabled connection/, 'no worker was disabled');
});

test('behind Apache a client cannot name its own address to wspulsed: X-Real-IP is refused without mod_headers, dropped with it', async () => {
  // wspulsed trusts this Apache (trusted_proxies) and allows one socket per
  // client address: a client that could name its own address could open any
  // number.
  const settings = s.settings;
  s.settings = { ...settings, trusted_proxies: '127.0.0.1', max_connections_per_ip: 1 };
  writeConfig(s.dir, s.settings);
  await s.stopDaemon();
  await s.startDaemon();
  try {
    const url = `${a.wsUrl}/api/1/ws/hello-todo`;
    assert.equal(await upgradeStatus(url, { Origin: a.url, 'X-Real-IP': '10.9.8.7' }), 403, 'no mod_headers: refused');
    await a.stop();
    a = await startApache(s, { modules: ['headers'] });
    const hurl = `${a.wsUrl}/api/1/ws/hello-todo`;
    const one = await openWs(hurl, { headers: { Origin: a.url, 'X-Real-IP': '10.0.0.1' } });
    await one.next((m) => m.data?.type === 'connected');
    assert.equal(await upgradeStatus(hurl, { Origin: a.url, 'X-Real-IP': '10.0.0.2' }), 429, 'the same client as the first socket');
    one.close();
  } finally {
    s.settings = settings;
    writeConfig(s.dir, settings);
    await s.stopDaemon();
    await s.startDaemon();
  }
});
