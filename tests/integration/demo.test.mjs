// demo.test.mjs - issue 19, item 6: `WSPULSE_DAEMONS=2 make demo` keeps
// running when one daemon dies (a fault drill can be run on it).  The demo
// keeps its cluster and secrets in a folder of its own (WSPULSE_DEMO_VAR),
// so it never touches a developer's demo.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { builddir, freePort, tmpdir, waitFor, sleep, run } from './lib/stack.mjs';
import { connect } from './lib/rawws.mjs';

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
