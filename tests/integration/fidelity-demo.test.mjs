// fidelity-demo.test.mjs - issue 14's user counts on the demo as a user runs
// it with two daemons: `WSPULSE_DAEMONS=2 make demo` (one PostgreSQL, two
// wspulsed behind the demo's nginx, which spreads WebSockets round-robin),
// two Chromium browsers (two cookie jars) on /hello-websocket/.
//
// Before cluster-wide presence each browser on its own daemon saw
// "1 user online".  Here each namespace's two sockets are made to land on
// different daemons (checked in wsp_presence, the demo's own database); both
// pages then show "2 users online" for the emoji and the todo demo; after a
// kill -9 of one daemon the pages whose sockets it held reconnect (jPulse.ws)
// to the other, and both pages settle on exactly 2 again: the dead daemon's
// rows have left the count (no 3 or 4).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { builddir, srcdir, freePort, tmpdir, waitFor, run, slow } from './lib/stack.mjs';
import { connect } from './lib/rawws.mjs';
import { launch } from './lib/browser.mjs';

const varDir = tmpdir('wsp-demo-');
const NS = { emoji: '/api/1/ws/hello-emoji', todo: '/api/1/ws/hello-todo' };
let demo = null, browser = null;

after(async () => {
  await browser?.close().catch(() => {});
  if (demo && demo.exitCode === null) {
    try { process.kill(-demo.pid, 'SIGINT'); } catch {}
    const t = setTimeout(() => { try { process.kill(-demo.pid, 'SIGKILL'); } catch {} }, 20000);
    await new Promise((r) => (demo.exitCode !== null ? r() : demo.on('exit', r)));
    clearTimeout(t);
  }
  run(path.join(srcdir, 'scripts', 'wspulse-pg.sh'), ['stop', path.join(varDir, 'pg')]);
  if (!process.env.WSPULSE_KEEP) fs.rmSync(varDir, { recursive: true, force: true });
});

test('WSPULSE_DAEMONS=2 make demo: two browsers on different daemons agree on the user counts, also after a kill -9 of one daemon', async () => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  // Not the test run's make variables, nor NGINX (nginx reads inherited
  // listening sockets from an NGINX environment variable).
  const env = { ...process.env, WSPULSE_PORT: String(port), WSPULSE_DEMO_VAR: varDir, WSPULSE_DAEMONS: '2' };
  for (const k of ['MAKEFLAGS', 'MFLAGS', 'MAKELEVEL', 'MAKEOVERRIDES', 'NGINX']) delete env[k];
  demo = spawn('make', ['-s', '-C', builddir, 'demo'], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  demo.stdout.on('data', (d) => { out += d; });
  demo.stderr.on('data', (d) => { out += d; });
  await waitFor(async () => { try { return (await fetch(`${base}/api/1/health`)).ok; } catch { return false; } }, 120000, `make demo on ${port}:\n${out}`);

  const conninfo = run(path.join(srcdir, 'scripts', 'wspulse-pg.sh'), ['conninfo', path.join(varDir, 'pg')]).stdout.trim();
  const psql = (sql) => {
    const r = run('psql', [conninfo, '-qtAX', '-v', 'ON_ERROR_STOP=1', '-c', sql]);
    if (r.status !== 0) throw new Error(`psql: ${r.stderr}`);
    return r.stdout.trim();
  };
  const d1 = `demo-${port}-1`, d2 = `demo-${port}-2`;
  /** {namespace: {daemon id: sockets}} from the live presence rows. */
  const spread = () => {
    const rows = psql(`SELECT coalesce(json_object_agg(namespace, per), '{}') FROM (SELECT namespace, json_object_agg(daemon_id, clients) AS per FROM wsp_presence WHERE updated_at > now() - interval '3 seconds' AND clients > 0 AND namespace IN ('${NS.emoji}', '${NS.todo}') GROUP BY namespace) x`);
    return JSON.parse(rows);
  };
  const crossed = (s) => Object.values(NS).every((ns) => s[ns]?.[d1] === 1 && s[ns]?.[d2] === 1);

  browser = await launch();
  const open = async () => {
    const ctx = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    const page = await ctx.newPage();
    page.errors = [];
    page.on('pageerror', (e) => page.errors.push(String(e)));
    await page.goto(`${base}/hello-websocket/`);
    await page.waitForFunction(() => document.querySelector('#ws-status')?.textContent === 'connected', null, { timeout: 15000 * slow });
    return page;
  };
  const online = (page, id, n, ms = 10000) => page.waitForFunction(([id, want]) =>
    document.getElementById(id)?.textContent === want, [id, `${n} ${n === 1 ? 'user' : 'users'} online`], { timeout: ms * slow });

  // A's sockets, then B's: nginx's round-robin (one nginx worker) alternates
  // the daemons.  Until each namespace has one socket on each daemon, B
  // reloads after one more upgrade that shifts the round-robin by one.
  const A = await open();
  let B = await open(), s = {};
  for (let i = 0; i < 6; i++) {
    await waitFor(() => { s = spread(); return Object.values(NS).every((ns) => Object.values(s[ns] || {}).reduce((a, b) => a + b, 0) === 2); },
      5000 * slow, 'the presence rows of both pages');
    if (crossed(s)) break;
    const shift = await connect(port, NS.emoji);
    shift.end();
    await B.reload();
    await B.waitForFunction(() => document.querySelector('#ws-status')?.textContent === 'connected', null, { timeout: 15000 * slow });
  }
  assert.ok(crossed(s), `each namespace has one socket on each daemon: ${JSON.stringify(s)}`);

  for (const p of [A, B]) {
    await online(p, 'users-online', 2);
    await online(p, 'todo-users-online', 2);
  }

  // kill -9 of daemon 1: its sockets' pages reconnect through nginx to
  // daemon 2; both pages settle on exactly 2 in both demos.
  const conf1 = path.join(varDir, `run-${port}/wspulsed-1.conf`);
  const pid = Number(run('pgrep', ['-f', `wspulsed -c ${conf1}`]).stdout.trim().split('\n')[0]);
  assert.ok(pid > 0, 'daemon 1 found');
  process.kill(pid, 'SIGKILL');
  await waitFor(() => { s = spread(); return Object.values(NS).every((ns) => s[ns]?.[d2] === 2 && !s[ns]?.[d1]); },
    30000 * slow, 'both pages\' sockets on daemon 2, daemon 1\'s rows out of the count').catch((e) => {
    throw new Error(`${e.message}: ${JSON.stringify(s)}`);
  });
  for (const p of [A, B]) {
    await p.waitForFunction(() => document.querySelector('#ws-status')?.textContent === 'connected', null, { timeout: 15000 * slow });
    await online(p, 'users-online', 2, 15000);
    await online(p, 'todo-users-online', 2, 15000);
  }
  assert.equal(demo.exitCode, null, `the demo is still running:\n${out}`);
  assert.deepEqual(A.errors, []);
  assert.deepEqual(B.errors, []);
});
