// security-rest.test.mjs - the REST side's answers to the attack run of
// issue 19 (items 7-10, 12, 13), through the real stack (nginx ->
// wspulse.fcgi -> PostgreSQL, wspulsed for revocations) and a real Chromium:
// no open redirect after login, a new password ends live sessions, login
// limiting that slows an attacker without locking out the real user, logout
// only with the CSRF proof, anonymous write limits and pagination, and quiet,
// one-line logs while PostgreSQL is down.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { startStack, http, login, pgListen, run, bin, fcgiRequest, freePort, waitFor, builddir, tmpdir, writeConfig } from './lib/stack.mjs';
import { rawWs } from './lib/rawclient.mjs';
import { launch } from './lib/browser.mjs';

const ALICE = { name: 'alice', password: 'alice-password-1', roles: ['admin'] };
const BOB = { name: 'bob', password: 'bob-password-1', roles: [] };
const CAROL = { name: 'carol', password: 'carol-password-1', roles: ['admin'] };
let s, base;

before(async () => {
  s = await startStack({ users: [ALICE, BOB, CAROL], config: { login_max_failures: 5, login_window: 60, anon_write_rate: 10 } });
  base = s.url;
});
after(async () => { await s?.stop(); });

// Item 7: ?next= can never take the browser off the site.
const BAD_NEXT = ['/..//evil.test/', '/.//evil.test/', '/a/..//evil.test/', '/%2e%2e//evil.test/',
  '%2F..%2F%2Fevil.test%2F', '/..\\evil.test/', '/%252e%252e//evil.test/'];

test('open redirect: the login page never leaves the site, whatever ?next= says (Chromium)', async () => {
  const browser = await launch();
  try {
    const ctx = await browser.newContext();
    // Nothing may leave this machine: any request to another host is
    // recorded and aborted before it reaches the network.
    const offsite = [];
    const host = new URL(base).host;
    await ctx.route((url) => url.host !== host, (route) => { offsite.push(route.request().url()); return route.abort(); });
    for (const next of BAD_NEXT) {
      const page = await ctx.newPage();
      await page.goto(`${base}/login/?next=${next}`);
      await page.fill('#username', BOB.name);
      await page.fill('#password', BOB.password);
      await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login/'), { timeout: 10000 }).catch(() => {}),
        page.click('#login-submit')]);
      await page.waitForLoadState().catch(() => {});
      const at = new URL(page.url());
      assert.deepEqual(offsite, [], `?next=${next}: the browser tried to leave the site`);
      assert.equal(at.host, host, `?next=${next} took the browser to ${page.url()}`);
      assert.equal(at.pathname, '/hello-websocket/', `?next=${next}`);
      await page.close();
    }
    assert.deepEqual(offsite, [], 'the browser tried to leave the site');
    // A harmless next still works.
    const page = await ctx.newPage();
    await page.goto(`${base}/login/?next=%2Fadmin%2F..%2Findex.html`);
    await page.fill('#username', BOB.name);
    await page.fill('#password', BOB.password);
    await Promise.all([page.waitForURL(`${base}/index.html`, { timeout: 10000 }), page.click('#login-submit')]);
  } finally {
    await browser.close();
  }
});

test('open redirect at the REST level: no server answer redirects off the site', async () => {
  for (const next of BAD_NEXT) {
    const r = await http(base, 'GET', `/login/?next=${next}`);
    assert.equal(r.status, 200, next);
    assert.equal(r.headers.get('location'), null, next);
  }
  // The admin page sends anonymous users to the login page with its own
  // (constant) path, never with anything taken from the request.
  for (const q of ['?next=//evil.test/', '/..//evil.test/', '?x=/..//evil.test/']) {
    const r = await http(base, 'GET', `/admin/websocket-stats.shtml${q}`);
    if (r.status === 404) continue;
    assert.equal(r.status, 302, q);
    assert.equal(r.headers.get('location'), '/login/?next=/admin/websocket-stats.shtml', q);
  }
});

// Item 8: a new password ends the user's sessions, whoever sets it.
test('wspulse-admin user passwd revokes the user\'s sessions: REST 401, sockets closed 4401', async () => {
  const l = await pgListen(s.pg, ['wsp_session']);
  try {
    const a = await login(base, ALICE.name, ALICE.password);
    const other = await login(base, BOB.name, BOB.password);
    const sid = a.cookie.split('.')[1];
    const ws = await rawWs(`ws://127.0.0.1:${s.daemonPort}/api/1/ws/jpulse-ws-status`, { headers: { Cookie: a.cookie } });
    assert.equal(ws.status, 101);
    await ws.next((m) => m.data?.type === 'connected');
    const r = run(bin.admin, ['-d', s.pg.conninfo, 'user', 'passwd', ALICE.name], { input: 'alice-password-2\n' });
    assert.equal(r.status, 0, r.stderr);
    const changed = Date.now();
    const ev = await l.next((e) => e.payload === `revoke:${sid}:password`);
    assert.equal(ev.channel, 'wsp_session');
    const closed = await ws.closed;
    assert.equal(closed.code, 4401);
    assert.ok(closed.at - changed < 2000, `closed ${closed.at - changed} ms after the change`);
    assert.equal((await http(base, 'GET', '/api/1/auth/me', { cookie: a.cookie })).status, 401);
    // Other users keep theirs; the new password works, the old one does not.
    assert.equal((await http(base, 'GET', '/api/1/auth/me', { cookie: other.cookie })).status, 200);
    assert.equal((await login(base, ALICE.name, ALICE.password)).res.status, 401);
    assert.equal((await login(base, ALICE.name, 'alice-password-2')).res.status, 200);
    // A plain SQL update of the hash revokes too (the trigger, not the tool).
    const b = await login(base, BOB.name, BOB.password);
    s.pg.psql(`UPDATE wsp_users SET password_hash = password_hash || '' WHERE username = 'bob'`);
    assert.equal((await http(base, 'GET', '/api/1/auth/me', { cookie: b.cookie })).status, 200, 'the same hash is no change');
    s.pg.psql(`UPDATE wsp_users SET password_hash = (SELECT password_hash FROM wsp_users WHERE username = 'alice') WHERE username = 'bob'`);
    assert.equal((await http(base, 'GET', '/api/1/auth/me', { cookie: b.cookie })).status, 401);
    const bobSid = b.cookie.split('.')[1];
    assert.equal(s.pg.psql(`SELECT revoke_reason FROM wsp_sessions WHERE id = '${bobSid}'`), 'password');
    run(bin.admin, ['-d', s.pg.conninfo, 'user', 'passwd', BOB.name], { input: BOB.password + '\n' });
    run(bin.admin, ['-d', s.pg.conninfo, 'user', 'passwd', ALICE.name], { input: ALICE.password + '\n' });
  } finally { await l.stop(); }
});

// A login whose password check ran before a password change commits must
// not keep a session made with the old password.
test('a login in flight across a password change gets no live session', async () => {
  const tx = spawn('psql', [s.pg.conninfo, '-qtAX', '-v', 'ON_ERROR_STOP=1'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  tx.stdout.on('data', (d) => { out += d; });
  tx.stderr.on('data', (d) => { out += d; });
  let settled = false;
  try {
    // The change is made, its trigger has run (no session of bob's to
    // revoke yet), and it is not committed: the login still reads the old
    // hash, and the password matches it.
    tx.stdin.write("BEGIN; UPDATE wsp_users SET password_hash = password_hash || 'x' WHERE username = 'bob'; SELECT 'changed';\n");
    await waitFor(() => out.includes('changed'), 10000, `the uncommitted change (psql: ${out})`);
    const pending = login(base, BOB.name, BOB.password).finally(() => { settled = true; });
    await waitFor(() => settled || s.pg.psql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' " +
      "AND query LIKE 'INSERT INTO wsp_sessions%'") === '1', 10000, 'the login to answer or to wait for the change');
    tx.stdin.write("COMMIT; SELECT 'committed';\n");
    await waitFor(() => out.includes('committed'), 10000, 'the commit');
    const r = await pending;
    if (r.res.status === 200)
      assert.equal((await http(base, 'GET', '/api/1/auth/me', { cookie: r.cookie })).status, 401, 'a session made with the old password is live');
    else
      assert.equal(r.res.status, 401);
    assert.equal(s.pg.psql("SELECT count(*) FROM wsp_sessions WHERE username = 'bob' AND revoked_at IS NULL AND expires_at > now()"), '0');
  } finally {
    tx.stdin.end();
    run(bin.admin, ['-d', s.pg.conninfo, 'user', 'passwd', BOB.name], { input: BOB.password + '\n' });
  }
  assert.equal((await login(base, BOB.name, BOB.password)).res.status, 200);
});

// A session carries its roles whole: a list cut to fit could end in
// another role's prefix.
test('roles longer than a session holds: login is refused, never cut (a cut "...,administrator" read "...,admin")', async () => {
  // 250 bytes, then ",administrator": cut at 256 bytes it ends in ",admin".
  s.pg.psql(`UPDATE wsp_users SET roles = ARRAY[repeat('x', 250), 'administrator'] WHERE username = 'bob'`);
  try {
    const r = await login(base, BOB.name, BOB.password);
    assert.equal(r.res.status, 403, 'not logged in');
    assert.match(r.res.text, /more than a session holds/);
    if (r.cookie)
      assert.equal((await http(base, 'GET', '/api/1/websocket/stats', { cookie: r.cookie })).status, 401, 'no admin by a cut role');
    const a = run(bin.admin, ['-d', s.pg.conninfo, 'user', 'roles', BOB.name, `${'y'.repeat(60)},${'y'.repeat(60)},${'y'.repeat(60)},${'y'.repeat(60)},${'y'.repeat(60)}`]);
    assert.notEqual(a.status, 0, 'wspulse-admin refuses roles over 256 bytes');
    assert.match(a.stderr, /at most 256 bytes/);
  } finally {
    s.pg.psql(`UPDATE wsp_users SET roles = '{}' WHERE username = 'bob'`);
  }
  assert.equal((await login(base, BOB.name, BOB.password)).res.status, 200);
});

// A namespace open to anyone keeps the socket's purpose, not its identity:
// messages for the user must stop when the session ends.
test('a logout or new password ends the identity of a session\'s sockets in namespaces open to anyone: closed 4409, back as anonymous', async () => {
  const NSU = `ws://127.0.0.1:${s.daemonPort}/api/1/ws/hello-emoji`;
  const open = async (cookie) => {
    const ws = await rawWs(NSU, { headers: cookie ? { Cookie: cookie } : {} });
    assert.equal(ws.status, 101);
    return { ws, hello: await ws.next((m) => m.data?.type === 'connected') };
  };
  for (const end of ['logout', 'passwd']) {
    const { cookie } = await login(base, BOB.name, BOB.password);
    const { ws, hello } = await open(cookie);
    assert.equal(hello.data.username ?? hello.username, 'bob');
    const ended = Date.now();
    if (end === 'logout')
      assert.equal((await http(base, 'POST', '/api/1/auth/logout', { cookie, body: '', type: 'application/json' })).status, 200);
    else
      assert.equal(run(bin.admin, ['-d', s.pg.conninfo, 'user', 'passwd', BOB.name], { input: BOB.password + '\n' }).status, 0);
    const closed = await Promise.race([ws.closed, new Promise((r) => setTimeout(() => r(null), 5000))]);
    assert.ok(closed, `${end}: the socket is still open as bob`);
    assert.equal(closed.code, 4409, `${end}: close code`);
    assert.ok(closed.at - ended < 3000, `${end}: closed ${closed.at - ended} ms after`);
    // The same cookie opens the namespace again, as nobody.
    const again = await open(cookie);
    assert.equal(again.hello.data.username ?? again.hello.username, '', `${end}: back as anonymous`);
    again.ws.destroy();
  }
});

// Item 10: logout is a write and needs the same CSRF proof as the others.
test('logout CSRF: a form POST (any form encoding) does not revoke; the JSON logout does', async () => {
  const { cookie } = await login(base, BOB.name, BOB.password);
  const forms = [
    { type: 'application/x-www-form-urlencoded', body: '' },
    { type: 'application/x-www-form-urlencoded', body: 'a=b' },
    { type: 'text/plain', body: '{"x":1}' },
    { type: 'multipart/form-data; boundary=XyZ', body: '--XyZ--\r\n' },
    { type: null, body: undefined },
  ];
  for (const f of forms) {
    const r = await http(base, 'POST', '/api/1/auth/logout', { cookie, body: f.body, type: f.type,
      headers: { Origin: 'http://127.0.0.1:1', 'Sec-Fetch-Site': 'same-site' } });
    assert.equal(r.status, 415, JSON.stringify(f));
    assert.equal(r.json.code, 'UNSUPPORTED_MEDIA_TYPE');
    assert.equal(r.cookies.length, 0, 'the cookie is not cleared either');
    assert.equal((await http(base, 'GET', '/api/1/auth/me', { cookie })).status, 200, `still logged in after ${JSON.stringify(f)}`);
  }
  const sid = cookie.split('.')[1];
  assert.equal(s.pg.psql(`SELECT count(*) FROM wsp_sessions WHERE id = '${sid}' AND revoked_at IS NULL`), '1');
  // The app's own logout: JSON, empty body or {}.
  const r = await http(base, 'POST', '/api/1/auth/logout', { cookie, body: '', type: 'application/json' });
  assert.equal(r.status, 200);
  assert.equal(r.json.data.loggedOut, true);
  assert.equal((await http(base, 'GET', '/api/1/auth/me', { cookie })).status, 401);
});

// Item 9: login limiting.  The web server's REMOTE_ADDR is the client
// address (no trusted_proxies here), so these requests go straight to the
// FastCGI socket as nginx would send them, each with its own REMOTE_ADDR.
async function loginFrom(addr, username, password, extra = {}) {
  const body = JSON.stringify({ username, password });
  const r = await fcgiRequest({ port: s.fcgiPort }, {
    REQUEST_METHOD: 'POST', REQUEST_URI: '/api/1/auth/login', CONTENT_TYPE: 'application/json',
    CONTENT_LENGTH: String(Buffer.byteLength(body)), REMOTE_ADDR: addr, ...extra,
  }, body);
  let json = null;
  try { json = JSON.parse(r.body); } catch {}
  return { status: r.status, json, headers: r.headers };
}

test('login limiting: an attacked user still logs in from their own address', async () => {
  s.pg.psql('DELETE FROM wsp_login_throttle');
  // Wrong passwords for carol from many addresses, past the limit at each.
  for (const addr of ['198.51.100.1', '198.51.100.2', '2001:db8::66']) {
    for (let i = 0; i < 6; i++) await loginFrom(addr, CAROL.name, 'wrong-' + i);
    assert.equal((await loginFrom(addr, CAROL.name, CAROL.password)).status, 429, `blocked at ${addr}`);
  }
  // The real carol, from her own address: in at once.
  const r = await loginFrom('203.0.113.10', CAROL.name, CAROL.password);
  assert.equal(r.status, 200, JSON.stringify(r.json));
});

test('login limiting counts an IPv6 client by its /64: a fresh address per guess gets no more guesses', async () => {
  s.pg.psql('DELETE FROM wsp_login_throttle');
  // One subscriber's /64, a new address for every try.
  const statuses = [];
  for (let i = 1; i <= 8; i++) statuses.push((await loginFrom(`2001:db8:5:6::${i.toString(16)}:${i}`, CAROL.name, 'wrong-' + i)).status);
  assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429, 429, 429], 'five guesses for the whole /64');
  assert.equal(s.pg.psql("SELECT string_agg(DISTINCT address, ',') FROM wsp_login_throttle"), '2001:db8:5:6::/64');
  // Another /64 is another client; an IPv4-mapped address counts as its IPv4 one.
  assert.equal((await loginFrom('2001:db8:5:7::1', CAROL.name, CAROL.password)).status, 200);
  for (let i = 0; i < 5; i++) await loginFrom('::ffff:198.51.100.77', CAROL.name, 'wrong-' + i);
  assert.equal((await loginFrom('198.51.100.77', CAROL.name, CAROL.password)).status, 429, 'the same client as ::ffff:198.51.100.77');
  s.pg.psql('DELETE FROM wsp_login_throttle');
});

test('login limiting: 40 concurrent wrong passwords get exactly login_max_failures checks', async () => {
  s.pg.psql('DELETE FROM wsp_login_throttle');
  const rs = await Promise.all(Array.from({ length: 40 }, (_, i) => loginFrom('198.51.100.40', CAROL.name, 'guess-' + i)));
  const counts = {};
  for (const r of rs) counts[r.status] = (counts[r.status] || 0) + 1;
  assert.deepEqual(counts, { 401: 5, 429: 35 }, 'answers by status');
  assert.equal(s.pg.psql("SELECT attempts FROM wsp_login_throttle WHERE address = '198.51.100.40' AND username = 'carol'"), '5');
});

test('login limiting: the block doubles after each try, up to 16 x login_window, and ends', async () => {
  s.pg.psql('DELETE FROM wsp_login_throttle');
  const addr = '198.51.100.77';
  const key = `address = '${addr}' AND username = 'bob'`;
  for (let i = 0; i < 5; i++) assert.equal((await loginFrom(addr, BOB.name, 'wrong-' + i)).status, 401);
  const waits = [];
  for (let round = 0; round < 6; round++) {
    const r = await loginFrom(addr, BOB.name, BOB.password);
    assert.equal(r.status, 429, `round ${round}`);
    assert.equal(r.headers['retry-after'], String(r.json.retryAfter));
    waits.push(r.json.retryAfter);
    // The block ends (simulated): one more wrong try is checked, then blocked for longer.
    s.pg.psql(`UPDATE wsp_login_throttle SET blocked_until = now() - interval '1 second' WHERE ${key}`);
    assert.equal((await loginFrom(addr, BOB.name, 'wrong-again')).status, 401, `a try after block ${round}`);
  }
  const expect = [60, 120, 240, 480, 960, 960];
  waits.forEach((w, i) => assert.ok(w <= expect[i] && w >= expect[i] - 2, `block ${i}: ${w} s, expected ~${expect[i]} (all: ${waits})`));
  // The right password after the block ends: in, and the key starts afresh.
  s.pg.psql(`UPDATE wsp_login_throttle SET blocked_until = now() - interval '1 second' WHERE ${key}`);
  assert.equal((await loginFrom(addr, BOB.name, BOB.password)).status, 200);
  assert.equal(s.pg.psql(`SELECT count(*) FROM wsp_login_throttle WHERE ${key}`), '0');
  // A key quiet for a whole window is forgotten: five tries again.
  for (let i = 0; i < 4; i++) await loginFrom(addr, BOB.name, 'wrong-' + i);
  s.pg.psql(`UPDATE wsp_login_throttle SET last_at = last_at - interval '61 seconds' WHERE ${key}`);
  for (let i = 0; i < 4; i++) assert.equal((await loginFrom(addr, BOB.name, 'wrong-' + i)).status, 401, `fresh try ${i}`);
  assert.equal((await loginFrom(addr, BOB.name, BOB.password)).status, 200);
});

test('login limiting: the right password gives its attempt back, the address keeps logging in', async () => {
  s.pg.psql('DELETE FROM wsp_login_throttle');
  // An office behind one address: 60 good logins and a few typos.
  for (let i = 0; i < 60; i++) {
    if (i % 10 === 0) assert.equal((await loginFrom('203.0.113.50', BOB.name, 'typo')).status, 401);
    assert.equal((await loginFrom('203.0.113.50', i % 2 ? BOB.name : ALICE.name, i % 2 ? BOB.password : ALICE.password)).status, 200, `login ${i}`);
  }
});

test('X-Real-IP / X-Forwarded-For are believed only from trusted_proxies (default: none)', async () => {
  s.pg.psql('DELETE FROM wsp_login_throttle');
  // A client at 198.51.100.9 claiming other addresses: counted under its own.
  for (let i = 0; i < 6; i++)
    await loginFrom('198.51.100.9', CAROL.name, 'x' + i, { HTTP_X_REAL_IP: `10.7.0.${i}`, HTTP_X_FORWARDED_FOR: `10.8.0.${i}` });
  assert.equal(s.pg.psql("SELECT string_agg(DISTINCT address, ',') FROM wsp_login_throttle"), '198.51.100.9');
  // Also a loopback peer (the old rule trusted any): its headers are ignored.
  s.pg.psql('DELETE FROM wsp_login_throttle');
  await loginFrom('127.0.0.1', CAROL.name, 'y', { HTTP_X_REAL_IP: '10.7.7.7' });
  assert.equal(s.pg.psql("SELECT string_agg(DISTINCT address, ',') FROM wsp_login_throttle"), '127.0.0.1');
  // Through the shipped nginx snippet a client's headers never get through either.
  s.pg.psql('DELETE FROM wsp_login_throttle');
  await http(base, 'POST', '/api/1/auth/login', { body: { username: CAROL.name, password: 'z' }, headers: { 'X-Real-IP': '10.9.9.9', 'X-Forwarded-For': '10.9.9.8' } });
  assert.equal(s.pg.psql("SELECT string_agg(DISTINCT address, ',') FROM wsp_login_throttle"), '127.0.0.1');
  s.pg.psql('DELETE FROM wsp_login_throttle');
});

test('trusted_proxies: a bad entry stops wspulse.fcgi at start-up, naming the key; addresses, CIDR and unix pass', () => {
  const dir = tmpdir('wsp-tp-');
  try {
    const check = (value) => {
      const conf = writeConfig(dir, { ...s.settings, trusted_proxies: value });
      return run(bin.fcgi, ['-c', conf, '--check-config', '--offline'], { timeout: 10000 });
    };
    for (const bad of ['localhost', '10.0.0.0/33', '1.2.3', 'fd00::/129']) {
      const r = check(bad);
      assert.notEqual(r.status, 0, bad);
      assert.match(r.stderr, new RegExp(`trusted_proxies: '${bad.replace(/[.*/]/g, '\\$&')}' is not an IP address`), bad);
    }
    const ok = check('127.0.0.1 10.0.0.0/8 fd00::/8 ::1 unix');
    assert.equal(ok.status, 0, ok.stderr);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// Item 12: anonymous writes are limited per address; the list is paged.
async function fcgiCall(addr, method, uri, body, extra = {}) {
  const params = { REQUEST_METHOD: method, REQUEST_URI: uri, REMOTE_ADDR: addr, QUERY_STRING: uri.split('?')[1] || '', ...extra };
  if (body !== undefined) Object.assign(params, { CONTENT_TYPE: 'application/json', CONTENT_LENGTH: String(Buffer.byteLength(body)) });
  const r = await fcgiRequest({ port: s.fcgiPort }, params, body);
  let json = null;
  try { json = JSON.parse(r.body); } catch {}
  return { status: r.status, json, headers: r.headers, bytes: Buffer.byteLength(r.body) };
}

test('anonymous todo writes: anon_write_rate per address, then 429 with Retry-After; nothing written', async () => {
  const count = () => Number(s.pg.psql('SELECT count(*) FROM wsp_hello_todos'));
  const before = count();
  const create = (addr, title, extra) => fcgiCall(addr, 'POST', '/api/1/helloTodo', JSON.stringify({ title }), extra);
  // 30 at once from one address: exactly 10 get through.
  const rs = await Promise.all(Array.from({ length: 30 }, (_, i) => create('198.51.100.20', 'flood ' + i)));
  const by = {};
  for (const r of rs) by[r.status] = (by[r.status] || 0) + 1;
  assert.deepEqual(by, { 200: 10, 429: 20 });
  assert.equal(count(), before + 10);
  const r = await create('198.51.100.20', 'one more');
  assert.equal(r.status, 429);
  assert.equal(r.json.code, 'TOO_MANY_REQUESTS');
  assert.ok(r.json.retryAfter >= 1 && r.json.retryAfter <= 60, `retryAfter ${r.json.retryAfter}`);
  assert.equal(r.headers['retry-after'], String(r.json.retryAfter));
  // Toggle and delete count too.
  const created = rs.find((x) => x.status === 200).json.data, id = created._id ?? created.id;
  assert.equal((await fcgiCall('198.51.100.20', 'PUT', `/api/1/helloTodo/${id}/toggle`)).status, 429);
  assert.equal((await fcgiCall('198.51.100.20', 'DELETE', `/api/1/helloTodo/${id}`)).status, 429);
  assert.equal(count(), before + 10);
  // Another address, and a logged-in user at the same address, are not held up.
  assert.equal((await create('198.51.100.21', 'someone else')).status, 200);
  const { cookie } = await login(base, BOB.name, BOB.password);
  assert.equal((await create('198.51.100.20', 'bob, logged in', { HTTP_COOKIE: cookie })).status, 200);
  // The window ends (simulated): writes are taken again.
  s.pg.psql("UPDATE wsp_rest_write_rate SET window_start = window_start - interval '61 seconds'");
  assert.equal((await create('198.51.100.20', 'a minute later')).status, 200);
});

test('GET /api/1/helloTodo is paged: 100 by default, ?limit= up to 500, ?offset=; bad values 400', async () => {
  s.pg.psql("INSERT INTO wsp_hello_todos (title, username) SELECT 'bulk ' || i, 'guest' FROM generate_series(1, 3000) i");
  const total = Number(s.pg.psql('SELECT count(*) FROM wsp_hello_todos'));
  let r = await http(base, 'GET', '/api/1/helloTodo');
  assert.equal(r.status, 200);
  assert.equal(r.json.success, true);
  assert.ok(Array.isArray(r.json.data));
  assert.equal(r.json.data.length, 100);
  assert.deepEqual(r.json.pagination, { limit: 100, offset: 0, count: 100, hasMore: true });
  assert.equal(r.json.stats.total, total);
  assert.ok(r.text.length < 40000, `${r.text.length} bytes for the default page`);
  r = await http(base, 'GET', '/api/1/helloTodo?limit=500');
  assert.equal(r.json.data.length, 500);
  r = await http(base, 'GET', `/api/1/helloTodo?limit=20&offset=${total - 5}`);
  assert.equal(r.json.data.length, 5);
  assert.deepEqual(r.json.pagination, { limit: 20, offset: total - 5, count: 5, hasMore: false });
  // Past the end: an empty page, and the stats still there (one statement gives both).
  r = await http(base, 'GET', `/api/1/helloTodo?offset=${total + 10}`);
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.data, []);
  assert.deepEqual(r.json.pagination, { limit: 100, offset: total + 10, count: 0, hasMore: false });
  assert.equal(r.json.stats.total, total);
  assert.equal(r.json.stats.pending + r.json.stats.completed, total);
  // Newest first across pages, no overlap.
  const a = await http(base, 'GET', '/api/1/helloTodo?limit=3'), b = await http(base, 'GET', '/api/1/helloTodo?limit=3&offset=3');
  const ids = [...a.json.data, ...b.json.data].map((t) => t.id ?? t._id);
  assert.equal(new Set(ids).size, 6);
  for (const q of ['limit=0', 'limit=501', 'limit=abc', 'limit=-1', 'offset=-1', 'offset=1e3', 'limit=', 'limit'])
    assert.equal((await http(base, 'GET', `/api/1/helloTodo?${q}`)).status, 400, q);
  s.pg.psql("DELETE FROM wsp_hello_todos WHERE title LIKE 'bulk %'");
});

// Item 13: while PostgreSQL is down, the logs stay readable: no ERROR line
// per failed request, every line one event with its prefix, no empty fields.
const LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (wspulse\.fcgi|wspulsed)\[\d+\] (DEBUG|INFO|WARN|ERROR) (\[[^\]\s][^\]]*\] )?\S/;

test('logs while PostgreSQL is down: rate-limited errors, one clean line per event, no empty fields', async () => {
  const fcgiBefore = s.log('wspulse.fcgi.log').length, daemonBefore = s.log('wspulsed.log').length;
  s.pg.stopServer();
  let requests = 0, seconds;
  const t0 = Date.now();
  try {
    while (Date.now() - t0 < 3000) {
      const rs = await Promise.all(Array.from({ length: 10 }, () => http(base, 'GET', '/api/1/helloTodo')));
      for (const r of rs) assert.equal(r.status, 503);
      requests += rs.length;
    }
    await fetch(`${base}/admin/websocket-stats.shtml`);
    seconds = Math.ceil((Date.now() - t0) / 1000) + 1;
  } finally {
    s.pg.start();
  }
  await waitFor(async () => (await http(base, 'GET', '/api/1/helloTodo')).status === 200, 15000, 'REST back after the restart');
  const fcgiLog = s.log('wspulse.fcgi.log').slice(fcgiBefore), daemonLog = s.log('wspulsed.log').slice(daemonBefore);
  const errors = fcgiLog.split('\n').filter((l) => / ERROR /.test(l));
  assert.ok(requests >= 100, `${requests} requests`);
  // At most one line a second plus one summary a second, never one per request.
  assert.ok(errors.length <= 2 * seconds + 2, `${errors.length} ERROR lines for ${requests} failed requests in ${seconds} s:\n${errors.slice(0, 5).join('\n')}`);
  assert.ok(errors.some((l) => /more requests failed: database unavailable in the previous second/.test(l)), 'the dropped ones are counted');
  for (const [name, text] of [['wspulse.fcgi.log', fcgiLog], ['wspulsed.log', daemonLog]]) {
    for (const l of text.split('\n').filter(Boolean)) {
      assert.match(l, LINE, `${name}: a line that is not one whole event: ${JSON.stringify(l)}`);
      assert.ok(!/\t|\[\]|\(\)| from\s*$| from  |address\s*$/.test(l), `${name}: an empty field: ${JSON.stringify(l)}`);
    }
  }
});

test('make demo serves only the installed browser assets: no /local.mk, no build files', async () => {
  const port = await freePort();
  // Its own folder for the cluster and secrets (not the build tree's var/,
  // which a developer's own demo uses, and which postgres may not reach).
  const varDir = tmpdir('wsp-demo-');
  const demo = spawn('make', ['-s', '-C', builddir, 'demo'], {
    env: { ...process.env, WSPULSE_PORT: String(port), WSPULSE_DEMO_VAR: varDir, MAKEFLAGS: '', MFLAGS: '', MAKELEVEL: '' },
    stdio: ['ignore', 'pipe', 'pipe'], detached: true,
  });
  let out = '';
  demo.stdout.on('data', (d) => { out += d; });
  demo.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((r) => demo.on('exit', r));
  try {
    const url = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${url}/api/1/health`)).ok, 120000, `make demo on ${port}:\n${out}`);
    for (const p of ['/index.html', '/hello-websocket/', '/login/', '/login/login.js', '/jpulse-ws.js', '/jpulse-ws.mjs', '/admin/websocket-stats.js'])
      assert.equal((await fetch(url + p)).status, 200, p);
    for (const p of ['/local.mk', '/www/local.mk', '/../local.mk', '/Makefile', '/Makefile.am', '/configure.ac',
      '/scripts/demo.sh', '/db/001_init.sql', '/.git/config', '/wspulse.conf', '/hello-websocket/../local.mk'])
      assert.equal((await fetch(url + p)).status, 404, p);
  } finally {
    try { process.kill(-demo.pid, 'SIGINT'); } catch {}
    const t = setTimeout(() => { try { process.kill(-demo.pid, 'SIGKILL'); } catch {} }, 20000);
    await exited;
    clearTimeout(t);
    fs.rmSync(varDir, { recursive: true, force: true });
  }
});
