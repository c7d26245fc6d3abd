// module-upgrade.test.mjs - modules decide too (module API version 2): a
// module's on_upgrade reads the upgrade's headers, cookies and query
// parameters and refuses with an HTTP status (401/403/...) or a 4xxx close
// code with its reason, or accepts; a module built for version 1 keeps
// loading and serving; one built for a newer version is refused at start-up.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startStack, openWs, mintSession, waitFor, builddir, bin, run, tmpdir, writeConfig } from './lib/stack.mjs';
import { rawWs } from './lib/rawclient.mjs';

const so = (n) => path.join(builddir, `tests/modules/.libs/${n}.so`);
let s, direct;

before(async () => {
  s = await startStack({ config: { modules: [so('gate-module'), so('v1-module')] } });
  direct = `ws://127.0.0.1:${s.daemonPort}/api/1/ws`;
});
after(async () => { await s?.stop(); });

test('on_upgrade reads the request\'s headers, cookies and query parameters, and the user', async () => {
  const c = await rawWs(`${direct}/gate?show=1&pass=a%20b`, { headers: { 'X-Tenant': 'acme', Cookie: 'x=1; gate=open; y=2', 'User-Agent': 'test' } });
  assert.equal(c.status, 101);
  const closed = await c.closed;
  assert.equal(closed.code, 4000);
  assert.equal(closed.reason, 'tenant=acme gate=open pass=a b path=/api/1/ws/gate ua=yes user=-');
  const sess = mintSession(s, 'erin');
  const d = await rawWs(`${direct}/gate?show=1`, { headers: { Cookie: sess.cookie } });
  assert.equal((await d.closed).reason, 'tenant=- gate=- pass=- path=/api/1/ws/gate ua=no user=erin');
});

test('on_upgrade refuses with an HTTP status (the log says why) or accepts', async () => {
  for (const [url, headers, status, logRe, reason] of [
    [`${direct}/gate`, { 'X-Tenant': 'evil' }, 403, /upgrade refused: 403 module refused with 403: tenant not allowed/, 'tenant not allowed'],
    [`${direct}/gate?pass=no`, {}, 401, /upgrade refused: 401 module refused with 401: refused/, 'refused'],
    [`${direct}/gate?pass=odd`, {}, 403, /upgrade refused: 403 module refused with 7: refused/, 'refused'],
  ]) {
    const c = await rawWs(url, { headers });
    assert.equal(c.status, status, url);
    c.destroy();
    assert.ok(c.body.includes(reason), `${url}: the answer carries the module's reason: ${c.body}`);
    await waitFor(() => logRe.test(s.log('wspulsed.log')), 3000, String(logRe));
  }
  const ok = await rawWs(`${direct}/gate?pass=yes`, { headers: { 'X-Tenant': 'acme' } });
  assert.equal(ok.status, 101);
  await ok.next((m) => m.data?.type === 'connected');
  ok.destroy();
});

test('on_upgrade refuses with a 4xxx close code and reason that a browser-style client sees, through nginx', async () => {
  const ws = await openWs(`${s.wsUrl}/api/1/ws/gate`, { headers: { Cookie: 'gate=closed' } }).catch((e) => e);
  // Node's WebSocket (like a browser) sees the upgrade succeed, then the close.
  const closed = ws instanceof Error ? null : await ws.closed;
  assert.ok(closed, String(ws));
  assert.equal(closed.code, 4003);
  assert.equal(closed.reason, 'the gate is closed');
  const sess = mintSession(s, 'blocked');
  const c = await rawWs(`${direct}/gate`, { headers: { Cookie: sess.cookie } });
  assert.equal(c.status, 101);
  assert.deepEqual({ ...(await c.closed), at: 0 }, { code: 4403, reason: 'this user is blocked here', at: 0 });
  assert.match(s.log('wspulsed.log'), /upgrade refused: 4403 module closed it with 4403: this user is blocked here/);
});

test('a module built for API version 1 keeps loading and serving (its options read in the version-1 layout)', async () => {
  assert.match(s.log('wspulsed.log'), /module .*v1-module\.so loaded \(module API version 1\)/);
  assert.match(s.log('wspulsed.log'), /module .*gate-module\.so loaded \(module API version 2\)/);
  const c = await rawWs(`${direct}/v1-module`);
  assert.equal(c.status, 101);
  await c.next((m) => m.data?.type === 'connected');
  c.sendJson({ type: 'hi' });
  const e = await c.next((m) => m.success === false);
  assert.equal(e.code, 418);
  assert.equal(e.error, 'v1 module here');
  c.destroy();
});

test('a module built for a newer API version is refused at start-up with both versions', () => {
  const dir = tmpdir();
  try {
    const conf = writeConfig(dir, { ...s.settings, modules: so('future-module'), listen: '127.0.0.1:1' });
    for (const args of [['-c', conf], ['-c', conf, '--check-config']]) {
      const r = run(bin.daemon, args);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /future-module\.so: built for module API version 99, this wspulsed has version 2: rebuild it against this wspulse\.h/);
    }
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});
