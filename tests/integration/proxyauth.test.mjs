// proxyauth.test.mjs - trusted front-server auth: Debian's nginx runs the
// shipped example examples/nginx-auth-request/wspulse-auth-request.conf,
// asking the site's own session-check endpoint (a small HTTP server here,
// the "site", which knows its users by its own cookie) on every upgrade;
// wspulsed takes X-Wspulse-User/-Roles only from trusted_proxies (nginx
// connects from 127.0.0.2 via proxy_bind) and ignores and logs them from
// anywhere else, or when trusted_proxy_auth is off.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { startStack, startApache, start, stop, freePort, waitFor, srcdir, bin, run, tmpdir, writeConfig, sleep, NGINX_ENV } from './lib/stack.mjs';
import { rawWs } from './lib/rawclient.mjs';

const SESSIONS = { 'sess-alice': { user: 'alice', roles: 'editor' }, 'sess-bob': { user: 'Bob Builder', roles: 'viewer' } };
let s, site, sitePort, nginx, ngPort, ngdir, checks = 0;

before(async () => {
  s = await startStack({
    nginx: false,
    config: {
      trusted_proxy_auth: 'on', trusted_proxies: '127.0.0.2 ::1',
      namespace: ['/api/1/ws/open', '/api/1/ws/private auth=on', '/api/1/ws/editors auth=on roles=editor'],
    },
  });
  // The site: its own cookie, its own session check.
  sitePort = await freePort();
  site = http.createServer((req, res) => {
    if (req.url === '/session-check') {
      checks++;
      const m = /(?:^|;\s*)site_session=([^;]+)/.exec(req.headers.cookie || '');
      const sess = m && SESSIONS[m[1]];
      if (m && m[1] === 'sess-banned') { res.writeHead(403); res.end(); return; }
      res.writeHead(204, sess ? { 'X-Site-User': sess.user, 'X-Site-Roles': sess.roles } : {});
      res.end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('the site\n');
  });
  await new Promise((r) => site.listen(sitePort, '127.0.0.1', r));
  // nginx with the example included as a site would, connecting to its
  // upstreams from 127.0.0.2 (the one trusted address).
  ngdir = tmpdir('wsp-ngx-');
  ngPort = await freePort();
  for (const f of ['mime.types']) fs.copyFileSync(`/etc/nginx/${f}`, path.join(ngdir, f));
  const conf = path.join(ngdir, 'nginx.conf');
  fs.writeFileSync(conf, `${process.getuid() === 0 ? 'user root root;' : ''}
worker_processes 1;
daemon off;
pid ${ngdir}/nginx.pid;
error_log ${ngdir}/error.log warn;
events { worker_connections 256; }
http {
  include mime.types;
  include ${path.join(srcdir, 'nginx/wspulse-log.conf')};
  access_log ${ngdir}/access.log wspulse;
  client_body_temp_path ${ngdir}/tmp-body;
  proxy_temp_path ${ngdir}/tmp-proxy;
  fastcgi_temp_path ${ngdir}/tmp-fastcgi;
  uwsgi_temp_path ${ngdir}/tmp-uwsgi;
  scgi_temp_path ${ngdir}/tmp-scgi;
  upstream wspulse_daemon { server 127.0.0.1:${s.daemonPort} max_fails=0; }
  upstream site_backend { server 127.0.0.1:${sitePort}; }
  server {
    listen 127.0.0.1:${ngPort};
    proxy_bind 127.0.0.2;
    location / { proxy_pass http://site_backend; }
    include ${path.join(srcdir, 'examples/nginx-auth-request/wspulse-auth-request.conf')};
  }
}
`);
  nginx = start(bin.nginx, ['-p', ngdir, '-c', conf, '-e', path.join(ngdir, 'error.log')], { log: path.join(ngdir, 'nginx.out'), env: NGINX_ENV });
  await waitFor(async () => { try { return (await fetch(`http://127.0.0.1:${ngPort}/`)).ok; } catch { return false; } }, 10000, 'nginx');
});
after(async () => {
  await stop(nginx);
  await new Promise((r) => site?.close(r));
  await s?.stop();
  if (ngdir && !process.env.WSPULSE_KEEP) fs.rmSync(ngdir, { recursive: true, force: true });
});

const via = (ns, cookie, headers = {}) => rawWs(`ws://127.0.0.1:${ngPort}${ns}`, { headers: { ...(cookie ? { Cookie: `site_session=${cookie}` } : {}), ...headers } });

test('the site\'s session names the user through auth_request: username stamped, roles checked', async () => {
  const before = checks;
  let c = await via('/api/1/ws/editors', 'sess-alice');
  assert.equal(c.status, 101);
  assert.equal((await c.next((m) => m.data?.type === 'connected')).data.username, 'alice');
  c.sendJson({ type: 'ping' });
  assert.equal((await c.next((m) => m.data?.type === 'pong')).data.username, 'alice');
  c.destroy();
  assert.ok(checks > before, 'nginx asked the site');
  c = await via('/api/1/ws/private', 'sess-bob');
  assert.equal(c.status, 101);
  assert.equal((await c.next((m) => m.data?.type === 'connected')).data.username, 'Bob Builder');
  c.destroy();
  c = await via('/api/1/ws/editors', 'sess-bob');
  assert.equal(c.status, 403, 'viewer is not editor: the daemon checks the roles');
  c.destroy();
});

test('a visitor without a site session is anonymous; the site may also refuse outright', async () => {
  let c = await via('/api/1/ws/open');
  assert.equal(c.status, 101);
  assert.equal((await c.next((m) => m.data?.type === 'connected')).data.username, '');
  c.destroy();
  c = await via('/api/1/ws/private', 'sess-nobody');
  assert.equal(c.status, 401);
  c.destroy();
  c = await via('/api/1/ws/open', 'sess-banned');
  assert.equal(c.status, 403, 'auth_request passes the site\'s 403 on');
  c.destroy();
});

test('a client\'s own X-Wspulse-User never gets through nginx', async () => {
  let c = await via('/api/1/ws/private', null, { 'X-Wspulse-User': 'root', 'X-Wspulse-Roles': 'admin,root' });
  assert.equal(c.status, 401);
  c.destroy();
  c = await via('/api/1/ws/editors', 'sess-bob', { 'X-Wspulse-User': 'alice', 'X-Wspulse-Roles': 'editor' });
  assert.equal(c.status, 403);
  c.destroy();
  c = await via('/api/1/ws/open', 'sess-bob', { 'X-Wspulse-User': 'alice' });
  assert.equal((await c.next((m) => m.data?.type === 'connected')).data.username, 'Bob Builder');
  c.destroy();
});

test('a client\'s own X-Wspulse-User gets through neither the shipped nginx/wspulse.conf nor apache/wspulse.conf, though both connect from a trusted address', async () => {
  // nginx (the shipped snippet) and Apache both reach this daemon from
  // 127.0.0.1, which is trusted: only the snippets keep a client's headers out.
  const s3 = await startStack({ pg: s.pg, config: { trusted_proxy_auth: 'on', trusted_proxies: '127.0.0.1', namespace: ['/api/1/ws/private auth=on'] } });
  const a = await startApache(s3);
  const forged = { 'X-Wspulse-User': 'mallory', 'X-Wspulse-Roles': 'admin' };
  try {
    // The daemon itself would believe them from 127.0.0.1 ...
    let c = await rawWs(`ws://127.0.0.1:${s3.daemonPort}/api/1/ws/private`, { headers: forged });
    assert.equal(c.status, 101, 'the control: straight from a trusted address, believed');
    assert.equal((await c.next((m) => m.data?.type === 'connected')).data.username, 'mallory');
    c.destroy();
    // ... so nginx blanks them, and Apache refuses the upgrade.
    c = await rawWs(`${s3.wsUrl}/api/1/ws/private`, { headers: forged });
    assert.equal(c.status, 401, 'through nginx: not logged in');
    c.destroy();
    for (const h of [forged, { 'X-Wspulse-User': 'mallory' }, { 'x-wspulse-roles': 'admin' }]) {
      c = await rawWs(`${a.wsUrl}/api/1/ws/private`, { headers: h });
      assert.equal(c.status, 403, `through Apache: ${JSON.stringify(h)}`);
      c.destroy();
    }
    // Apache still proxies an ordinary upgrade.
    c = await rawWs(`${a.wsUrl}/api/1/ws/private`);
    assert.equal(c.status, 401, 'through Apache, no headers: the daemon answers (not logged in)');
    c.destroy();
  } finally {
    await a.stop();
    await s3.stop();
  }
});

test('trusted headers from an untrusted address are ignored, and logged', async () => {
  // Straight to the daemon from 127.0.0.1, which is not in trusted_proxies.
  let c = await rawWs(`ws://127.0.0.1:${s.daemonPort}/api/1/ws/private`, { headers: { 'X-Wspulse-User': 'mallory', 'X-Wspulse-Roles': 'editor' } });
  assert.equal(c.status, 401, 'ignored: not logged in');
  c.destroy();
  c = await rawWs(`ws://127.0.0.1:${s.daemonPort}/api/1/ws/open`, { headers: { 'X-Wspulse-User': 'mallory' } });
  assert.equal(c.status, 101);
  assert.equal((await c.next((m) => m.data?.type === 'connected')).data.username, '', 'ignored: anonymous');
  c.destroy();
  await waitFor(() => /upgrade from 127\.0\.0\.1: X-Wspulse-User\/-Roles from 127\.0\.0\.1 ignored \(not in trusted_proxies\)/.test(s.log('wspulsed.log')), 3000, 'the log line');
});

test('with trusted_proxy_auth off the headers are ignored even from a trusted address; a bad trusted_proxies entry stops the daemon', async () => {
  const s2 = await startStack({ pg: s.pg, nginx: false, fcgi: false, config: { trusted_proxies: '127.0.0.1', namespace: ['/api/1/ws/private auth=on'] } });
  try {
    const c = await rawWs(`ws://127.0.0.1:${s2.daemonPort}/api/1/ws/private`, { headers: { 'X-Wspulse-User': 'mallory' } });
    assert.equal(c.status, 401);
    c.destroy();
    await waitFor(() => /X-Wspulse-User\/-Roles from 127\.0\.0\.1 ignored \(trusted_proxy_auth is off\)/.test(s2.log('wspulsed.log')), 3000, 'the log line');
  } finally { await s2.stop(); }
  const dir = tmpdir('wsp-tpbad-');
  try {
    const secret = path.join(dir, 'secret');
    run(bin.admin, ['gen-secret', secret]);
    const conf = writeConfig(dir, { database: s.pg.conninfo, secret_file: secret, trusted_proxies: '127.0.0.1 localhost', listen: '127.0.0.1:1' });
    const r = run(bin.daemon, ['-c', conf], { timeout: 10000 });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /trusted_proxies: 'localhost' is not an IP address, a CIDR network or 'unix'/);
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
  await sleep(10);
});

test('trusted_proxies defaults to none: trusted_proxy_auth on alone believes no one, not even loopback', async () => {
  const s4 = await startStack({ pg: s.pg, nginx: false, fcgi: false, config: { trusted_proxy_auth: 'on', namespace: ['/api/1/ws/private auth=on'] } });
  try {
    assert.doesNotMatch(fs.readFileSync(s4.config, 'utf8'), /trusted_proxies/, 'the key is not set');
    const c = await rawWs(`ws://127.0.0.1:${s4.daemonPort}/api/1/ws/private`, { headers: { 'X-Wspulse-User': 'mallory' } });
    assert.equal(c.status, 401);
    c.destroy();
    await waitFor(() => /X-Wspulse-User\/-Roles from 127\.0\.0\.1 ignored \(not in trusted_proxies\)/.test(s4.log('wspulsed.log')), 3000, 'the log line');
  } finally { await s4.stop(); }
});

test('unix sockets are configurable: "unix" in trusted_proxies believes a front server on wspulsed\'s unix socket; without it the headers are ignored, and logged', async () => {
  const dir = tmpdir('wsp-tpunix-');
  const secret = path.join(dir, 'secret');
  run(bin.admin, ['gen-secret', secret]);
  const daemonOn = async (name, trusted) => {
    const sock = path.join(dir, `${name}.sock`), logFile = path.join(dir, `${name}.log`);
    const conf = writeConfig(dir, { database: s.pg.conninfo, secret_file: secret, listen: `unix:${sock}`, trusted_proxy_auth: 'on', trusted_proxies: trusted, log_file: logFile, daemon_id: `unix-${name}`, namespace: '/api/1/ws/private auth=on' });
    fs.renameSync(conf, path.join(dir, `${name}.conf`));
    const proc = start(bin.daemon, ['-c', path.join(dir, `${name}.conf`)], { log: path.join(dir, `${name}.out`) });
    await waitFor(() => fs.existsSync(sock), 10000, `${name} daemon's socket`);
    return { sock, proc, log: () => { try { return fs.readFileSync(logFile, 'utf8'); } catch { return ''; } } };
  };
  const headers = { 'X-Wspulse-User': 'front-user', 'X-Wspulse-Roles': 'editor' };
  const url = 'ws://localhost/api/1/ws/private';
  const on = await daemonOn('trusted', 'unix');
  try {
    const c = await waitFor(async () => { try { return await rawWs(url, { socketPath: on.sock, headers }); } catch { return false; } }, 10000, 'an upgrade on the unix socket');
    assert.equal(c.status, 101);
    assert.equal((await c.next((m) => m.data?.type === 'connected')).data.username, 'front-user');
    c.destroy();
  } finally { await stop(on.proc); }
  const off = await daemonOn('untrusted', '127.0.0.1 ::1');
  try {
    const c = await waitFor(async () => { try { return await rawWs(url, { socketPath: off.sock, headers }); } catch { return false; } }, 10000, 'an upgrade on the unix socket');
    assert.equal(c.status, 401, 'ignored: not logged in');
    c.destroy();
    await waitFor(() => /X-Wspulse-User\/-Roles from a unix socket ignored \(not in trusted_proxies\)/.test(off.log()), 3000, 'the log line');
  } finally {
    await stop(off.proc);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
