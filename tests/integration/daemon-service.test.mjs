// daemon-service.test.mjs - wspulsed and wspulse.fcgi under a service manager: readiness
// (sd_notify READY=1 only once it listens AND has PostgreSQL; STOPPING=1),
// with and without workers; SIGHUP re-reading the configuration: a new
// limit and allowed_origins apply while an old socket stays open, `listen`
// is logged as needing a restart, a broken file changes nothing.
//
// systemd's NOTIFY_SOCKET is stood in for by helpers/notify-listen, a
// datagram socket this test binds.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startPostgres, startStack, openWs, mintSession, fcgiRequest, sleep, waitFor, within, slow as SLOW, builddir, bin, start, stop, tmpdir, writeConfig, freePort, run, onLines } from './lib/stack.mjs';
import { upgradeStatus } from './lib/rawclient.mjs';

const notifyBin = path.join(builddir, 'tests/integration/helpers/notify-listen');

/** Bind a NOTIFY_SOCKET stand-in; .lines holds what was announced. */
async function notifyListen(dir) {
  const sock = path.join(dir, 'notify.sock');
  const child = spawn(notifyBin, [sock], { stdio: ['ignore', 'pipe', 'inherit'] });
  const l = { sock, lines: [], child };
  let bound;
  const boundP = new Promise((r) => { bound = r; });
  onLines(child.stdout, (line) => { if (line === 'BOUND') bound(); else l.lines.push(line); });
  await within(boundP, 5000, 'notify-listen to bind');
  l.stop = () => child.kill('SIGKILL');
  return l;
}

const health = async (port) => { try { return (await fetch(`http://127.0.0.1:${port}/health`)).ok; } catch { return false; } };

let pg;
before(async () => { pg = await startPostgres(); });
after(async () => { await pg?.stop(); });

function daemonConfig(dir, port, extra = {}) {
  const secret = path.join(dir, 'secret');
  if (!fs.existsSync(secret)) run(bin.admin, ['gen-secret', secret]);
  return writeConfig(dir, { database: pg.conninfo, secret_file: secret, listen: `127.0.0.1:${port}`, log_level: 'debug', ...extra });
}

test('READY=1 only once wspulsed listens and has PostgreSQL; STOPPING=1 on SIGTERM', async () => {
  const dir = tmpdir();
  const n = await notifyListen(dir);
  const port = await freePort();
  const conf = daemonConfig(dir, port);
  pg.stopServer();
  let d;
  try {
    d = start(bin.daemon, ['-c', conf], { log: path.join(dir, 'd.log'), env: { NOTIFY_SOCKET: n.sock } });
    await waitFor(() => health(port), 10000 * SLOW, 'wspulsed /health while PostgreSQL is down');
    await sleep(1500);
    assert.deepEqual(n.lines, [], 'no READY=1 while PostgreSQL is unreachable');
    pg.start();
    await waitFor(() => n.lines.some((l) => /^READY=1 /.test(l)), 20000 * SLOW, 'READY=1 after PostgreSQL came up');
    assert.match(n.lines[0], /STATUS=listening, connected to PostgreSQL/);
    d.kill('SIGTERM');
    await within(d.exited, 5000 * SLOW, 'wspulsed to exit');
    assert.ok(n.lines.includes('STOPPING=1'), n.lines.join('\n'));
    assert.equal(n.lines.filter((l) => /READY=1/.test(l)).length, 1, 'READY=1 is sent once');
  } finally {
    if (d) await stop(d);
    try { pg.start(); } catch {}
    n.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('workers = 2: the supervisor sends READY=1 once, after both workers are ready', async () => {
  const dir = tmpdir();
  const n = await notifyListen(dir);
  const port = await freePort();
  const conf = daemonConfig(dir, port, { workers: 2 });
  const log = path.join(dir, 'd.log');
  const d = start(bin.daemon, ['-c', conf], { log, env: { NOTIFY_SOCKET: n.sock } });
  try {
    await waitFor(() => n.lines.some((l) => /^READY=1 /.test(l)), 20000 * SLOW, 'READY=1 from the supervisor');
    const text = fs.readFileSync(log, 'utf8');
    assert.match(text, /all 2 workers ready/);
    assert.match(n.lines[0], /STATUS=all workers ready/);
    await sleep(500);
    assert.equal(n.lines.filter((l) => /READY=1/.test(l)).length, 1, n.lines.join('\n'));
    d.kill('SIGTERM');
    await within(d.exited, 10000 * SLOW, 'the supervisor to exit');
    assert.ok(n.lines.includes('STOPPING=1'), n.lines.join('\n'));
  } finally {
    await stop(d);
    n.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// A message of 300 bytes: under the default max_message_bytes, over 200.
const big = JSON.stringify({ type: 'note', pad: 'x'.repeat(270) });

async function pingPong(ws) {
  ws.send(JSON.stringify({ type: 'ping' }));
  await ws.next((m) => m.data?.type === 'pong', 5000 * SLOW);
}

test('SIGHUP: a new limit and allowed_origins apply to a new connection while an old socket stays open; listen needs a restart', async () => {
  const s = await startStack({ pg, fcgi: false, nginx: false, config: { log_file: '' } });
  try {
    const url = `ws://127.0.0.1:${s.daemonPort}/api/1/ws/hello-emoji`;
    const log = () => s.log('wspulsed.log');
    assert.equal(await upgradeStatus(url, { Origin: 'http://allowed.test' }), 403, 'a foreign Origin before the reload');
    const old = await within(openWs(url), 5000 * SLOW, 'the old socket to open');
    await old.next((m) => m.data?.type === 'connected', 5000 * SLOW);
    old.send(big);
    await pingPong(old);
    assert.ok(!old.messages.some((m) => m.code === 413), 'a 300-byte message is fine before the reload');
    old.messages.splice(0);   // (hello-emoji answers 400 to an unknown type)

    const otherPort = await freePort();
    writeConfig(s.dir, { ...s.settings, log_file: '', allowed_origins: 'http://allowed.test', max_message_bytes: 200,
      listen: `127.0.0.1:${otherPort}` });
    s.daemon.kill('SIGHUP');
    await waitFor(() => /reload: log reopened; .* re-read: 3 keys changed, 2 applied/.test(log()), 5000 * SLOW, 'the reload summary');
    assert.match(log(), /reload: allowed_origins \(empty\) -> http:\/\/allowed\.test \(applies to new connections\)/);
    assert.match(log(), /reload: max_message_bytes 65536 -> 200 \(applies to the next message\)/);
    assert.match(log(), new RegExp(`reload: listen changed \\(127\\.0\\.0\\.1:${s.daemonPort} -> 127\\.0\\.0\\.1:${otherPort}\\) but needs a restart`));

    // New connections: the new Origin list and the new limit.
    assert.equal(await upgradeStatus(url, { Origin: 'http://allowed.test' }), 101);
    assert.equal(await upgradeStatus(url, { Origin: 'http://elsewhere.test' }), 403);
    const fresh = await within(openWs(url, { headers: { Origin: 'http://allowed.test' } }), 5000 * SLOW, 'a new socket');
    await fresh.next((m) => m.data?.type === 'connected', 5000 * SLOW);
    fresh.send(big);
    const refused = await fresh.next((m) => m.success === false, 5000 * SLOW);
    assert.equal(refused.code, 413, JSON.stringify(refused));
    // The old socket was never dropped; it still talks, under the new limit.
    await pingPong(old);
    old.send(big);
    assert.equal((await old.next((m) => m.success === false, 5000 * SLOW)).code, 413);
    assert.ok(await health(s.daemonPort), 'still on the old listen address');
    assert.ok(!(await health(otherPort)), 'not on the new one before a restart');

    // A file that does not parse changes nothing.
    fs.writeFileSync(s.config, fs.readFileSync(s.config, 'utf8') + 'rate_limit = many\n');
    s.daemon.kill('SIGHUP');
    await waitFor(() => /reload: .*wspulse\.conf:\d+: rate_limit must be an integer.*the running configuration stays/.test(log()),
      5000 * SLOW, 'the refused reload');
    assert.equal(await upgradeStatus(url, { Origin: 'http://allowed.test' }), 101);
    await pingPong(old);
    old.close();
    fresh.close();
  } finally { await s.stop(); }
});

test('workers = 2: SIGHUP to the supervisor reaches every worker; new connections on each see the change', async () => {
  const s = await startStack({ pg, fcgi: false, nginx: false, config: { log_file: '', workers: 2 } });
  try {
    const url = `ws://127.0.0.1:${s.daemonPort}/api/1/ws/hello-emoji`;
    const old = await within(openWs(url), 5000 * SLOW, 'an old socket');
    await old.next((m) => m.data?.type === 'connected', 5000 * SLOW);
    writeConfig(s.dir, { ...s.settings, log_file: '', workers: 2, allowed_origins: 'http://allowed.test', log_level: 'info' });
    s.daemon.kill('SIGHUP');
    const pids = () => new Set([...s.log('wspulsed.log').matchAll(/wspulsed\[(\d+)\] INFO reload: allowed_origins/g)].map((m) => m[1]));
    await waitFor(() => pids().size === 2, 5000 * SLOW, 'both workers to apply the reload');
    assert.match(s.log('wspulsed.log'), /SIGHUP: log reopened, forwarded to the workers/);
    // Connections are spread over the workers (one accept per wake-up).
    for (let i = 0; i < 12; i++)
      assert.equal(await upgradeStatus(url, { Origin: 'http://allowed.test' }), 101, `connection ${i}`);
    await pingPong(old);
    old.close();
    // A worker started after the SIGHUP (here the replacement of a crashed
    // one) re-reads the file too: it was forked from the supervisor's first
    // configuration (it ran without allowed_origins).
    const victim = [...pids()][0];
    process.kill(Number(victim), 'SIGKILL');
    let fresh = null;
    await waitFor(() => {
      const m = [...s.log('wspulsed.log').matchAll(/worker \d+ started \(pid (\d+)\)/g)].map((x) => x[1]);
      fresh = m.length > 2 ? m[m.length - 1] : null;
      return fresh;
    }, 10000 * SLOW, 'the replacement worker');
    await waitFor(() => pids().has(fresh), 10000 * SLOW, `the replacement (pid ${fresh}) to apply the reloaded allowed_origins`);
  } finally { await s.stop(); }
});

test('SIGHUP re-reads the session secret: a cookie signed with the old one is refused on a new connection', async () => {
  const s = await startStack({ pg, fcgi: false, nginx: false, config: { log_file: '' }, users: [{ name: 'erin', password: 'erin-pass-12' }] });
  try {
    const url = `ws://127.0.0.1:${s.daemonPort}/api/1/ws/jpulse-ws-test`;
    const oldCookie = mintSession(s, 'erin').cookie;
    assert.equal(await upgradeStatus(url, { Cookie: oldCookie }), 101);
    const next = path.join(s.dir, 'secret.next');
    assert.equal(run(bin.admin, ['gen-secret', next]).status, 0);
    fs.renameSync(next, s.settings.secret_file);   // rotated in place, same name
    s.daemon.kill('SIGHUP');
    await waitFor(() => /reload: session secret from .* is new/.test(s.log('wspulsed.log')), 5000 * SLOW, 'the new secret');
    assert.equal(await upgradeStatus(url, { Cookie: oldCookie }), 401);
    assert.equal(await upgradeStatus(url, { Cookie: mintSession(s, 'erin').cookie }), 101);
  } finally { await s.stop(); }
});

test('--check-config checks the secret and API token files and reaches the database (--offline skips that)', async () => {
  const dir = tmpdir();
  try {
    const port = await freePort();   // nothing listens there
    const good = daemonConfig(dir, port);
    const settings = { database: pg.conninfo, secret_file: path.join(dir, 'secret'), listen: `127.0.0.1:${port}` };
    for (const b of [bin.daemon, bin.fcgi]) {
      const ok = run(b, ['-c', good, '--check-config']);
      assert.equal(ok.status, 0, ok.stderr);
    }
    // A secret file others can read: refused, naming the file and the fix.
    const open = path.join(dir, 'open-secret');
    fs.copyFileSync(settings.secret_file, open);
    fs.chmodSync(open, 0o644);
    let conf = writeConfig(dir, { ...settings, secret_file: open });
    for (const b of [bin.daemon, bin.fcgi]) {
      const r = run(b, ['-c', conf, '--check-config', '--offline']);
      assert.equal(r.status, 1);
      assert.match(r.stderr, new RegExp(`secret file ${open} has mode 0644: .*chmod 600`));
    }
    // A missing API token file.
    conf = writeConfig(dir, { ...settings, api_token_file: path.join(dir, 'no-token') });
    let r = run(bin.daemon, ['-c', conf, '--check-config', '--offline']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /api_token_file .*no-token: No such file or directory/);
    // No database there: refused, unless --offline.
    conf = writeConfig(dir, { ...settings, database: `host=127.0.0.1 port=${port} dbname=wspulse connect_timeout=3` });
    for (const b of [bin.daemon, bin.fcgi]) {
      r = run(b, ['-c', conf, '--check-config']);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /cannot connect to PostgreSQL \(host=127\.0\.0\.1 port=\d+ dbname=wspulse\): .*Connection refused/);
      r = run(b, ['-c', conf, '--check-config', '--offline']);
      assert.equal(r.status, 0, r.stderr);
    }
    // A database without the schema.
    pg.psql('CREATE DATABASE wsp_empty', 'postgres');
    conf = writeConfig(dir, { ...settings, database: pg.conninfo.replace('dbname=wspulse', 'dbname=wsp_empty') });
    r = run(bin.daemon, ['-c', conf, '--check-config']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /database .*wsp_empty.*: .*wsp_outbox.* \(is the schema in place\? wspulse-admin init-db\)/);
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});

test('wspulse.fcgi: READY=1 once it has PostgreSQL and listens; STOPPING=1 on SIGTERM', async () => {
  const dir = tmpdir();
  const n = await notifyListen(dir);
  const port = await freePort();
  const conf = daemonConfig(dir, await freePort());
  const f = start(bin.fcgi, ['-c', conf, '--listen', `127.0.0.1:${port}`], { log: path.join(dir, 'f.log'), env: { NOTIFY_SOCKET: n.sock } });
  try {
    await waitFor(() => n.lines.some((l) => /^READY=1 /.test(l)), 10000 * SLOW, 'READY=1 from wspulse.fcgi');
    f.kill('SIGTERM');
    await within(f.exited, 10000 * SLOW, 'wspulse.fcgi to exit');
    assert.deepEqual(n.lines, ['READY=1 STATUS=serving', 'STOPPING=1']);
  } finally {
    await stop(f);
    n.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('wspulse.fcgi SIGHUP: metrics_allow and a rotated secret apply to the next request; fcgi_threads needs a restart', async () => {
  const s = await startStack({ pg, nginx: false, config: { log_file: '' }, users: [{ name: 'fay', password: 'fay-password-1' }] });
  try {
    const req = (uri, extra = {}) => fcgiRequest({ port: s.fcgiPort }, { REQUEST_METHOD: 'GET', REQUEST_URI: uri,
      SCRIPT_NAME: uri, QUERY_STRING: '', REMOTE_ADDR: '127.0.0.1', SERVER_PROTOCOL: 'HTTP/1.1', ...extra });
    const me = (cookie) => req('/api/1/auth/me', { HTTP_COOKIE: cookie });
    const body = JSON.stringify({ username: 'fay', password: 'fay-password-1' });
    const li = await fcgiRequest({ port: s.fcgiPort }, { REQUEST_METHOD: 'POST', REQUEST_URI: '/api/1/auth/login',
      SCRIPT_NAME: '/api/1/auth/login', QUERY_STRING: '', REMOTE_ADDR: '127.0.0.1', CONTENT_TYPE: 'application/json',
      CONTENT_LENGTH: String(body.length) }, body);
    assert.equal(li.status, 200, li.body);
    const cookie = li.headers['set-cookie'].split(';')[0];
    assert.equal((await me(cookie)).status, 200);
    assert.equal((await req('/api/1/websocket/metrics', { REMOTE_ADDR: '192.0.2.9' })).status, 403);

    const next = path.join(s.dir, 'secret.next');
    assert.equal(run(bin.admin, ['gen-secret', next]).status, 0);
    fs.renameSync(next, s.settings.secret_file);
    writeConfig(s.dir, { ...s.settings, log_file: '', metrics_allow: '192.0.2.0/24', fcgi_threads: 3 });
    s.fcgi.kill('SIGHUP');
    const log = () => s.log('wspulse.fcgi.log');
    await waitFor(() => /reload: log reopened; .* re-read: 1 key applied, 1 needs a restart/.test(log()), 5000 * SLOW, 'the fcgi reload summary');
    assert.match(log(), /reload: metrics_allow \(empty\) -> 192\.0\.2\.0\/24/);
    assert.match(log(), /reload: fcgi_threads changed \(8 -> 3\) but needs a restart: still 8/);
    assert.match(log(), /reload: the session secret is new/);
    assert.equal((await req('/api/1/websocket/metrics', { REMOTE_ADDR: '192.0.2.9' })).status, 200);
    assert.equal((await req('/api/1/websocket/metrics')).status, 403, 'the list replaces the loopback default');
    assert.equal((await me(cookie)).status, 401, 'a cookie signed with the old secret');
    // A secret that does not load changes nothing.
    fs.chmodSync(s.settings.secret_file, 0o644);
    s.fcgi.kill('SIGHUP');
    await waitFor(() => /reload: secret file .* has mode 0644.*the running configuration stays/.test(log()), 5000 * SLOW, 'the refused reload');
    assert.equal((await req('/api/1/websocket/metrics', { REMOTE_ADDR: '192.0.2.9' })).status, 200);
    fs.chmodSync(s.settings.secret_file, 0o600);
  } finally { await s.stop(); }
});
