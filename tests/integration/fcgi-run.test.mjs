// fcgi-run.test.mjs - how wspulse.fcgi runs: several requests in flight (a
// request stuck on a row lock does not stall the others), PostgreSQL going
// away and coming back (503 JSON, nothing half-written, no restart needed),
// spawned by spawn-fcgi on a unix or TCP socket passed on stdin, and
// --listen on a unix socket.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startStack, http, login, bin, start, stop, waitFor, freePort, fcgiRequest, run, writeConfig, tmpdir, sleep, slow } from './lib/stack.mjs';

let s, base, alice;
before(async () => {
  s = await startStack({ users: [{ name: 'alice', password: 'alice-password-1', roles: ['admin'] }] });
  base = s.url;
  alice = (await login(base, 'alice', 'alice-password-1')).cookie;
});
after(async () => { await s?.stop(); });

const count = () => Number(s.pg.psql('SELECT count(*) FROM wsp_hello_todos'));

test('a request waiting on a row lock does not stall other requests', async () => {
  const t = (await http(base, 'POST', '/api/1/helloTodo', { body: { title: 'locked one' } })).json.data;
  // Another session holds the row for 3 s.
  const holder = spawn('psql', [s.pg.conninfo, '-qtAX', '-c',
    `BEGIN; SELECT id FROM wsp_hello_todos WHERE id = ${t.id} FOR UPDATE; SELECT pg_sleep(${3 * slow}); COMMIT;`], { stdio: 'ignore' });
  const held = new Promise((r) => holder.on('exit', r));
  await waitFor(() => Number(s.pg.psql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(%' AND state = 'active' AND pid <> pg_backend_pid()")) > 0, 5000, 'the lock holder');
  const t0 = Date.now();
  let slowDone = 0;
  const locked = http(base, 'PUT', `/api/1/helloTodo/${t.id}/toggle`).then((r) => { slowDone = Date.now(); return r; });
  await sleep(300 * slow);
  for (const [m, p, opts] of [['GET', '/api/1/helloTodo'], ['GET', '/api/1/helloTodo/stats'], ['POST', '/api/1/helloTodo', { body: { title: 'not blocked' } }], ['GET', '/api/1/auth/me', { cookie: alice }]]) {
    const f0 = Date.now();
    const r = await http(base, m, p, opts);
    assert.equal(r.status, 200, `${m} ${p}: ${r.text}`);
    assert.ok(Date.now() - f0 < 1000 * slow, `${m} ${p} took ${Date.now() - f0} ms`);
  }
  assert.equal(slowDone, 0, 'the locked request is still waiting');
  const r = await locked;
  await held;
  assert.equal(r.status, 200);
  assert.equal(r.json.data.completed, true);
  assert.ok(slowDone - t0 >= 2000, `the locked request waited for the lock (${slowDone - t0} ms)`);
});

test('PostgreSQL down: 503 JSON and nothing written; back up: served again without a restart', async () => {
  const before = count();
  s.pg.stopServer();
  try {
    for (const [m, p, opts] of [['GET', '/api/1/helloTodo'], ['POST', '/api/1/helloTodo', { body: { title: 'while down' } }],
      ['POST', '/api/1/auth/login', { body: { username: 'alice', password: 'alice-password-1' } }], ['GET', '/api/1/health'],
      ['GET', '/api/1/auth/me', { cookie: alice }], ['POST', '/api/1/websocket/publish', { body: { namespace: '/api/1/ws/x', data: {} }, headers: { Authorization: `Bearer ${s.token}` } }]]) {
      const r = await http(base, m, p, opts);
      assert.equal(r.status, 503, `${m} ${p}: ${r.status} ${r.text}`);
      assert.equal(r.json.success, false);
      assert.equal(r.json.code, 'DATABASE_UNAVAILABLE');
      assert.ok(!/host=|socket|\/tmp\//.test(r.json.error), 'no connection details in the answer');
    }
    const page = await http(base, 'GET', '/admin/websocket-stats.shtml', { cookie: alice });
    assert.equal(page.status, 503);
    assert.match(page.headers.get('content-type'), /^text\/html/);
  } finally { s.pg.start(); }
  // Every worker notices its old connection died and reconnects: no 503 now.
  for (let i = 0; i < 12; i++) {
    const r = await http(base, 'GET', '/api/1/helloTodo/stats');
    assert.equal(r.status, 200, `request ${i} after the restart: ${r.text}`);
  }
  assert.equal(count(), before, 'nothing half-written');
  const r = await http(base, 'POST', '/api/1/helloTodo', { body: { title: 'after restart' } });
  assert.equal(r.status, 200);
  assert.equal((await http(base, 'GET', '/api/1/auth/me', { cookie: alice })).status, 200, 'sessions survive');
});

const cgi = (uri, extra = {}) => ({
  REQUEST_METHOD: 'GET', REQUEST_URI: uri, SCRIPT_NAME: uri, QUERY_STRING: '', SERVER_PROTOCOL: 'HTTP/1.1',
  REMOTE_ADDR: '192.0.2.10', SERVER_NAME: 'localhost', SERVER_PORT: '80', GATEWAY_INTERFACE: 'CGI/1.1', ...extra,
});

async function exercise(addr) {
  let r = await fcgiRequest(addr, cgi('/api/1/health'));
  assert.equal(r.status, 200, r.body);
  assert.equal(JSON.parse(r.body).data.database, 'ok');
  const body = JSON.stringify({ username: 'alice', password: 'alice-password-1' });
  r = await fcgiRequest(addr, cgi('/api/1/auth/login', { REQUEST_METHOD: 'POST', CONTENT_TYPE: 'application/json', CONTENT_LENGTH: String(body.length) }), body);
  assert.equal(r.status, 200, r.body);
  assert.match(r.headers['set-cookie'], /^wsp_session=v1\./);
  const cookie = r.headers['set-cookie'].split(';')[0];
  const todo = JSON.stringify({ title: 'via ' + (addr.path ? 'unix' : 'tcp') });
  r = await fcgiRequest(addr, cgi('/api/1/helloTodo', { REQUEST_METHOD: 'POST', CONTENT_TYPE: 'application/json', CONTENT_LENGTH: String(todo.length), HTTP_COOKIE: cookie }), todo);
  assert.equal(r.status, 200, r.body);
  assert.equal(JSON.parse(r.body).data.username, 'alice');
  // HTTPS from the web server adds Secure; X-Forwarded-Proto from a remote
  // (non-loopback) peer is not trusted.
  r = await fcgiRequest(addr, cgi('/api/1/auth/login', { REQUEST_METHOD: 'POST', CONTENT_TYPE: 'application/json', CONTENT_LENGTH: String(body.length), HTTPS: 'on' }), body);
  assert.match(r.headers['set-cookie'], /; Secure$/);
  r = await fcgiRequest(addr, cgi('/api/1/auth/login', { REQUEST_METHOD: 'POST', CONTENT_TYPE: 'application/json', CONTENT_LENGTH: String(body.length), HTTP_X_FORWARDED_PROTO: 'https' }), body);
  assert.ok(!/Secure/.test(r.headers['set-cookie']));
  r = await fcgiRequest(addr, cgi('/api/1/nothing-here'));
  assert.equal(r.status, 404);
  assert.equal(JSON.parse(r.body).code, 'NOT_FOUND');
}

test('spawn-fcgi on a unix socket: the socket arrives on stdin', async () => {
  const sock = path.join(s.dir, 'spawn.sock');
  const child = start('spawn-fcgi', ['-n', '-s', sock, '-M', '0600', '--', bin.fcgi, '-c', s.config], { log: path.join(s.dir, 'spawn-unix.log') });
  try {
    // The file exists from spawn-fcgi's bind(), before its listen(): wait
    // for an answer, as on TCP (a connect in between is refused).
    await waitFor(() => fs.existsSync(sock) && fcgiRequest({ path: sock }, cgi('/api/1/health')).then((r) => r.status === 200, () => false),
      10000, 'the spawn-fcgi socket');
    await exercise({ path: sock });
  } finally { await stop(child); }
});

test('spawn-fcgi on a TCP port', async () => {
  const port = await freePort();
  const child = start('spawn-fcgi', ['-n', '-a', '127.0.0.1', '-p', String(port), '--', bin.fcgi, '-c', s.config], { log: path.join(s.dir, 'spawn-tcp.log') });
  try {
    await waitFor(() => fcgiRequest({ port }, cgi('/api/1/health')).then((r) => r.status === 200), 10000, 'spawn-fcgi on TCP');
    await exercise({ port });
  } finally { await stop(child); }
});

test('--listen on a unix socket path', async () => {
  const sock = path.join(s.dir, 'listen.sock');
  const child = start(bin.fcgi, ['-c', s.config, '--listen', sock], { log: path.join(s.dir, 'listen-unix.log') });
  try {
    await waitFor(() => fs.existsSync(sock), 10000, 'the --listen socket');
    await exercise({ path: sock });
  } finally { await stop(child); }
});

test('without a socket on stdin, --listen or fcgi_listen it says what to do', () => {
  const dir = tmpdir();
  try {
    const conf = writeConfig(dir, { database: s.pg.conninfo, secret_file: s.settings.secret_file });
    const r = run(bin.fcgi, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no FastCGI socket on stdin; use --listen ADDR or run it under spawn-fcgi\/mod_fcgid/);
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});
