// fcgi-broadcast.test.mjs - REST and WebSocket together, the hybrid pattern
// end to end through nginx: a real WebSocket subscriber on
// /api/1/ws/hello-todo sees each todo event exactly when its change
// committed; publish reaches subscribers (60 KiB, and one targeted client);
// logout through REST closes that session's sockets; the stats API lists the
// live daemon; and the same round trip through Apache's shipped snippet.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startStack, startApache, http, login, openWs, sleep, waitFor, bin, start, stop, freePort, tmpdir, writeConfig } from './lib/stack.mjs';

let s, base;
before(async () => {
  s = await startStack({
    users: [{ name: 'alice', password: 'alice-password-1', roles: ['admin'] }],
    config: { stats_interval: 1 },
  });
  base = s.url;
});
after(async () => { await s?.stop(); });

const subscribe = async (uuid, headers) => {
  const ws = await openWs(`${s.wsUrl}/api/1/ws/hello-todo${uuid ? '?uuid=' + uuid : ''}`, { headers: { Origin: base, ...(headers || {}) } });
  await ws.next((m) => m.data?.type === 'connected');
  return ws;
};

test('a subscriber sees todo-created, -updated and -deleted for each committed change', async () => {
  const ws = await subscribe();
  const { cookie } = await login(base, 'alice', 'alice-password-1');
  const c = await http(base, 'POST', '/api/1/helloTodo', { body: { title: 'live one' }, cookie });
  let m = await ws.next((m) => m.data?.type === 'todo-created');
  assert.equal(m.success, true);
  assert.equal(typeof m.id, 'number');
  assert.deepEqual(m.data.todo, c.json.data);
  assert.equal(m.data.username, 'alice');
  const t = await http(base, 'PUT', `/api/1/helloTodo/${c.json.data.id}/toggle`);
  m = await ws.next((m) => m.data?.type === 'todo-updated');
  assert.deepEqual(m.data.todo, t.json.data);
  assert.equal(m.data.username, 'guest');
  const d = await http(base, 'DELETE', `/api/1/helloTodo/${c.json.data.id}`, { cookie });
  m = await ws.next((m) => m.data?.type === 'todo-deleted');
  assert.deepEqual(m.data.todo, d.json.data);
  ws.close();
});

test('a rolled-back mutation reaches no subscriber and changes nothing', async () => {
  const ws = await subscribe();
  const kept = await http(base, 'POST', '/api/1/helloTodo', { body: { title: 'kept FAIL-MARKER' } });
  assert.equal(kept.status, 200);
  await ws.next((m) => m.data?.type === 'todo-created' && m.data.todo.id === kept.json.data.id);
  const row = () => s.pg.psql(`SELECT count(*) || ':' || coalesce(bool_or(completed)::text, '-') FROM wsp_hello_todos WHERE id = ${kept.json.data.id}`);
  assert.equal(row(), '1:false');
  s.pg.psql(`CREATE FUNCTION test_fail_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN IF NEW.payload LIKE '%FAIL-MARKER%' THEN RAISE EXCEPTION 'forced'; END IF; RETURN NEW; END $$;
    CREATE TRIGGER test_fail_outbox BEFORE INSERT ON wsp_outbox FOR EACH ROW EXECUTE FUNCTION test_fail_outbox();`);
  try {
    const r = await http(base, 'POST', '/api/1/helloTodo', { body: { title: 'FAIL-MARKER' } });
    assert.equal(r.status, 500);
    assert.equal(s.pg.psql("SELECT count(*) FROM wsp_hello_todos WHERE title = 'FAIL-MARKER'"), '0', 'the todo went with its outbox row');
    // The toggle and the delete of a todo whose broadcast is refused: both
    // answered 500, and the todo is as it was (change and outbox row are one).
    const t = await http(base, 'PUT', `/api/1/helloTodo/${kept.json.data.id}/toggle`);
    assert.equal(t.status, 500);
    const d = await http(base, 'DELETE', `/api/1/helloTodo/${kept.json.data.id}`);
    assert.equal(d.status, 500);
    assert.equal(row(), '1:false', 'neither the toggle nor the delete took effect');
    const ok = await http(base, 'POST', '/api/1/helloTodo', { body: { title: 'after it' } });
    const m = await ws.next((m) => m.data?.type === 'todo-created');
    assert.equal(m.data.todo.id, ok.json.data.id, 'the first event is the good one');
    await sleep(300);
    assert.ok(!ws.messages.some((x) => JSON.stringify(x).includes('FAIL-MARKER')));
  } finally {
    s.pg.psql('DROP TRIGGER test_fail_outbox ON wsp_outbox; DROP FUNCTION test_fail_outbox()');
    ws.close();
  }
});

test('publish: 60 KiB to every subscriber, clientId to only one', async () => {
  const u1 = '11111111-1111-4111-8111-111111111111', u2 = '22222222-2222-4222-8222-222222222222';
  const a = await subscribe(u1), b = await subscribe(u2);
  const auth = { Authorization: `Bearer ${s.token}` };
  const blob = 'z'.repeat(60 * 1024);
  let r = await http(base, 'POST', '/api/1/websocket/publish', { body: { namespace: '/api/1/ws/hello-todo', data: { type: 'bulk', blob } }, headers: auth });
  assert.equal(r.status, 200, r.text);
  for (const ws of [a, b]) {
    const m = await ws.next((m) => m.data?.type === 'bulk');
    assert.equal(m.data.blob.length, blob.length);
    assert.equal(m.data.username, '');
  }
  r = await http(base, 'POST', '/api/1/websocket/publish', { body: { namespace: '/api/1/ws/hello-todo', data: { type: 'just-you' }, clientId: u2 }, headers: auth });
  assert.equal(r.status, 200);
  await b.next((m) => m.data?.type === 'just-you');
  await sleep(300);
  assert.ok(!a.messages.some((m) => m.data?.type === 'just-you'));
  a.close(); b.close();
});

test('logout through REST closes that session\'s sockets in an auth namespace', async () => {
  const { cookie } = await login(base, 'alice', 'alice-password-1');
  const ws = await openWs(`${s.wsUrl}/api/1/ws/jpulse-ws-test`, { headers: { Origin: base, Cookie: cookie } });
  await ws.next((m) => m.data?.type === 'connected');
  assert.equal((await http(base, 'POST', '/api/1/auth/logout', { cookie, body: {} })).status, 200);
  const closed = await Promise.race([ws.closed, sleep(3000).then(() => null)]);
  assert.ok(closed, 'socket closed after logout');
  assert.equal(closed.code, 4401);
});

test('the stats API lists the live daemon and its hello-todo clients', async () => {
  const { cookie } = await login(base, 'alice', 'alice-password-1');
  const ws = await subscribe();
  const stats = await waitFor(async () => {
    const r = await http(base, 'GET', '/api/1/websocket/stats', { cookie });
    const ns = r.json?.data?.namespaces?.find((n) => n.path === '/api/1/ws/hello-todo');
    return ns && ns.clientCount >= 1 && r.json.data;
  }, 8000, 'hello-todo clients in the stats');
  assert.ok(stats.daemons.some((d) => d.up === true));
  ws.close();
});

test('through Apache: login, todo and the WebSocket event', async () => {
  const a = await startApache(s);
  try {
    const ws = await openWs(`${a.wsUrl}/api/1/ws/hello-todo`, { headers: { Origin: a.url } });
    await ws.next((m) => m.data?.type === 'connected');
    const { cookie } = await login(a.url, 'alice', 'alice-password-1');
    assert.ok(cookie);
    const c = await http(a.url, 'POST', '/api/1/helloTodo', { body: { title: 'apache live' }, cookie });
    assert.equal(c.status, 200, c.text);
    const m = await ws.next((m) => m.data?.type === 'todo-created' && m.data.todo.title === 'apache live');
    assert.deepEqual(m.data.todo, c.json.data);
    assert.equal(m.data.username, 'alice');
    const t = await http(a.url, 'PUT', `/api/1/helloTodo/${c.json.data.id}/toggle`, { cookie });
    const u = await ws.next((m) => m.data?.type === 'todo-updated' && m.data.todo.id === c.json.data.id);
    assert.deepEqual(u.data.todo, t.json.data);
    ws.close();
  } finally { await a.stop(); }
});

test('two daemons on one database: one REST change reaches subscribers on both, once; a stopped daemon shows as down', async () => {
  const dir = tmpdir();
  const port = await freePort();
  const conf = writeConfig(dir, { ...s.settings, listen: `127.0.0.1:${port}`, daemon_id: 'second-daemon' });
  const b = start(bin.daemon, ['-c', conf], { log: path.join(dir, 'b.log') });
  try {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/health`)).ok, 10000, 'second daemon');
    const onA = await subscribe();
    const onB = await openWs(`ws://127.0.0.1:${port}/api/1/ws/hello-todo`);
    await onB.next((m) => m.data?.type === 'connected');
    const { cookie } = await login(base, 'alice', 'alice-password-1');
    await waitFor(async () => {
      const r = await http(base, 'GET', '/api/1/websocket/stats', { cookie });
      return r.json.data.daemons.find((d) => d.id === 'second-daemon')?.up === true;
    }, 8000, 'the second daemon in the stats');
    const c = await http(base, 'POST', '/api/1/helloTodo', { body: { title: 'to both daemons' } });
    for (const ws of [onA, onB]) {
      const m = await ws.next((m) => m.data?.type === 'todo-created' && m.data.todo.id === c.json.data.id);
      assert.deepEqual(m.data.todo, c.json.data);
    }
    await sleep(500);
    for (const ws of [onA, onB])
      assert.equal(ws.messages.filter((m) => m.data?.todo?.id === c.json.data.id).length, 0, 'exactly once');
    onA.close(); onB.close();
    await stop(b);
    // Its snapshot goes stale after 3 x stats_interval: listed as down, not summed.
    await waitFor(async () => {
      const r = await http(base, 'GET', '/api/1/websocket/stats', { cookie });
      return r.json.data.daemons.find((d) => d.id === 'second-daemon')?.up === false;
    }, 10000, 'the stopped daemon shown as down');
  } finally {
    await stop(b);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
