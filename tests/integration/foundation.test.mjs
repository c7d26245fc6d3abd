// foundation.test.mjs - the stack starts for real and is wired through nginx;
// wspulse-admin and both programs refuse bad input with one clear line.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { bin, run, startStack, startPostgres, tmpdir, writeConfig, openWs, srcdir } from './lib/stack.mjs';

let s;
before(async () => { s = await startStack(); });
after(async () => { await s?.stop(); });

test('health answers through nginx -> FastCGI -> PostgreSQL', async () => {
  const res = await fetch(`${s.url}/api/1/health`);
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.success, true);
  assert.equal(body.data.database, 'ok');
});

test('static www/ is served by nginx', async () => {
  const res = await fetch(`${s.url}/`);
  assert.equal(res.status, 200);
  assert.match(await res.text(), /wspulse/);
});

test('a WebSocket upgrade through nginx reaches wspulsed', async () => {
  const ws = await openWs(`${s.wsUrl}/api/1/ws/hello-todo`);
  const m = await ws.next((m) => m.data?.type === 'connected');
  assert.equal(m.success, true);
  assert.equal(m.data.namespace, '/api/1/ws/hello-todo');
  ws.close();
});

test('init-db is idempotent and records the schema version', () => {
  const r = run(bin.admin, ['-d', s.pg.conninfo, 'init-db', '--migrations', path.join(srcdir, 'db')]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /0 migrations applied/);
  assert.ok(Number(s.pg.psql('SELECT max(version) FROM wsp_schema_version')) >= 1);
});

test('user add/passwd/roles/list/del with a slow salted hash', () => {
  let r = run(bin.admin, ['-d', s.pg.conninfo, 'user', 'add', 'carol', '--roles', 'admin,editor'], { input: 'correct horse\n' });
  assert.equal(r.status, 0, r.stderr);
  const hash = s.pg.psql("SELECT password_hash FROM wsp_users WHERE username = 'carol'");
  assert.match(hash, /^\$y\$/, 'yescrypt hash');
  assert.ok(!hash.includes('correct horse'));
  r = run(bin.admin, ['-d', s.pg.conninfo, 'user', 'add', 'carol'], { input: 'another pass\n' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /already exists/);
  r = run(bin.admin, ['-d', s.pg.conninfo, 'user', 'passwd', 'carol'], { input: 'new password\n' });
  assert.equal(r.status, 0, r.stderr);
  assert.notEqual(s.pg.psql("SELECT password_hash FROM wsp_users WHERE username = 'carol'"), hash);
  r = run(bin.admin, ['-d', s.pg.conninfo, 'user', 'roles', 'carol', 'viewer']);
  assert.equal(r.status, 0, r.stderr);
  r = run(bin.admin, ['-d', s.pg.conninfo, 'user', 'list']);
  assert.match(r.stdout, /carol\s+viewer/);
  r = run(bin.admin, ['-d', s.pg.conninfo, 'user', 'del', 'carol']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(s.pg.psql("SELECT count(*) FROM wsp_users WHERE username = 'carol'"), '0');
});

test('wspulse-admin: bad arguments and short passwords give one line and non-zero', () => {
  let r = run(bin.admin, ['frobnicate']);
  assert.equal(r.status, 2);
  r = run(bin.admin, ['-d', s.pg.conninfo, 'user', 'add', 'bad name!']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /invalid user name/);
  r = run(bin.admin, ['-d', s.pg.conninfo, 'user', 'add', 'dave'], { input: 'short\n' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /at least 8/);
  r = run(bin.admin, ['-d', s.pg.conninfo, 'user', 'roles', 'nobody-here', 'x']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no user 'nobody-here'/);
});

test('wspulse-admin: an unreachable database names the host in one line', () => {
  const r = run(bin.admin, ['-d', 'host=/nonexistent-dir port=5999 dbname=x user=postgres connect_timeout=2', 'user', 'list']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^wspulse-admin: cannot connect to PostgreSQL \(host=\/nonexistent-dir port=5999/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});

test('wspulse.fcgi refuses to start on an unreachable database, naming the host', () => {
  const dir = tmpdir();
  try {
    const conf = writeConfig(dir, {
      database: 'host=/nonexistent-dir port=5999 dbname=x user=postgres connect_timeout=2',
      secret_file: s.settings.secret_file,
    });
    const r = run(bin.fcgi, ['-c', conf, '--listen', '127.0.0.1:0']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^wspulse\.fcgi: cannot connect to PostgreSQL \(host=\/nonexistent-dir port=5999/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});

test('both programs reject a missing, unknown-key or malformed config with file:line', () => {
  const dir = tmpdir();
  try {
    const bad = path.join(dir, 'bad.conf');
    fs.writeFileSync(bad, 'listen = 127.0.0.1:1\nno_such_key = 1\n');
    for (const prog of [bin.daemon, bin.fcgi]) {
      let r = run(prog, ['-c', bad]);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /bad\.conf:2: unknown key 'no_such_key'/);
      r = run(prog, ['-c', path.join(dir, 'missing.conf')]);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /missing\.conf: cannot open config/);
    }
    fs.writeFileSync(bad, 'max_message_bytes = lots\n');
    const r = run(bin.daemon, ['-c', bad, '--check-config']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /bad\.conf:1: max_message_bytes must be an integer/);
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});

test('--version, --help and --check-config', () => {
  assert.match(run(bin.daemon, ['--version']).stdout, /^wspulsed \d+\.\d+/);
  assert.match(run(bin.fcgi, ['--version']).stdout, /^wspulse\.fcgi \d+\.\d+/);
  assert.match(run(bin.daemon, ['--help']).stdout, /max_message_bytes/);
  const r = run(bin.daemon, ['-c', s.config, '--check-config']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, new RegExp(`listen = 127\\.0\\.0\\.1:${s.daemonPort}`));
});

test('the daemon refuses a group-readable secret file', () => {
  const dir = tmpdir();
  try {
    const secret = path.join(dir, 'secret');
    fs.writeFileSync(secret, 'ab'.repeat(32) + '\n', { mode: 0o644 });
    fs.chmodSync(secret, 0o644);
    const conf = writeConfig(dir, { secret_file: secret, listen: '127.0.0.1:1', database: s.pg.conninfo });
    const r = run(bin.daemon, ['-c', conf]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /has mode 0644: it must not be writable by group nor readable by others/);
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});
