// demo.test.mjs - `make demo` as a user runs it.
// - issue 19, item 6: `WSPULSE_DAEMONS=2 make demo` keeps running when one
//   daemon dies (a fault drill can be run on it);
// - issue 15: on a terminal (script(1) gives it a pty), Ctrl-C stops the
//   whole stack with exit status 0 and one "demo: stopped" line, and a second
//   start on the same database prints no WARN (PostgreSQL's routine NOTICEs,
//   e.g. "already exists, skipping", are not warnings);
// - issue 17: the demo's var/token-secret (0600) and README's openssl lines
//   mint a token the running demo accepts.
// The demo keeps its cluster and secrets in a folder of its own
// (WSPULSE_DEMO_VAR), so it never touches a developer's demo and leaves the
// build tree clean (make distcheck's distcleancheck).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { builddir, srcdir, freePort, tmpdir, waitFor, within, sleep, run } from './lib/stack.mjs';
import { connect } from './lib/rawws.mjs';
import { rawWs } from './lib/rawclient.mjs';

test('WSPULSE_DAEMONS=2 make demo: kill -9 of one daemon leaves the demo running and serving sockets', async () => {
  const varDir = tmpdir('wsp-demo-');
  const port = await freePort();
  const demo = spawn('make', ['-s', '-C', builddir, 'demo'], {
    env: { ...process.env, WSPULSE_PORT: String(port), WSPULSE_DEMO_VAR: varDir, WSPULSE_DAEMONS: '2', MAKEFLAGS: '', MFLAGS: '', MAKELEVEL: '' },
    stdio: ['ignore', 'pipe', 'pipe'], detached: true,
  });
  let out = '';
  demo.stdout.on('data', (d) => { out += d; });
  demo.stderr.on('data', (d) => { out += d; });
  let exited = null;
  const done = new Promise((r) => demo.on('exit', (code, sig) => { exited = { code, sig }; r(); }));
  try {
    await waitFor(async () => { try { return (await fetch(`http://127.0.0.1:${port}/api/1/health`)).ok; } catch { return false; } }, 120000, `make demo on ${port}:\n${out}`);
    const conf = path.join(varDir, `run-${port}/wspulsed-1.conf`);
    const pid = Number(run('pgrep', ['-f', `wspulsed -c ${conf}`]).stdout.trim().split('\n')[0]);
    assert.ok(pid > 0, 'daemon 1 found');
    process.kill(pid, 'SIGKILL');
    await sleep(2000);
    assert.equal(exited, null, `the demo is still running: ${out}`);
    for (let i = 0; i < 6; i++) {
      const c = await connect(port, '/api/1/ws/hello-emoji');
      assert.equal(c.status, 101, `upgrade ${i} through nginx with one daemon dead`);
      c.end();
    }
    assert.ok((await fetch(`http://127.0.0.1:${port}/api/1/health`)).ok);
  } finally {
    try { process.kill(-demo.pid, 'SIGINT'); } catch {}
    const t = setTimeout(() => { try { process.kill(-demo.pid, 'SIGKILL'); } catch {} }, 20000);
    await done;
    clearTimeout(t);
    fs.rmSync(varDir, { recursive: true, force: true });
  }
});

// The demo's var/ (cluster, secret, password, logs): a throwaway folder
// instead of the build tree's, so the test leaves nothing behind (make
// distcheck's distcleancheck) and never touches a developer's demo.
const demoVar = tmpdir('wsp-demo-');

/** Start `make demo` on a pty; resolves once it says it is running. */
async function startDemo(port) {
  // Not the test run's make variables, nor NGINX (nginx reads inherited
  // listening sockets from an NGINX environment variable).
  const env = { ...process.env, WSPULSE_PORT: String(port), WSPULSE_DEMO_VAR: demoVar };
  for (const k of ['MAKEFLAGS', 'MFLAGS', 'MAKELEVEL', 'MAKEOVERRIDES', 'NGINX']) delete env[k];
  const child = spawn('script', ['-qfec', 'make -s demo', '/dev/null'], {
    cwd: builddir, env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const d = { child, out: '' };
  child.stdout.on('data', (b) => { d.out += b; });
  child.stderr.on('data', (b) => { d.out += b; });
  d.exited = new Promise((resolve) => child.on('exit', (code, sig) => resolve({ code, sig })));
  try {
    await waitFor(() => d.out.includes('wspulse demo is running') || child.exitCode !== null,
      180000, '"wspulse demo is running"');
    assert.ok(d.out.includes('wspulse demo is running'), `the demo did not start:\n${d.out}`);
    const res = await fetch(`http://127.0.0.1:${port}/api/1/health`);
    assert.equal(res.status, 200);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return d;
}

/** Type Ctrl-C on its terminal; returns the exit status. */
async function ctrlC(d) {
  d.child.stdin.write('\x03');
  const r = await within(d.exited, 30000, 'make demo to exit after Ctrl-C');
  d.child.stdin.end();
  return r;
}

/** Issue 17: the demo made var/token-secret (0600, `openssl rand -hex 32`);
 * README's openssl lines, given that file, mint a token the running demo
 * accepts on its jpulse-ws-test namespace (auth=on) through its nginx. */
async function demoToken(port) {
  const key = path.join(demoVar, 'token-secret');
  assert.equal(fs.statSync(key).mode & 0o777, 0o600, 'var/token-secret is mode 0600');
  assert.match(fs.readFileSync(key, 'utf8'), /^[0-9a-f]{64}\n$/, 'var/token-secret is openssl rand -hex 32');
  const readme = fs.readFileSync(path.join(srcdir, 'README.md'), 'utf8');
  const block = readme.match(/```sh\n(b64url\(\)[^`]*?openssl dgst[^`]*?)```/);
  assert.ok(block, 'README has the minting snippet');
  assert.match(block[1], /var\/token-secret/, 'README mints with the demo\'s key file');
  const r = run('sh', ['-c', block[1].replaceAll('var/token-secret', key)]);
  assert.equal(r.status, 0, r.stderr);
  const tok = r.stdout.trim().split('\n').pop();
  let c = await rawWs(`ws://127.0.0.1:${port}/api/1/ws/jpulse-ws-test?token=${tok}`);
  assert.equal(c.status, 101, 'the demo accepts the README token');
  assert.equal((await c.next((m) => m.data?.type === 'connected')).data.username, 'alice');
  c.destroy();
  c = await rawWs(`ws://127.0.0.1:${port}/api/1/ws/jpulse-ws-test`);
  assert.equal(c.status, 401, 'without it the namespace needs a login');
  c.destroy();
}

test('make demo: Ctrl-C stops it with exit 0 and one "stopped" line; a second start has no WARN', async () => {
  const port = await freePort();
  for (const round of ['first', 'second']) {
    const d = await startDemo(port);
    let tokenCheck = null;
    if (round === 'first') tokenCheck = await demoToken(port).catch((e) => e);
    const r = await ctrlC(d);
    if (tokenCheck) throw tokenCheck;
    assert.deepEqual(r, { code: 0, sig: null }, `${round} start: exit after Ctrl-C:\n${d.out}`);
    assert.equal(d.out.match(/^demo: stopped\r?$/gm)?.length, 1, `${round} start: one "demo: stopped" line:\n${d.out}`);
    assert.doesNotMatch(d.out, /component exited|Interrupt|Error \d|No such file/, `${round} start:\n${d.out}`);
    if (round === 'second') assert.doesNotMatch(d.out, / WARN /, `second start printed a warning:\n${d.out}`);
    await assert.rejects(fetch(`http://127.0.0.1:${port}/api/1/health`), 'nginx is gone after Ctrl-C');
  }
});

// Ctrl-C stopped the demo's cluster (no other demo used it); after a failure
// it may still run.
after(() => {
  run(path.join(srcdir, 'scripts', 'wspulse-pg.sh'), ['stop', path.join(demoVar, 'pg')]);
  if (!process.env.WSPULSE_KEEP) fs.rmSync(demoVar, { recursive: true, force: true });
});
