// security.test.mjs - the security review of issue 8 (item 4), one test per
// finding, against the REST side as it runs behind nginx (and straight over
// FastCGI where nginx would hide the attack).  The WebSocket side's findings
// (Origin, handshake auth) are in security-ws.test.mjs; login rate limiting,
// session fixation, revocation, expired cookies, SQL injection on the todo
// API and log hygiene of the REST side are in fcgi-auth / fcgi-todo.
// SECURITY.md lists every finding with the test that covers it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startStack, http, login, fcgiRequest, run, bin, tmpdir, writeConfig, srcdir } from './lib/stack.mjs';
import { connect } from './lib/rawws.mjs';

let s, base;
before(async () => {
  s = await startStack({
    users: [
      { name: 'root1', password: 'root1-password', roles: ['admin', 'root'] },
      { name: 'eve', password: 'eve-password-1' },
    ],
    config: { login_max_failures: 50, login_window: 60 },
  });
  base = s.url;
});
after(async () => { await s?.stop(); });

const cgi = (uri, extra = {}) => ({
  REQUEST_METHOD: 'GET', REQUEST_URI: uri, SCRIPT_NAME: uri.split('?')[0], QUERY_STRING: uri.split('?')[1] || '',
  SERVER_PROTOCOL: 'HTTP/1.1', REMOTE_ADDR: '192.0.2.20', SERVER_NAME: 'localhost', SERVER_PORT: '80',
  GATEWAY_INTERFACE: 'CGI/1.1', ...extra,
});

/** One raw HTTP/1.1 request to nginx (fetch would normalise the path). */
function rawHttp(port, requestLine, headers = '') {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = '';
    sock.on('error', reject);
    sock.on('connect', () => sock.write(`${requestLine}\r\nHost: 127.0.0.1\r\nConnection: close\r\n${headers}\r\n`));
    sock.on('data', (d) => { buf += d.toString('latin1'); });
    sock.on('end', () => {
      const sep = buf.indexOf('\r\n\r\n');
      resolve({ status: Number(buf.split(' ')[1]), head: buf.slice(0, sep), body: buf.slice(sep + 4) });
    });
  });
}

// --- Header injection -----------------------------------------------------

test('header injection: CR/LF in the URI, query, cookie or bearer token never becomes a header', async () => {
  const addr = { port: s.fcgiPort };
  const evil = '\r\nX-Injected: yes\r\nSet-Cookie: wsp_session=attacker';
  const cases = [
    cgi(`/api/1/helloTodo/1${evil}`, { REQUEST_METHOD: 'DELETE' }),
    cgi(`/admin/websocket-stats.shtml`, { QUERY_STRING: `a=1${evil}` }),
    cgi(`/admin/websocket-stats.shtml${evil}`),
    cgi('/api/1/auth/me', { HTTP_COOKIE: `wsp_session=v1.x${evil}` }),
    cgi('/api/1/websocket/publish', { REQUEST_METHOD: 'POST', HTTP_AUTHORIZATION: `Bearer x${evil}`, CONTENT_TYPE: 'application/json', CONTENT_LENGTH: '2' }),
  ];
  for (const params of cases) {
    const r = await fcgiRequest(addr, params, params.CONTENT_LENGTH ? '{}' : '');
    assert.ok(r.status >= 300 && r.status < 500, `status ${r.status} for ${JSON.stringify(params.REQUEST_URI)}`);
    assert.equal(r.headers['x-injected'], undefined, 'no injected header');
    assert.ok(!(r.headers['set-cookie'] || '').includes('attacker'), 'no injected cookie');
  }
  // Through nginx, percent-encoded CR/LF stays encoded data.
  const r = await rawHttp(s.httpPort, 'GET /admin/websocket-stats.shtml%0d%0aX-Injected:%20yes HTTP/1.1');
  assert.ok(!/^x-injected:/im.test(r.head), r.head);
  const r2 = await rawHttp(s.httpPort, 'GET /admin/websocket-stats.shtml?next=%0d%0aX-Injected:%20yes HTTP/1.1');
  assert.equal(r2.status, 302);
  assert.ok(!/^x-injected:/im.test(r2.head), r2.head);
  assert.match(r2.head, /^Location: \/login\/\?next=\/admin\/websocket-stats\.shtml\r?$/m, 'the redirect names only the page itself');
});

// --- Path traversal -------------------------------------------------------

test('path traversal: static files and template routes never leave www_root', async () => {
  const probes = [
    'GET /../../../../../../etc/passwd HTTP/1.1',
    'GET /%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd HTTP/1.1',
    'GET /login/..%2f..%2f..%2f..%2fetc%2fpasswd HTTP/1.1',
    'GET /admin/..%2f..%2f..%2f..%2fetc/passwd HTTP/1.1',
    'GET /admin/../../../../etc/passwd HTTP/1.1',
    'GET /hello-websocket/%252e%252e/%252e%252e/etc/passwd HTTP/1.1',
    'GET /api/1/../../../../etc/passwd HTTP/1.1',
    'GET /admin/websocket-stats.shtml/../../../../etc/passwd HTTP/1.1',
  ];
  for (const p of probes) {
    const r = await rawHttp(s.httpPort, p);
    assert.ok(r.status >= 400 || r.status === 302 || r.status === 200, `${p}: ${r.status}`);
    assert.ok(!r.body.includes('root:x:0:0'), `${p} leaked /etc/passwd`);
  }
  // Straight to FastCGI, as a misconfigured web server would pass it.
  for (const uri of ['/admin/../../../../etc/passwd', '/admin/websocket-stats.shtml/../../etc/passwd',
    '/admin/%2e%2e/%2e%2e/etc/passwd', '/api/1/helloTodo/..%2f..%2fetc%2fpasswd']) {
    const r = await fcgiRequest({ port: s.fcgiPort }, cgi(uri));
    // Only exact routes match: a template route with anything after it is
    // 404; the todo id route has no GET (405) and its id is never a path.
    assert.equal(r.status, uri.startsWith('/api/1/helloTodo/') ? 405 : 404, `${uri}: ${r.status} ${r.body.slice(0, 200)}`);
    assert.match(r.headers['content-type'], /^application\/json/);
    assert.ok(!r.body.includes('root:x:0:0'));
  }
});

// --- Tampered cookies and role escalation ---------------------------------

const b64u = (s) => Buffer.from(s).toString('base64url');

test('tampered cookies: changing any field of a valid session cookie is 401', async () => {
  const { cookie } = await login(base, 'eve', 'eve-password-1');
  assert.ok(cookie, 'logged in');
  const value = cookie.slice('wsp_session='.length);
  const f = value.split('.');
  assert.equal(f.length, 6);
  const variants = {
    'roles rewritten to admin,root': [f[0], f[1], f[2], f[3], b64u('admin,root'), f[5]],
    'username rewritten to root1': [f[0], f[1], f[2], b64u('root1'), f[4], f[5]],
    'expiry pushed out': [f[0], f[1], String(Number(f[2]) + 86400 * 365), f[3], f[4], f[5]],
    'another session id': [f[0], 'f'.repeat(32), f[2], f[3], f[4], f[5]],
    'one signature character changed': [f[0], f[1], f[2], f[3], f[4], (f[5][0] === 'A' ? 'B' : 'A') + f[5].slice(1)],
    'signature dropped': [f[0], f[1], f[2], f[3], f[4], ''],
    'version changed': ['v2', f[1], f[2], f[3], f[4], f[5]],
    'extra field': [...f, 'x'],
  };
  for (const [what, parts] of Object.entries(variants)) {
    const c = `wsp_session=${parts.join('.')}`;
    const me = await http(base, 'GET', '/api/1/auth/me', { cookie: c });
    assert.equal(me.status, 401, `${what}: ${me.status}`);
    const stats = await http(base, 'GET', '/api/1/websocket/stats', { cookie: c });
    assert.equal(stats.status, 401, `${what} on an admin API: ${stats.status}`);
  }
  // The untouched cookie still works: the refusals above were the tampering.
  assert.equal((await http(base, 'GET', '/api/1/auth/me', { cookie })).status, 200);
});

test('role escalation: a user without admin/root gets 403 on every admin route, whatever it sends', async () => {
  const { cookie } = await login(base, 'eve', 'eve-password-1');
  for (const [method, p, body] of [
    ['GET', '/api/1/websocket/stats'],
    ['POST', '/api/1/websocket/publish', { namespace: '/api/1/ws/hello-todo', data: { type: 'x' } }],
  ]) {
    const r = await http(base, method, p, { cookie, body, headers: { 'X-Roles': 'admin', 'X-Forwarded-User': 'root1' } });
    assert.equal(r.status, 403, `${method} ${p}: ${r.status}`);
  }
  const page = await http(base, 'GET', '/admin/websocket-stats.shtml', { cookie });
  assert.equal(page.status, 403);
  // A login body cannot pick its own roles either.
  const l = await http(base, 'POST', '/api/1/auth/login', { body: { username: 'eve', password: 'eve-password-1', roles: ['admin'] } });
  assert.equal(l.status, 200);
  assert.deepEqual(l.json.data.roles, []);
});

// --- SQL injection --------------------------------------------------------

test('SQL injection on the login and publish parameters changes nothing', async () => {
  const before = s.pg.psql('SELECT count(*) FROM wsp_users') + '/' + s.pg.psql('SELECT count(*) FROM wsp_outbox');
  const payloads = ["' OR '1'='1", "root1'--", "x'; DROP TABLE wsp_users; --", '" OR ""="', 'root1\\', "'; UPDATE wsp_users SET roles='{admin}' --"];
  for (const p of payloads) {
    const r = await http(base, 'POST', '/api/1/auth/login', { body: { username: p, password: p } });
    assert.ok([400, 401, 429].includes(r.status), `login ${JSON.stringify(p)}: ${r.status}`);
    const r2 = await http(base, 'POST', '/api/1/auth/login', { body: { username: 'root1', password: p } });
    assert.equal(r2.status, 401, `password ${JSON.stringify(p)}: ${r2.status}`);
  }
  const { cookie } = await login(base, 'root1', 'root1-password');
  for (const p of payloads) {
    const r = await http(base, 'POST', '/api/1/websocket/publish', { cookie, body: { namespace: `/api/1/ws/x${p}`, data: { type: 't' } } });
    assert.equal(r.status, 400, `namespace ${JSON.stringify(p)}: ${r.status}`);
    const r3 = await http(base, 'POST', '/api/1/websocket/publish', { cookie, body: { namespace: '/api/1/ws/sqli', clientId: p, data: { type: 't' } } });
    assert.equal(r3.status, 400, `clientId ${JSON.stringify(p)}: ${r3.status}`);
    // As data it is just data: stored verbatim in the outbox.
    const r4 = await http(base, 'POST', '/api/1/websocket/publish', { cookie, body: { namespace: '/api/1/ws/sqli', data: { type: 't', text: p } } });
    assert.equal(r4.status, 200, `data ${JSON.stringify(p)}: ${r4.status}`);
  }
  assert.equal(s.pg.psql("SELECT count(*) FROM wsp_outbox WHERE namespace = '/api/1/ws/sqli'"), String(payloads.length));
  assert.equal(s.pg.psql("SELECT array_to_string(roles, ',') FROM wsp_users WHERE username = 'eve'"), '');
  assert.equal(s.pg.psql('SELECT count(*) FROM wsp_users'), before.split('/')[0]);
});

// --- Secrets at rest and in comparison ------------------------------------

test('wspulse.fcgi refuses a group/world-readable secret file or API token file at start-up', () => {
  const dir = tmpdir();
  try {
    const secret = path.join(dir, 'secret');
    const good = path.join(dir, 'good-secret');
    const token = path.join(dir, 'token');
    fs.writeFileSync(secret, 'ab'.repeat(32) + '\n', { mode: 0o640 });
    fs.chmodSync(secret, 0o640);
    // 0640 is accepted only when the group is one of the program's own
    // (the `wspulse` group model); nogroup is not.
    fs.chownSync(secret, process.getuid(), 65534);
    fs.writeFileSync(good, 'cd'.repeat(32) + '\n', { mode: 0o600 });
    fs.writeFileSync(token, 'tok\n', { mode: 0o644 });
    fs.chmodSync(token, 0o644);
    let conf = writeConfig(dir, { secret_file: secret, database: s.pg.conninfo, fcgi_listen: '127.0.0.1:1' });
    let r = run(bin.fcgi, ['-c', conf], { timeout: 10000 });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /has mode 0640 but its group \(gid 65534\) is not one of this process's/);
    conf = writeConfig(dir, { secret_file: good, api_token_file: token, database: s.pg.conninfo, fcgi_listen: '127.0.0.1:1' });
    r = run(bin.fcgi, ['-c', conf], { timeout: 10000 });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /api_token_file .*token has mode 0644: it must not be writable by group nor readable by others/);
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});

test('secrets are compared in constant time: cookie MAC, API token, connection token and password hash', () => {
  const read = (f) => fs.readFileSync(path.join(srcdir, f), 'utf8');
  // The one comparison helper is CRYPTO_memcmp...
  assert.match(read('src/token.c'), /int wsp_ct_equal[^]*?CRYPTO_memcmp/);
  // ...and each secret comparison goes through it.
  assert.match(read('src/token.c'), /wsp_ct_equal\(m, 32, given, 32\)/, 'session cookie HMAC');
  assert.match(read('fcgi/app.c'), /wsp_ct_equal\(tok, len, ctx->app->api_token/, 'API token (publish, presence: wsp_ctx_require_admin_or_token)');
  assert.match(read('src/conntoken.c'), /CRYPTO_memcmp\(want, got, SIG_LEN\)/, 'connection token HMAC');
  assert.match(read('src/password.c'), /wsp_ct_equal\(h, strlen\(h\), hash, strlen\(hash\)\)/, 'password hash');
  // No plain comparison touches a token, MAC, hash or secret anywhere.
  const files = ['src', 'src/daemon', 'fcgi'].flatMap((d) => fs.readdirSync(path.join(srcdir, d))
    .filter((f) => f.endsWith('.c')).map((f) => path.join(d, f)));
  for (const f of files) {
    for (const line of read(f).split('\n')) {
      if (/\b(strcmp|strncmp|memcmp|strcasecmp)\s*\([^;]*\b(api_token|hmac|mac|given|secret|hash|password|tok)\b/.test(line) &&
          !/tok\.username|tok->username/.test(line))
        assert.fail(`${f}: non-constant-time comparison of a secret: ${line.trim()}`);
    }
  }
});

// --- Script injection into the pages -------------------------------------

test('script injection: the demo, login and admin scripts only ever set text, never HTML', () => {
  const dirs = ['www/hello-websocket', 'www/login', 'www/admin', 'www'];
  let checked = 0;
  for (const d of dirs) {
    const full = path.join(srcdir, d);
    if (!fs.existsSync(full)) continue;
    for (const f of fs.readdirSync(full).filter((x) => /\.m?js$/.test(x))) {
      const text = fs.readFileSync(path.join(full, f), 'utf8');
      checked++;
      for (const bad of ['.innerHTML', '.outerHTML', 'insertAdjacentHTML', 'document.write', 'eval(', 'new Function(']) {
        // Clearing a node (innerHTML = '') is harmless; anything else is not.
        const lines = text.split('\n').filter((l) => l.includes(bad) && !/innerHTML\s*=\s*(''|"")\s*;/.test(l));
        assert.equal(lines.length, 0, `${d}/${f} uses ${bad}: ${lines.join(' | ')}`);
      }
    }
  }
  assert.ok(checked >= 4, `checked ${checked} scripts`);
});

test('script injection: a title and an activity message full of markup reach the admin page escaped', async () => {
  const evil = '<script>alert(1)</script><img src=x onerror=alert(2)>"\'&';
  const now = new Date().toISOString();
  const stats = {
    uptime: 5, totalMessages: 1,
    namespaces: [{ path: `/api/1/ws/${evil}`, status: 'green', clientCount: 1, activeUsers: 1, messagesPerMin: 0, messagesPerHour: 0, totalMessages: 1, dropped: 0, lastActivity: now }],
    activityLog: [{ timestamp: now, namespace: '/api/1/ws/hello-todo', type: 'todo-created', username: evil, message: evil }],
  };
  s.pg.psql(`INSERT INTO wsp_daemon_stats (daemon_id, host, pid, started_at, updated_at, stats)
    VALUES ('sec-test', 'h', 1, now(), now(), '${JSON.stringify(stats).replace(/'/g, "''")}'::jsonb)
    ON CONFLICT (daemon_id) DO UPDATE SET updated_at = now(), stats = EXCLUDED.stats`);
  const { cookie } = await login(base, 'root1', 'root1-password');
  const page = await http(base, 'GET', '/admin/websocket-stats.shtml', { cookie });
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type'), /^text\/html/);
  assert.ok(!page.text.includes('<script>alert(1)'), 'script tag not emitted');
  assert.ok(!page.text.includes('<img src=x'), 'img tag not emitted');
  assert.ok(page.text.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), 'shown as text');
  // The same title through the todo API is only ever JSON.
  const t = await http(base, 'POST', '/api/1/helloTodo', { cookie, body: { title: evil } });
  assert.equal(t.status, 200, t.text);
  assert.match(t.headers.get('content-type'), /^application\/json/);
});

// --- The WebSocket side ------------------------------------------------------
// Origin (403), no cookie (401) and a missing role (403) are daemon-core's
// "refusals are HTTP statuses"; here the cookie is tampered with.

test('WebSocket handshake: a tampered cookie is 401, rewritten roles never open an admin namespace', async () => {
  const { cookie } = await login(base, 'eve', 'eve-password-1');
  const f = cookie.slice('wsp_session='.length).split('.');
  const forged = `wsp_session=${[f[0], f[1], f[2], f[3], b64u('admin,root'), f[5]].join('.')}`;
  const origin = { Origin: `http://127.0.0.1:${s.daemonPort}` };
  let c = await connect(s.daemonPort, '/api/1/ws/jpulse-ws-status', { headers: { ...origin, Cookie: forged } });
  c.end();
  assert.equal(c.status, 401, 'forged roles');
  c = await connect(s.daemonPort, '/api/1/ws/jpulse-ws-test', { headers: { ...origin, Cookie: `wsp_session=${f.slice(0, 5).join('.')}.AAAA` } });
  c.end();
  assert.equal(c.status, 401, 'bad signature');
  c = await connect(s.daemonPort, '/api/1/ws/jpulse-ws-status', { headers: { ...origin, Cookie: cookie } });
  c.end();
  assert.equal(c.status, 403, 'the genuine non-admin cookie: logged in, wrong role');
  c = await connect(s.daemonPort, '/api/1/ws/jpulse-ws-test', { headers: { ...origin, Cookie: cookie } });
  c.end();
  assert.equal(c.status, 101, 'the genuine cookie opens an auth namespace');
});

test('no password, session cookie or API token in either program\'s log', async () => {
  const { cookie } = await login(base, 'root1', 'root1-password');
  await login(base, 'root1', 'a-wrong-password-xyz');
  const c = await connect(s.daemonPort, '/api/1/ws/jpulse-ws-status', { headers: { Cookie: cookie } });
  c.end();
  await http(base, 'POST', '/api/1/websocket/publish', { headers: { Authorization: `Bearer ${s.token}` }, body: { namespace: '/api/1/ws/x', data: { type: 't' } } });
  await http(base, 'POST', '/api/1/websocket/publish', { headers: { Authorization: 'Bearer not-the-token-123' }, body: { namespace: '/api/1/ws/x', data: { type: 't' } } });
  const token = cookie.slice('wsp_session='.length);
  const sig = token.split('.')[5];
  for (const f of ['wspulsed.log', 'wspulse.fcgi.log']) {
    const log = s.log(f);
    assert.ok(log.length > 0, `${f} is written (log_level debug)`);
    for (const secret of ['root1-password', 'a-wrong-password-xyz', sig, s.token, 'not-the-token-123', fs.readFileSync(s.settings.secret_file, 'utf8').trim()])
      assert.ok(!log.includes(secret), `${f} contains a secret (${secret.slice(0, 6)}...)`);
  }
});

// lws binds an upgrade to whichever protocol of the vhost its
// Sec-WebSocket-Protocol names; the daemon's internal ones (its PostgreSQL
// socket, the accept and reader sockets) must never carry a client.
test('WebSocket handshake: an upgrade naming an internal protocol (wsp-bus, wsp-accept, wsp-reader) never opens', async () => {
  const origin = { Origin: `http://127.0.0.1:${s.daemonPort}` };
  for (const proto of ['wsp-bus', 'wsp-accept', 'wsp-reader']) {
    let status;
    try {
      const c = await connect(s.daemonPort, '/api/1/ws/hello-emoji', { headers: { ...origin, 'Sec-WebSocket-Protocol': proto } });
      status = c.status;
      if (status === 101) {
        // Opened: it must at least be closed at once, not held.
        const closed = await Promise.race([c.closed, new Promise((r) => setTimeout(() => r(null), 1000))]);
        status = closed ? 'closed' : 101;
      }
      c.end();
    } catch (e) {
      status = 'closed';   // dropped before any answer
    }
    assert.notEqual(status, 101, `${proto}: the upgrade opened`);
  }
  const c = await connect(s.daemonPort, '/api/1/ws/hello-emoji', { headers: origin });
  c.end();
  assert.equal(c.status, 101, 'a plain upgrade still opens');
});

// lws 4.1.6 answers an unknown Upgrade with 403, may release the header
// table, and still asks the daemon to confirm it with a pointer into it
// (CVE-2025-11677): the daemon must not read that pointer (an ASan build
// sees the read), and must go on serving.
test('WebSocket handshake: an unknown Upgrade gets 403 and the daemon serves on; "WebSocket" in any case upgrades', async () => {
  const raw = (upgrade) => new Promise((resolve, reject) => {
    const sock = net.connect(s.daemonPort, '127.0.0.1');
    let buf = '';
    sock.on('error', reject);
    sock.on('data', (d) => { buf += d; if (buf.includes('\r\n\r\n')) { sock.destroy(); resolve(buf); } });
    sock.on('close', () => resolve(buf));
    sock.write(`GET /api/1/ws/hello-emoji HTTP/1.1\r\nHost: 127.0.0.1:${s.daemonPort}\r\nUpgrade: ${upgrade}\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  });
  for (const up of ['foo', 'h2', 'websocketx']) {
    const r = await raw(up);
    assert.doesNotMatch(r, /^HTTP\/1\.1 101/, `Upgrade: ${up} must not open`);
  }
  assert.match(await raw('WebSocket'), /^HTTP\/1\.1 101/);
  const h = await http(`http://127.0.0.1:${s.daemonPort}`, 'GET', '/health');
  assert.equal(h.status, 200, 'the daemon serves on');
});
