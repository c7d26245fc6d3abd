// bench-clients.test.mjs - the benchmark harness's two load clients still work (issue 18):
// tests/bench/loadgen (its own WebSocket client) and tests/bench/lwsclient (libwebsockets'
// client), each run against the real stack (nginx -> wspulse.fcgi -> PostgreSQL -> wspulsed)
// in fan-out, rate and soak mode, must count every delivery, time it, and report what `make
// bench` reads.  Speed is not judged here (that is make bench's job, beside the peers); a
// client that miscounts, mis-times or cannot publish would make every benchmark row wrong.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { startStack, login, builddir } from './lib/stack.mjs';

const NS = '/api/1/ws/bench-clients';
const LOADGEN = path.join(builddir, 'tests/bench/loadgen'), LWSCLIENT = path.join(builddir, 'tests/bench/lwsclient');
// Each client as make bench runs it: loadgen with its K publishes over K connections or
// pipelined on one, lwsclient with libwebsockets' client or its own frame reader.
const CLIENTS = {
  loadgen: [LOADGEN, []],
  'loadgen --pub-conns 4': [LOADGEN, ['--pub-conns', '4']],
  lwsclient: [LWSCLIENT, []],
  'lwsclient --engine raw': [LWSCLIENT, ['--engine', 'raw']],
};
let s, cookie;

before(async () => {
  s = await startStack({ users: [{ name: 'alice', password: 'alice-password-1', roles: ['admin'] }], config: { namespace: NS, ping_interval: 1, pong_timeout: 1,
    max_message_bytes: 262144, max_body_bytes: 524288 } });
  // Messages up to 256 KiB, for the raw engine's 64-bit frame lengths.
  // wspulsed pings every second and closes a socket whose pong is a second late: every
  // client must answer pings (a run's "disconnects" is 0).
  // The soak's namespace, the demo's jpulse-ws-test (it echoes every client message to all its
  // clients), needs a login, as in make bench.
  cookie = (await login(s.url, 'alice', 'alice-password-1')).cookie;
  assert.ok(cookie, 'a session cookie');
});

after(async () => {
  await s?.stop();
});

function run(bin, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || !line) reject(new Error(`${path.basename(bin)} exited ${code}: ${err.slice(-500)}`));
      else resolve(JSON.parse(line));
    });
  });
}

const common = () => ['--sub', `ws://127.0.0.1:${s.daemonPort}${NS}?uuid={uuid}`, '--server-pid', String(s.daemon.pid),
  '--src-base', '127.0.77.2', '--src-count', '4', '--quiet', '3'];
const publish = () => ['--pub', `${s.url}/api/1/websocket/publish`, '--pub-header', `Authorization: Bearer ${s.token}`,
  '--pub-header', 'Content-Type: application/json', '--wrap', `{"namespace":"${NS}","data":@MSG@}`];

for (const [name, [bin, opts]] of Object.entries(CLIENTS)) {
  test(`${name}: a fan-out of 12 messages to 30 subscribers, K = 4: every delivery counted and timed`, async () => {
    const r = await run(bin, [...common(), ...publish(), ...opts, '-n', '30', '-m', '12', '-k', '4']);
    if (opts.includes('raw')) assert.equal(r.engine, 'raw');
    assert.equal(r.open, 30);
    assert.equal(r.published, 12);
    assert.equal(r.publish_errors, 0);
    assert.equal(r.expected, 360);
    assert.equal(r.received, 360, 'every subscriber got every message once');
    assert.ok(r.lat_p50_ms > 0 && r.lat_p50_ms <= r.lat_p99_ms && r.lat_p99_ms <= r.lat_max_ms,
      `ordered percentiles: ${r.lat_p50_ms} ${r.lat_p99_ms} ${r.lat_max_ms}`);
    assert.ok(r.lat_max_ms < 30000, 'a latency in ms, not a raw stamp');
    if (bin === LOADGEN) {
      // Per message, its first and last read (means): the first comes no later than the
      // last, and no read is later than the slowest delivery.
      const eps = 0.002;
      assert.ok(r.lat_first_ms > 0 && r.lat_first_ms <= r.lat_last_ms + eps && r.lat_last_ms <= r.lat_max_ms + eps,
        `first ${r.lat_first_ms} <= last ${r.lat_last_ms} <= max ${r.lat_max_ms}`);
    }
    // The arrival (the kernel's receive stamp) of a delivery comes no later than its read,
    // so neither percentile of it can be later; libwebsockets' client does its own reads and
    // reports none.
    if (bin === LOADGEN || opts.includes('raw'))
      assert.ok(r.arr_p50_ms >= 0 && r.arr_p50_ms <= r.lat_p50_ms && r.arr_p99_ms <= r.lat_p99_ms
        && r.arr_p50_ms <= r.arr_p99_ms && r.arr_p99_ms <= r.arr_max_ms,
        `arrival ${r.arr_p50_ms} / ${r.arr_p99_ms} / ${r.arr_max_ms} against read ${r.lat_p50_ms} / ${r.lat_p99_ms}`);
    else
      assert.equal(r.arr_p50_ms, undefined);
    assert.ok(r.deliveries_per_s > 0);
    assert.equal(typeof r.cpu_us_per_delivery, 'number');
    assert.equal(r.disconnects, 0);
  });

  test(`${name}: open-loop rate, 20 messages at 40/s: the rate is held`, async () => {
    const r = await run(bin, [...common(), ...publish(), ...opts, '-n', '10', '-m', '20', '-k', '4', '--rate', '40']);
    assert.equal(r.received, 200);
    // 20 messages at 40/s take ~0.5 s: a client that ignored --rate would send them in a few ms.
    // (loadgen reports the publishing time, publish_s; run.mjs divides as here.)
    const rate = r.publishes_per_s ?? r.published / r.publish_s;
    assert.ok(rate > 20 && rate < 60, `publishes/s ${rate}`);
  });

  if (bin === LOADGEN || opts.includes('raw'))
    test(`${name}: a client that reads 250 ms late still times each frame's arrival at its socket`, async () => {
      // Each wake-up's reading waits 250 ms (--coalesce-us), with a message every 100 ms: the
      // reads come a median ~100 ms after the frames arrived; the arrival stamps must not.
      const r = await run(bin, [...common(), ...publish(), ...opts, '-n', '5', '-m', '10', '-k', '1', '--rate', '10',
        '--coalesce-us', '250000']);
      assert.equal(r.received, 50);
      assert.ok(r.lat_p50_ms - r.arr_p50_ms >= 50,
        `read p50 ${r.lat_p50_ms} ms, arrival p50 ${r.arr_p50_ms} ms: the client's own wait is in the arrival`);
    });

  if (opts.length) continue;   // the soak publishes nothing; the raw engine has no soak mode
  test(`${name}: soak, 20 subscribers of which a half send at 20/s for 2 s: every message reaches all`, async () => {
    const r = await run(bin, ['--sub', `ws://127.0.0.1:${s.daemonPort}/api/1/ws/jpulse-ws-test?uuid={uuid}`,
      '--sub-header', `Cookie: ${cookie}`,
      '--server-pid', String(s.daemon.pid), '--src-base', '127.0.78.2', '--src-count', '4', '--quiet', '3',
      '-n', '20', '--soak', '2', '--soak-frac', '0.5', '--soak-rate', '20']);
    assert.equal(r.open, 20);
    assert.ok(r.sent_ws >= 35 && r.sent_ws <= 45, `sent ${r.sent_ws}`);
    assert.equal(r.received, r.sent_ws * 20, 'each message echoed to every subscriber of the namespace');
    assert.ok(r.lat_p99_ms > 0 && r.lat_p99_ms < 30000);
  });
}

test('lwsclient --engine raw: large messages over ~3 s of pings are all counted; no TLS, no soak', async () => {
  // 70 000-byte messages (a 64-bit frame length) at 2/s: three seconds of wspulsed's pings.
  const r = await run(LWSCLIENT, [...common(), ...publish(), '--engine', 'raw', '-n', '5', '-m', '6', '-k', '1',
    '--rate', '2', '--size', '70000']);
  assert.equal(r.publish_errors, 0);
  assert.equal(r.received, 30, 'every large message reached every subscriber');
  assert.equal(r.disconnects, 0, 'the pings were answered');
  for (const bad of [['--soak', '1'], ['--engine', 'lws']]) {
    const args = bad[0] === '--soak' ? ['--sub', `ws://127.0.0.1:${s.daemonPort}${NS}`, '--engine', 'raw', ...bad]
      : ['--sub', `wss://127.0.0.1:${s.daemonPort}${NS}`, ...publish(), '--engine', 'raw'];
    const code = await new Promise((resolve) => spawn(LWSCLIENT, args, { stdio: 'ignore' }).on('exit', resolve));
    assert.equal(code, 2, `refused with a usage error: ${args.join(' ')}`);
  }
});

test('lwsclient -n 0: a publisher only (the publish-rate cross-check): every publish answered 2xx is a row', async () => {
  const id0 = Number(s.pg.psql('SELECT coalesce(max(id), 0) FROM wsp_outbox'));
  const r = await run(LWSCLIENT, [...publish(), '-n', '0', '-m', '200', '-k', '8', '--quiet', '1']);
  assert.equal(r.open, 0);
  assert.equal(r.published, 200);
  assert.equal(r.publish_errors, 0);
  assert.ok(r.publishes_per_s > 0, `publishes/s ${r.publishes_per_s}`);
  assert.equal(Number(s.pg.psql(`SELECT count(*) FROM wsp_outbox WHERE id > ${id0}`)), 200, 'one row per publish');
  // Without --pub, or with a soak, -n 0 is a usage error.
  for (const args of [['-n', '0', '-m', '1'], ['-n', '0', '--soak', '1', ...publish()]]) {
    const code = await new Promise((resolve) => spawn(LWSCLIENT, args, { stdio: 'ignore' }).on('exit', resolve));
    assert.equal(code, 2, `refused with a usage error: ${args.join(' ')}`);
  }
});
