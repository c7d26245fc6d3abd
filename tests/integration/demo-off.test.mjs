// demo-off.test.mjs - `demo = off` (the default): the demo's namespaces
// (hello-emoji, hello-todo, jpulse-ws-test) and the /api/1/helloTodo routes do
// not exist — 404 like any unknown path, for the upgrade (through nginx and
// straight to the daemon) and for every REST method — while the stats API,
// the admin page, jpulse-ws-status, the publish API, a config-declared
// namespace and a module's namespace work as before.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import fs from 'node:fs';
import { startStack, http, login, openWs, run, bin, builddir } from './lib/stack.mjs';
import { upgradeStatus } from './lib/rawclient.mjs';

const exampleSo = path.join(builddir, 'src/modules/.libs/example-chat.so');
let s, admin;
before(async () => {
  s = await startStack({
    users: [{ name: 'alice', password: 'alice-password-1', roles: ['admin'] }],
    config: { demo: null, namespace: '/api/1/ws/news history=on', modules: exampleSo, stats_interval: 1 },
  });
  admin = (await login(s.url, 'alice', 'alice-password-1')).cookie;
  assert.ok(admin, 'admin login');
});
after(async () => { await s?.stop(); });

test('the default is off: --check-config says demo = off; demo = maybe is refused naming the line', () => {
  const r = run(bin.daemon, ['-c', s.config, '--check-config']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^demo = off$/m);
  const f = run(bin.fcgi, ['-c', s.config, '--check-config']);
  assert.match(f.stdout, /^demo = off$/m);
  const bad = path.join(s.dir, 'bad.conf');
  fs.writeFileSync(bad, fs.readFileSync(s.config, 'utf8') + 'demo = maybe\n');
  const lines = fs.readFileSync(bad, 'utf8').trimEnd().split('\n').length;
  for (const prog of [bin.daemon, bin.fcgi]) {
    const b = run(prog, ['-c', bad, '--check-config']);
    assert.equal(b.status, 1, b.stdout);
    assert.match(b.stderr, new RegExp(`bad\\.conf:${lines}: demo must be on or off, not 'maybe'`));
  }
});

test('the demo namespaces answer 404 to the upgrade, through nginx and at the daemon', async () => {
  const origin = { Origin: s.url };
  for (const ns of ['hello-emoji', 'hello-todo', 'jpulse-ws-test']) {
    assert.equal(await upgradeStatus(`${s.wsUrl}/api/1/ws/${ns}`, origin), 404, `${ns} through nginx`);
    assert.equal(await upgradeStatus(`ws://127.0.0.1:${s.daemonPort}/api/1/ws/${ns}`,
      { Origin: `http://127.0.0.1:${s.daemonPort}`, Cookie: admin }), 404, `${ns} at the daemon`);
  }
});

test('every /api/1/helloTodo route is 404 NOT_FOUND, as an unknown path (not 405)', async () => {
  for (const [m, p, body] of [['GET', '/api/1/helloTodo'], ['POST', '/api/1/helloTodo', { title: 'x' }],
    ['GET', '/api/1/helloTodo/stats'], ['PUT', '/api/1/helloTodo/1/toggle'], ['DELETE', '/api/1/helloTodo/1'],
    ['PATCH', '/api/1/helloTodo']]) {
    const r = await http(s.url, m, p, { body });
    assert.equal(r.status, 404, `${m} ${p}`);
    assert.equal(r.json.code, 'NOT_FOUND', `${m} ${p}`);
  }
  assert.equal(s.pg.psql('SELECT count(*) FROM wsp_hello_todos'), '0');
});

test('stats API, admin page, jpulse-ws-status, publish, config and module namespaces still work', async () => {
  const st = await http(s.url, 'GET', '/api/1/websocket/stats', { cookie: admin });
  assert.equal(st.status, 200);
  const page = await http(s.url, 'GET', '/admin/websocket-stats.shtml', { cookie: admin });
  assert.equal(page.status, 200);
  assert.match(page.text, /<html/i);

  const status = await openWs(`${s.wsUrl}/api/1/ws/jpulse-ws-status`, { headers: { Cookie: admin, Origin: s.url } });
  assert.equal((await status.next((m) => m.data?.type === 'stats-update')).success, true);
  status.close();

  const news = await openWs(`${s.wsUrl}/api/1/ws/news`, { headers: { Origin: s.url } });
  await news.next((m) => m.data?.type === 'connected');
  const pub = await http(s.url, 'POST', '/api/1/websocket/publish', {
    headers: { Authorization: `Bearer ${s.token}` }, body: { namespace: '/api/1/ws/news', data: { type: 'headline', n: 1 } },
  });
  assert.equal(pub.status, 200, pub.text);
  assert.equal((await news.next((m) => m.data?.type === 'headline')).data.n, 1);
  news.close();

  const chat = await openWs(`${s.wsUrl}/api/1/ws/example-chat`, { headers: { Cookie: admin, Origin: s.url } });
  await chat.next((m) => m.data?.type === 'connected');
  chat.close();
});
