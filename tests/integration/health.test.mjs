// health.test.mjs - wspulsed's GET /health for load balancers (issue 13,
// part 4): 200 while it serves; 503 with the reason in the JSON body while
// its PostgreSQL bus has been down longer than health_db_grace, and while
// it drains after SIGTERM; with stop_notice, for that long after SIGTERM
// while the sockets are still served (workers: every worker).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startStack, openWs, sleep, waitFor, within, slow, writeConfig } from './lib/stack.mjs';
import { upgradeStatus } from './lib/rawclient.mjs';

const GRACE = 2;   // health_db_grace, seconds
let s;

before(async () => {
  s = await startStack({ nginx: false, fcgi: false, config: { health_db_grace: GRACE } });
});
after(async () => { await s?.stop(); });

/** One keep-alive HTTP/1.1 connection: get(path) resolves {status, json}. */
async function keepAlive(port) {
  const sock = net.connect(port, '127.0.0.1');
  await new Promise((r, j) => { sock.once('connect', r); sock.once('error', j); });
  let buf = Buffer.alloc(0), waiter = null;
  const pump = () => {
    const end = buf.indexOf('\r\n\r\n');
    if (!waiter || end < 0) return;
    const head = buf.subarray(0, end).toString('latin1');
    const len = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] || 0);
    if (buf.length < end + 4 + len) return;
    const body = buf.subarray(end + 4, end + 4 + len).toString();
    buf = buf.subarray(end + 4 + len);
    const w = waiter;
    waiter = null;
    w.resolve({ status: Number(head.split(' ')[1]), json: JSON.parse(body) });
  };
  sock.on('data', (d) => { buf = Buffer.concat([buf, d]); pump(); });
  sock.on('close', () => waiter?.reject(new Error('connection closed')));
  return {
    get(path) {
      return new Promise((resolve, reject) => {
        waiter = { resolve, reject };
        sock.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
      });
    },
    end: () => sock.destroy(),
  };
}

test('PostgreSQL down: 200 within health_db_grace, then 503 "database-down" with the reason; 200 again once it is back', async () => {
  // First the daemon's connection up (under ASan in CI the test once began before it was).
  let h = await waitFor(async () => { const r = await s.health(); return r.json?.data?.database === 'up' && r; },
    10000 * slow, 'the daemon connected to PostgreSQL');
  assert.equal(h.status, 200);
  assert.deepEqual([h.json.success, h.json.data.status, h.json.data.database], [true, 'ok', 'up']);
  s.pg.stopServer();
  const down = await waitFor(async () => { const r = await s.health(); return r.json?.data?.database === 'down' && r; },
    10000 * slow, 'the daemon to notice PostgreSQL is gone');
  const t0 = Date.now();
  assert.equal(down.status, 200, 'within the grace the daemon still says 200');
  h = await waitFor(async () => { const r = await s.health(); return r.status === 503 && r; }, (GRACE + 5) * 1000 * slow, '503');
  assert.ok(Date.now() - t0 >= (GRACE - 1) * 1000, `503 came ${Date.now() - t0} ms after the loss, grace ${GRACE} s`);
  assert.equal(h.json.success, false);
  assert.equal(h.json.code, 503);
  assert.equal(h.json.data.status, 'database-down');
  assert.match(h.json.data.reason, /^PostgreSQL unreachable for \d+ s$/);
  assert.ok(h.json.data.databaseDownMs >= GRACE * 1000);
  s.pg.start();
  h = await waitFor(async () => { const r = await s.health(); return r.status === 200 && r; }, 20000 * slow, '200 after PostgreSQL is back');
  assert.equal(h.json.data.database, 'up');
});

test('SIGTERM: /health answers 503 "stopping" once the daemon is told to stop, until it exits', async () => {
  // The drain is short (it ends when the last socket is closed, at most
  // ~1.5 s): to ask in it deterministically, the daemon is frozen while the
  // signal and the next request reach it, then thawed.
  const c = await keepAlive(s.daemonPort);
  const ws = await openWs(`ws://127.0.0.1:${s.daemonPort}/api/1/ws/hello-emoji`);
  try {
    let r = await c.get('/health');
    assert.equal(r.status, 200);
    s.daemon.kill('SIGSTOP');
    s.daemon.kill('SIGTERM');
    const during = c.get('/health');
    await sleep(200);
    s.daemon.kill('SIGCONT');
    r = await within(during, 5000 * slow, '/health during the drain');
    assert.equal(r.status, 503);
    assert.equal(r.json.success, false);
    assert.equal(r.json.data.status, 'stopping');
    assert.match(r.json.data.reason, /draining/);
    assert.equal((await within(ws.closed, 5000 * slow, 'the socket to be closed')).code, 1001);
    const { code } = await within(s.daemon.exited, 5000 * slow, 'the daemon to exit');
    assert.equal(code, 0);
  } finally {
    c.end();
  }
});

test('stop_notice with workers = 2, set by a reload: after SIGTERM every new connection gets 503 for the notice, open sockets stay, then 1001 and exit 0', async () => {
  const NOTICE = 3;
  const w = await startStack({ nginx: false, fcgi: false, config: { workers: 2 } });
  try {
    // Started without a notice; a reload sets it, in the supervisor and in both workers.
    writeConfig(w.dir, { ...w.settings, stop_notice: NOTICE });
    w.daemon.kill('SIGHUP');
    const applied = () => new Set([...w.log('wspulsed.log').matchAll(/wspulsed\[(\d+)\] INFO reload: stop_notice 0 -> 3 \(applies to the next SIGTERM\)/g)].map((m) => m[1]));
    await waitFor(() => applied().size === 3, 5000 * slow, 'the supervisor and both workers to apply stop_notice');
    const socks = [];
    for (let i = 0; i < 4; i++) socks.push(await openWs(`ws://127.0.0.1:${w.daemonPort}/api/1/ws/hello-emoji`));
    const t0 = Date.now();
    w.daemon.kill('SIGTERM');
    await waitFor(async () => (await w.health()).status === 503, 2000 * slow, 'the notice to begin');
    // New connections land on either worker: each says 503 and refuses upgrades.
    for (let i = 0; i < 6; i++) {
      const h = await w.health();
      assert.equal(h.status, 503);
      assert.equal(h.json.data.status, 'stopping');
      assert.match(h.json.data.reason, /^stopping: closing its sockets in \d s$/);
      assert.equal(await upgradeStatus(`ws://127.0.0.1:${w.daemonPort}/api/1/ws/hello-emoji`), 503);
    }
    assert.ok(Date.now() - t0 < NOTICE * 1000, 'checked within the notice');
    for (const ws of socks) assert.equal(ws.readyState, WebSocket.OPEN, 'open sockets are kept through the notice');
    for (const ws of socks) assert.equal((await within(ws.closed, (NOTICE + 5) * 1000 * slow, 'the close')).code, 1001);
    assert.ok(Date.now() - t0 >= (NOTICE - 0.5) * 1000, `closed ${Date.now() - t0} ms after SIGTERM`);
    assert.equal((await within(w.daemon.exited, 10000 * slow, 'the supervisor to exit')).code, 0);
  } finally { await w.stop(); }
});
