// daemon-core.test.mjs - wspulsed against real clients: handshake refusals,
// envelopes, client identity, auth and revocation, health, limits,
// REST-fed delivery, stats.  (Backpressure and operations: daemon-ops.)  Node's WebSocket where it can,
// lib/rawws.mjs where headers, HTTP statuses or raw frames are needed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { startStack, openWs, mintSession, sleep, waitFor, builddir, addUser } from './lib/stack.mjs';
import { rawWs, rawWs as rawWsOpen, frame } from './lib/rawclient.mjs';

const UUID = '0F8FAD5B-D9CB-469F-A165-70867728950E';
const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
let s, base;

before(async () => {
  s = await startStack({
    fcgi: false,
    users: [{ name: 'alice', password: 'alice-pass-1', roles: ['admin'] },
      { name: 'bob', password: 'bob-pass-12', roles: ['viewer'] }],
    config: {
      ping_interval: 1, pong_timeout: 1, stats_interval: 1, max_connections_per_ip: 20,
      trusted_proxies: '127.0.0.0/8 ::1',
      max_message_bytes: 1024, max_frame_bytes: 4096,
      modules: path.join(builddir, 'tests/modules/.libs/test-module.so'),
      namespace: '/api/1/ws/news auth=on roles=editor history=on',
    },
  });
  base = `ws://127.0.0.1:${s.daemonPort}`;
});
after(async () => { await s?.stop(); });

const ns = (p) => `${base}/api/1/ws/${p}`;

test('refusals are HTTP statuses: 404 unknown namespace, 401 not logged in, 403 role or Origin', async () => {
  const rawWs = async (...a) => { const c = await rawWsOpen(...a); c.destroy(); return c; };
  assert.equal((await rawWs(ns('no-such-thing'))).status, 404);
  assert.equal((await rawWs(`${base}/elsewhere`)).status, 404);
  assert.equal((await rawWs(ns('jpulse-ws-test'))).status, 401);
  const bob = mintSession(s, 'bob');
  assert.equal((await rawWs(ns('jpulse-ws-test'), { headers: { Cookie: bob.cookie } })).status, 101);
  assert.equal((await rawWs(ns('jpulse-ws-status'), { headers: { Cookie: bob.cookie } })).status, 403);
  const forged = bob.cookie.slice(0, -3) + (bob.cookie.endsWith('AAA') ? 'BBB' : 'AAA');
  assert.equal((await rawWs(ns('jpulse-ws-test'), { headers: { Cookie: forged } })).status, 401);
  // Origin must match Host when allowed_origins is empty.
  assert.equal((await rawWs(ns('hello-emoji'), { headers: { Origin: 'http://evil.example' } })).status, 403);
  assert.equal((await rawWs(ns('hello-emoji'), { headers: { Origin: `http://127.0.0.1:${s.daemonPort}` } })).status, 101);
  // Through nginx (Host: $http_host) the same statuses arrive.
  const viaNginx = `ws://127.0.0.1:${s.httpPort}/api/1/ws`;
  assert.equal((await rawWs(`${viaNginx}/nope`)).status, 404);
  assert.equal((await rawWs(`${viaNginx}/jpulse-ws-test`)).status, 401);
  assert.equal((await rawWs(`${viaNginx}/hello-emoji`, { headers: { Origin: `http://127.0.0.1:${s.httpPort}` } })).status, 101);
  assert.equal((await rawWs(`${viaNginx}/hello-emoji`, { headers: { Origin: 'https://evil.example' } })).status, 403);
});

test('max_connections_per_ip counts the address a local proxy reports (X-Real-IP): the one over the cap gets 429', async () => {
  const mine = { 'X-Real-IP': '203.0.113.5' };
  const open = [];
  for (let i = 0; i < 20; i++) open.push(await rawWsOpen(ns('hello-todo'), { headers: mine }));
  assert.ok(open.every((c) => c.status === 101));
  const over = await rawWsOpen(ns('hello-todo'), { headers: mine });
  assert.equal(over.status, 429);
  over.destroy();
  // The cap is on 203.0.113.5, not on the proxy's own address.
  const proxy = await rawWsOpen(ns('hello-todo'));
  assert.equal(proxy.status, 101, 'the local proxy itself is not at the cap');
  proxy.destroy();
  const other = await rawWsOpen(ns('hello-todo'), { headers: { 'X-Forwarded-For': '198.51.100.1, 203.0.113.6' } });
  assert.equal(other.status, 101);
  other.destroy();
  open[0].close();
  await open[0].closed;
  await sleep(100);
  const again = await rawWsOpen(ns('hello-todo'), { headers: mine });
  assert.equal(again.status, 101, 'a closed socket frees its slot');
  for (const c of [...open, again]) c.destroy();
});

test('welcome and every envelope carry username; clientId from a valid ?uuid=', async () => {
  const anon = await openWs(ns(`hello-emoji?uuid=${UUID}`));
  const w = await anon.next((m) => m.data?.type === 'connected');
  assert.deepEqual(w, { success: true, data: { type: 'connected', clientId: UUID.toLowerCase(), namespace: '/api/1/ws/hello-emoji', username: '' } });
  anon.sendJson({ type: 'cursor-move', emoji: '🚀', x: 10, y: 20, username: 'forged' });
  const cur = await anon.next((m) => m.data?.type === 'cursor');
  assert.equal(cur.data.username, 'guest', 'the demo names an anonymous user guest, as jPulse does');
  assert.equal(cur.data.clientId, UUID.toLowerCase());
  assert.equal(cur.data.x, 10);
  anon.sendText = anon.send;
  anon.send('{not json');
  const err = await anon.next((m) => m.success === false);
  assert.deepEqual(Object.keys(err).sort(), ['code', 'error', 'success', 'username']);
  assert.equal(err.code, 400);
  assert.equal(err.username, '');
  anon.close();

  const alice = mintSession(s, 'alice');
  const c = await rawWs(ns('jpulse-ws-test?uuid=not-a-uuid'), { headers: { Cookie: alice.cookie } });
  const w2 = await c.next((m) => m.data?.type === 'connected');
  assert.equal(w2.data.username, 'alice');
  assert.match(w2.data.clientId, V4);
  c.sendJson({ type: 'note', text: 'hi', username: 'mallory' });
  const echo = await c.next((m) => m.data?.type === 'note');
  assert.equal(echo.data.username, 'alice');
  assert.equal(echo.data.text, 'hi');
  c.destroy();
});

test('hello-emoji: welcome, user-joined, user-emoji, user-left with userCount', async () => {
  await waitFor(async () => {   // the previous test's sockets are gone
    const x = await openWs(ns('hello-emoji'));
    const n = (await x.next((m) => m.data?.type === 'welcome')).data.userCount;
    x.close();
    await x.closed;
    return n === 1;
  }, 5000, 'an empty hello-emoji');
  const a = await openWs(ns('hello-emoji'));
  assert.equal((await a.next((m) => m.data?.type === 'welcome')).data.userCount, 1);
  const b = await openWs(ns('hello-emoji'));
  const idB = (await b.next((m) => m.data?.type === 'connected')).data.clientId;
  const p = await a.next((m) => m.data?.type === 'user-joined' && m.data.userCount === 2);
  assert.equal(p.data.count, 2);
  assert.equal(p.data.clientId, idB);
  b.sendJson({ type: 'emoji-select', emoji: '🐱' });
  const ue = await a.next((m) => m.data?.type === 'user-emoji' && m.data.clientId === idB);
  assert.equal(ue.data.clientId, idB);
  assert.equal(ue.data.emoji, '🐱');
  b.close();
  const left = await a.next((m) => m.data?.type === 'user-left' && m.data.clientId === idB);
  assert.equal(left.data.userCount, 1);
  a.close();
});

test('two sockets with one uuid both work; sendToClient reaches both; one leaving keeps the other', async () => {
  const u = '11111111-2222-4333-8444-555555555555';
  const a = await openWs(ns(`test-module?uuid=${u}`));
  const b = await openWs(ns(`test-module?uuid=${u}`));
  const ctl = await openWs(ns('test-module'));
  for (const x of [a, b, ctl]) await x.next((m) => m.data?.type === 'connected');
  ctl.sendJson({ type: 'to-client', target: u, seq: 1 });
  assert.equal((await a.next((m) => m.data?.type === 'private')).data.seq, 1);
  assert.equal((await b.next((m) => m.data?.type === 'private')).data.seq, 1);
  a.close();
  await a.closed;
  await sleep(100);
  ctl.sendJson({ type: 'to-client', target: u, seq: 2 });
  assert.equal((await b.next((m) => m.data?.type === 'private')).data.seq, 2);
  await sleep(200);
  assert.equal(ctl.messages.filter((m) => m.data?.type === 'private').length, 0);
  // A REST-side message to one clientId (outbox client_id) too.
  s.pg.psql(`INSERT INTO wsp_outbox (namespace, payload, client_id) VALUES ('/api/1/ws/test-module', '{"type":"private","seq":3}', '${u}')`);
  assert.equal((await b.next((m) => m.data?.type === 'private')).data.seq, 3);
  b.close(); ctl.close();
});

test('a cookie is accepted at once after login (no DB round trip), and revocation closes with 4401 within 1 s', async () => {
  const fresh = mintSession(s, 'bob', { row: false });
  const c = await rawWs(ns('jpulse-ws-test'), { headers: { Cookie: fresh.cookie } });
  assert.equal(c.status, 101);
  c.destroy();
  const sess = mintSession(s, 'bob');
  const auth = await rawWs(ns('jpulse-ws-test'), { headers: { Cookie: sess.cookie } });
  const open = await rawWs(ns('hello-emoji'), { headers: { Cookie: sess.cookie } });
  await auth.next((m) => m.data?.type === 'connected');
  // Timed from the moment the revoking transaction has committed (psql returned).
  s.pg.psql(`UPDATE wsp_sessions SET revoked_at = now(), revoke_reason = 'logout' WHERE id = '${sess.sid}'`);
  const committed = Date.now();
  const closed = await auth.closed;
  assert.equal(closed.code, 4401);
  assert.ok(closed.at - committed < 1000, `closed ${closed.at - committed} ms after the commit`);
  // The revoked cookie is refused from now on.  A namespace open to anyone
  // closes the socket with 4409 (its identity must go: messages for bob
  // would keep reaching it); the same cookie opens it again, as nobody.
  assert.equal((await rawWs(ns('jpulse-ws-test'), { headers: { Cookie: sess.cookie } })).status, 401);
  assert.equal((await open.closed).code, 4409);
  const again = await rawWs(ns('hello-emoji'), { headers: { Cookie: sess.cookie } });
  assert.equal(again.status, 101);
  const hello = await again.next((m) => m.data?.type === 'connected');
  assert.equal(hello.data.username ?? hello.username, '');
  again.destroy();
});

test('a role change closes admin sockets with 4403 within 1 s; an expired session with 4401', async () => {
  addUser(s.pg, 'carol', 'carol-pass-1', ['admin']);
  const sess = mintSession(s, 'carol');
  const c = await rawWs(ns('jpulse-ws-status'), { headers: { Cookie: sess.cookie } });
  assert.equal(c.status, 101);
  await c.next((m) => m.data?.type === 'stats-update');
  s.pg.psql(`UPDATE wsp_users SET roles = '{viewer}' WHERE username = 'carol'`);
  const committed = Date.now();
  const closed = await c.closed;
  assert.equal(closed.code, 4403);
  assert.ok(closed.at - committed < 1000, `closed ${closed.at - committed} ms after the commit`);
  const short = mintSession(s, 'bob', { ttl: 2 });
  const e = await rawWs(ns('jpulse-ws-test'), { headers: { Cookie: short.cookie } });
  assert.equal(e.status, 101);
  const t1 = Date.now();
  assert.equal((await e.closed).code, 4401);
  assert.ok(Date.now() - t1 < 3500);
});

test('application pings are answered by the framework and hidden from handlers and stats', async () => {
  const sess = mintSession(s, 'bob');
  const a = await rawWs(ns('jpulse-ws-test'), { headers: { Cookie: sess.cookie } });
  const b = await rawWs(ns('jpulse-ws-test'), { headers: { Cookie: sess.cookie } });
  await a.next((m) => m.data?.type === 'connected');
  await b.next((m) => m.data?.type === 'connected');
  a.sendJson({ type: 'ping' });
  const pong = await a.next((m) => m.data?.type === 'pong');
  // jPulse's hello-todo pong: {type:'pong', timestamp: Date.now()}, username stamped.
  assert.equal(typeof pong.data.timestamp, 'number');
  assert.ok(Math.abs(pong.data.timestamp - Date.now()) < 60000, `timestamp ${pong.data.timestamp} is ms since the epoch`);
  assert.deepEqual(pong, { success: true, data: { type: 'pong', timestamp: pong.data.timestamp, username: 'bob' } });
  await sleep(300);
  assert.equal(b.messages.length, 0, 'the echo handler never saw the ping');
  const row = await waitFor(() => {
    const t = s.pg.psql(`SELECT stats::text FROM wsp_daemon_stats`);
    return t && JSON.parse(t);
  }, 5000, 'stats row');
  assert.ok(!row.activityLog.some((e) => e.type === 'ping'));
  a.destroy(); b.destroy();
});

test('protocol pings every ping_interval; a client that never answers is closed', async () => {
  const good = await rawWs(ns('hello-todo'));
  const deaf = await rawWs(ns('hello-todo'), { autoPong: false });
  const t0 = Date.now();
  const closed = await deaf.closed;
  const took = Date.now() - t0;
  assert.ok(deaf.pings >= 1, 'got a ping');
  assert.ok(took >= 1500 && took < 4000, `closed after ${took} ms`);
  assert.ok(closed.code);
  await sleep(500);
  assert.ok(good.pings >= 2);
  good.sendJson({ type: 'ping' });
  await good.next((m) => m.data?.type === 'pong');
  good.destroy();
});

test('limits: 400 invalid JSON, 413 too big, 429 rate with retryAfterMs, 500 handler failure; socket stays open', async () => {
  const c = await rawWs(ns('test-module'));
  await c.next((m) => m.data?.type === 'connected');
  c.sendText('[1,2');
  assert.equal((await c.next((m) => m.success === false)).code, 400);
  c.sendText(JSON.stringify({ type: 'x', pad: 'y'.repeat(2000) }));
  const big = await c.next((m) => m.success === false);
  assert.equal(big.code, 413);
  c.sendJson({ type: 'fail' });
  const fail = await c.next((m) => m.success === false);
  assert.equal(fail.code, 500);
  assert.equal(fail.username, '');
  c.sendJson({ type: 'ping' });
  await c.next((m) => m.data?.type === 'pong');
  for (let i = 0; i < 80; i++) c.sendJson({ type: 'noop', i });
  const rl = await c.next((m) => m.success === false && m.code === 429);
  assert.ok(rl.retryAfterMs > 0 && rl.retryAfterMs <= 1000, JSON.stringify(rl));
  await sleep(1100);
  c.sendJson({ type: 'ping' });
  await c.next((m) => m.data?.type === 'pong');
  c.destroy();
});

test('frames over the hard cap close 1009; invalid UTF-8 1007; protocol violations 1002', async () => {
  const a = await rawWs(ns('test-module'));
  a.sendText('x'.repeat(5000));
  assert.equal((await a.closed).code, 1009);
  const b = await rawWs(ns('test-module'));
  b.sendRaw(frame(1, Buffer.from([0x7b, 0xff, 0xfe, 0x7d])));
  assert.equal((await b.closed).code, 1007);
  const c = await rawWs(ns('test-module'));
  c.sendRaw(frame(3, '{"type":"x"}'));          // a reserved opcode
  assert.equal((await c.closed).code, 1002);
  const d = await rawWs(ns('test-module'));
  d.sendRaw(frame(9, 'ping', { fin: false }));  // a fragmented control frame
  assert.equal((await d.closed).code, 1002);
});

test('REST-fed: an outbox row reaches the namespace with id and username; a rolled-back one never does; ?since= replays', async () => {
  const c = await openWs(ns('hello-todo'));
  await c.next((m) => m.data?.type === 'connected');
  s.pg.psql(`BEGIN; INSERT INTO wsp_outbox (namespace, payload, username) VALUES ('/api/1/ws/hello-todo', '{"type":"todo-created","todo":{"id":7,"title":"rolled back"}}', 'bob'); ROLLBACK;`);
  const id = Number(s.pg.psql(`INSERT INTO wsp_outbox (namespace, payload, username) VALUES ('/api/1/ws/hello-todo', '{"type":"todo-created","todo":{"id":8,"title":"kept"}}', 'bob') RETURNING id`));
  const m = await c.next((x) => x.data?.type === 'todo-created', 15000);
  // floor: the client's cursor; the rolled-back id is a hole below `id`.
  assert.deepEqual(m, { success: true, id, floor: m.floor, data: { type: 'todo-created', todo: { id: 8, title: 'kept' }, username: 'bob' } });
  assert.ok(Number.isInteger(m.floor) && m.floor < id, `floor ${m.floor} below ${id}`);
  await sleep(300);
  assert.equal(c.messages.filter((x) => x.data?.type === 'todo-created').length, 0);
  c.close();
  // Missed while away: replayed on reconnect with ?since=.
  s.pg.psql(`INSERT INTO wsp_outbox (namespace, payload) VALUES ('/api/1/ws/hello-todo', '{"type":"todo-deleted","n":1}'), ('/api/1/ws/hello-todo', '{"type":"todo-deleted","n":2}')`);
  const again = await openWs(ns(`hello-todo?since=${id}`));
  const r1 = await again.next((x) => x.data?.type === 'todo-deleted', 15000);
  const r2 = await again.next((x) => x.data?.type === 'todo-deleted', 15000);
  assert.deepEqual([r1.data.n, r2.data.n], [1, 2]);
  assert.ok(r1.id > id && r2.id > r1.id);
  again.close();
});

test('config-declared namespaces: auth + roles + history', async () => {
  assert.equal((await rawWs(ns('news'))).status, 401);
  assert.equal((await rawWs(ns('news'), { headers: { Cookie: mintSession(s, 'bob').cookie } })).status, 403);
  const ed = mintSession(s, 'bob', { roles: 'editor' });
  const c = await rawWs(ns('news'), { headers: { Cookie: ed.cookie } });
  await c.next((m) => m.data?.type === 'connected');
  s.pg.psql(`INSERT INTO wsp_outbox (namespace, payload) VALUES ('/api/1/ws/news', '{"type":"headline"}')`);
  assert.equal((await c.next((m) => m.data?.type === 'headline')).data.username, '');
  c.destroy();
});

test('stats: snapshot rows with messagesPerHour; jpulse-ws-status pushes stats-update on connect and periodically', async () => {
  const bob = await rawWs(ns('jpulse-ws-test'), { headers: { Cookie: mintSession(s, 'bob').cookie } });
  bob.sendJson({ type: 'stats-probe' });
  await bob.next((m) => m.data?.type === 'stats-probe');
  bob.destroy();
  const st = await waitFor(() => {
    const t = JSON.parse(s.pg.psql('SELECT stats::text FROM wsp_daemon_stats'));
    const n = t.namespaces.find((x) => x.path === '/api/1/ws/jpulse-ws-test');
    return n && n.messagesPerHour > 0 && t;
  }, 5000, 'a snapshot with messages');
  const n = st.namespaces.find((x) => x.path === '/api/1/ws/jpulse-ws-test');
  assert.ok(n.totalMessages >= n.messagesPerHour && n.messagesPerMin >= 0);
  assert.match(n.lastActivity, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.ok(['green', 'yellow', 'red'].includes(n.status));
  assert.ok(st.uptime >= 1 && st.totalMessages > 0);
  assert.ok(st.activityLog.length > 0);
  const alice = mintSession(s, 'alice');
  const c = await rawWs(ns('jpulse-ws-status'), { headers: { Cookie: alice.cookie } });
  const first = await c.next((m) => m.data?.type === 'stats-update');
  assert.ok(Array.isArray(first.data.data.namespaces));
  assert.ok(Array.isArray(first.data.data.daemons) && first.data.data.daemons.length >= 1);
  // Pushed every stats_interval (1 s here); the sums are at most one interval old.
  const mine = (m) => m.data?.data?.namespaces?.find((x) => x.path === '/api/1/ws/jpulse-ws-status');
  const later = await c.next((m) => m.data?.type === 'stats-update' && mine(m)?.clientCount >= 1, 4000);
  assert.equal(mine(later).status, 'red', 'no messages in that namespace yet');
  c.destroy();
});

test('one address cannot hold descriptors with upgrades it never finishes: past 2 x max_connections_per_ip + 64 connections in any state it gets 503 at accept', async () => {
  const s2 = await startStack({ pg: s.pg, nginx: false, fcgi: false, config: { max_connections_per_ip: 2, handshake_timeout: 30 } });
  const socks = [];
  const connectIdle = (localAddress) => new Promise((resolve, reject) => {
    const c = net.connect({ port: s2.daemonPort, host: '127.0.0.1', localAddress }, () => resolve(c));
    c.on('error', reject);
  });
  const answer = (c, ms) => new Promise((resolve) => {
    let buf = '';
    const t = setTimeout(() => resolve(buf || null), ms);
    c.on('data', (d) => { buf += d; });
    c.on('close', () => { clearTimeout(t); resolve(buf || 'closed'); });
  });
  try {
    // 68 connections from 127.0.0.7 that never send a request: held.
    for (let i = 0; i < 68; i++) socks.push(await connectIdle('127.0.0.7'));
    const over = await connectIdle('127.0.0.7');
    socks.push(over);
    const got = await answer(over, 3000);
    assert.match(got ?? 'no answer', /^HTTP\/1\.1 503 /, 'the 69th is refused at accept');
    await waitFor(() => /too many connections from this address.*127\.0\.0\.7/.test(s2.log('wspulsed.log')), 3000, 'the refusal logged with its address');
    // Another address is not affected, nor a WebSocket from it.
    const other = await rawWsOpen(`ws://127.0.0.1:${s2.daemonPort}/api/1/ws/hello-todo`);
    assert.equal(other.status, 101);
    other.destroy();
    // A connection that ends frees its place.
    socks[0].destroy();
    await sleep(300);
    const again = await connectIdle('127.0.0.7');
    socks.push(again);
    assert.equal(await answer(again, 1000), null, 'held again, not refused');
  } finally {
    for (const c of socks) c.destroy();
    await s2.stop();
  }
});

// Last: the second daemon shares the database and writes stats rows of its own.
test('X-Real-IP / X-Forwarded-For from a loopback peer not in trusted_proxies are not believed: one address, counted and logged as 127.0.0.1', async () => {
  const s2 = await startStack({ pg: s.pg, nginx: false, fcgi: false, config: { max_connections_per_ip: 2 } });
  const url = `ws://127.0.0.1:${s2.daemonPort}/api/1/ws/hello-todo`;
  const open = [];
  try {
    open.push(await rawWsOpen(url, { headers: { 'X-Real-IP': '203.0.113.21' } }));
    open.push(await rawWsOpen(url, { headers: { 'X-Forwarded-For': '203.0.113.22' } }));
    assert.deepEqual(open.map((c) => c.status), [101, 101]);
    const third = await rawWsOpen(url, { headers: { 'X-Real-IP': '203.0.113.23' } });
    third.destroy();
    assert.equal(third.status, 429, 'a forged X-Real-IP must not get a count of its own');
    await waitFor(() => /upgrade refused: 429 too many connections from this address \(127\.0\.0\.1\)/.test(s2.log('wspulsed.log')), 3000, 'the refusal logged with the socket address');
    assert.doesNotMatch(s2.log('wspulsed.log'), /203\.0\.113\./);
  } finally {
    for (const c of open) c.destroy();
    await s2.stop();
  }
});
