// daemon-ops.test.mjs - wspulsed operations: backpressure on a slow reader,
// SIGTERM/SIGHUP, listen = unix:/path, site modules (load, refuse), the descriptor limit,
// --check-config.
//
// Every wait has a bound that grows with `slow` (make check-valgrind runs the
// daemon ~20x slower) and fails with what it was waiting for.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { startStack, openWs, mintSession, sleep, waitFor, within, slow as SLOW, builddir, bin, run, start, stop, tmpdir, writeConfig, freePort } from './lib/stack.mjs';
import { rawWs } from './lib/rawclient.mjs';

let s, base;
const exampleSo = path.join(builddir, 'src/modules/.libs/example-chat.so');
const brokenSo = path.join(builddir, 'tests/modules/.libs/broken-module.so');

before(async () => {
  s = await startStack({
    fcgi: false, nginx: false,
    users: [{ name: 'dave', password: 'dave-pass-12', roles: [] }],
    config: {
      stats_interval: 1, send_queue_max_bytes: 1048576, send_queue_max_messages: 64,
      namespace: '/api/1/ws/slow', modules: exampleSo,
      log_file: '',
    },
  });
  base = `ws://127.0.0.1:${s.daemonPort}`;
});
after(async () => { await s?.stop(); });
const ns = (p) => `${base}/api/1/ws/${p}`;

test('a slow reader is closed (1008, counted as dropped); a reading client gets everything', async () => {
  const slow = await rawWs(ns('slow'), { read: false, timeout: 5000 * SLOW });
  assert.equal(slow.status, 101);
  const fast = await within(openWs(ns('slow')), 5000 * SLOW, 'the reading client to connect');
  await fast.next((m) => m.data?.type === 'connected', 5000 * SLOW);
  // Megabytes towards a socket that never reads (more than the kernel
  // buffers), in bursts a reading client absorbs (15 x 16 KB < the queue).
  // The next burst waits until the reading client has the last one: a
  // daemon slower than the inserts (valgrind) would otherwise fetch several
  // bursts at once and overflow the reading client's queue too.
  const blobs = () => fast.messages.filter((m) => m.data?.type === 'blob').length;
  for (let b = 0; b < 150 && !/send queue full/.test(s.log('wspulsed.log')); b++) {
    await s.pg.psqlAsync(`INSERT INTO wsp_outbox (namespace, payload) SELECT '/api/1/ws/slow', json_build_object('type','blob','n',g,'pad',repeat('x', 16000))::text FROM generate_series(${b * 15 + 1}, ${b * 15 + 15}) g`);
    await waitFor(() => blobs() === (b + 1) * 15, 10000 * SLOW, `the reading client to get burst ${b + 1} (has ${blobs()} of ${(b + 1) * 15})`);
  }
  await waitFor(() => /slow\] client .* send queue full .* closing 1008/.test(s.log('wspulsed.log')), 15000 * SLOW, 'send queue full');
  const sent = Number(s.pg.psql(`SELECT count(*) FROM wsp_outbox WHERE namespace = '/api/1/ws/slow'`));
  slow.resume();   // now read: the daemon has hung up on us
  await within(slow.closed, 10000 * SLOW, 'the slow reader\'s socket to close');
  let st;
  const n = await waitFor(() => {
    st = JSON.parse(s.pg.psql('SELECT stats::text FROM wsp_daemon_stats'));
    const x = st.namespaces.find((y) => y.path === '/api/1/ws/slow');
    return x.dropped >= 1 && x;
  }, 5000 * SLOW, 'dropped count');
  assert.equal(n.dropped, 1);
  // The same row feeds GET /api/1/websocket/metrics: the messages lost with
  // the closed client (wspulse_messages_dropped_total) are counted.
  assert.ok(st.metrics.messagesDropped >= 1, JSON.stringify(st.metrics));
  await waitFor(() => blobs() === sent, 30000 * SLOW,
    `the fast reader to get all ${sent} messages`);
  assert.equal(fast.readyState, WebSocket.OPEN);
  fast.close();
});

test('a module from the config serves its namespace (example-chat)', async () => {
  const sess = mintSession(s, 'dave');
  const t = 5000 * SLOW;
  assert.equal((await rawWs(ns('example-chat'), { timeout: t })).status, 401);
  const a = await rawWs(ns('example-chat'), { headers: { Cookie: sess.cookie }, timeout: t });
  const b = await rawWs(ns('example-chat'), { headers: { Cookie: sess.cookie }, timeout: t });
  const w = await a.next((m) => m.data?.type === 'welcome', t);
  assert.ok(w.data.here >= 1, 'the cluster count includes the newcomer');
  assert.deepEqual(w.data.users, ['dave']);
  const joined = await a.next((m) => m.data?.type === 'joined', t);
  assert.equal(typeof joined.data.count, 'number');
  a.sendJson({ type: 'chat', text: 'hello there' });
  const m = await b.next((x) => x.data?.type === 'chat', t);
  assert.equal(m.data.text, 'hello there');
  assert.equal(m.data.username, 'dave');
  a.sendJson({ type: 'shout' });
  assert.equal((await a.next((x) => x.success === false, t)).code, 400);
  a.destroy(); b.destroy();
});

test('a module that cannot be loaded stops start-up with its name and dlerror()', () => {
  const dir = tmpdir();
  try {
    for (const [mod, why] of [[brokenSo, /broken-module\.so: no wsp_module_init: .*undefined symbol: wsp_module_init/],
      [path.join(dir, 'missing.so'), /missing\.so: cannot load: .*No such file/]]) {
      const conf = writeConfig(dir, { ...s.settings, modules: mod, listen: '127.0.0.1:1' });
      for (const args of [['-c', conf], ['-c', conf, '--check-config']]) {
        const r = run(bin.daemon, args);
        assert.equal(r.status, 1, r.stderr);
        assert.match(r.stderr, why);
      }
    }
    const conf = writeConfig(dir, { ...s.settings, namespace: '/ws/bad' });
    const r = run(bin.daemon, ['-c', conf, '--check-config']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /must start with \/api\/1\/ws\//);
    const ok = run(bin.daemon, ['-c', s.config, '--check-config']);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /modules = .*example-chat\.so/);
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});

test('listen = unix:/path serves WebSockets and /health; SIGHUP reopens log_file; SIGTERM closes 1001 and exits 0 within 2 s', async () => {
  const dir = tmpdir();
  const sock = path.join(dir, 'wspulsed.sock');
  const logFile = path.join(dir, 'd.log');
  const conf = writeConfig(dir, { ...s.settings, listen: `unix:${sock}`, log_file: logFile, modules: null, namespace: null });
  const d = start(bin.daemon, ['-c', conf], { log: path.join(dir, 'stderr.log') });
  try {
    await waitFor(() => fs.existsSync(sock), 5000 * SLOW, 'unix socket');
    const health = await within(new Promise((resolve, reject) => {
      http.get({ socketPath: sock, path: '/health' }, (res) => {
        let b = ''; res.on('data', (c) => { b += c; }); res.on('end', () => resolve({ status: res.statusCode, b }));
      }).on('error', reject);
    }), 5000 * SLOW, 'GET /health over the unix socket');
    assert.equal(health.status, 200);
    assert.match(health.b, /"status":"ok"/);
    // A WebSocket over the unix socket (through a tiny TCP relay for the client).
    // An error or close on either side ends the other too (pipe() alone
    // leaves the client's side open when the daemon's side errors).
    const relay = net.createServer((c) => {
      const u = net.connect(sock);
      c.pipe(u); u.pipe(c);
      for (const [a, b] of [[c, u], [u, c]]) { a.on('error', () => b.destroy()); a.on('close', () => b.destroy()); }
    });
    await new Promise((r) => relay.listen(0, '127.0.0.1', r));
    const url = `ws://127.0.0.1:${relay.address().port}/api/1/ws/hello-todo`;
    const clients = [];
    for (let i = 0; i < 2; i++) clients.push(await within(openWs(url), 5000 * SLOW, 'a WebSocket over the unix socket to open'));
    for (const c of clients) await c.next((m) => m.data?.type === 'connected', 5000 * SLOW);
    // SIGHUP: the log file is reopened (logrotate moved it away).
    fs.renameSync(logFile, logFile + '.1');
    d.kill('SIGHUP');
    await waitFor(() => fs.existsSync(logFile) && /log reopened/.test(fs.readFileSync(logFile, 'utf8')), 5000 * SLOW, 'reopened log');
    // SIGTERM: every socket gets 1001, the process exits 0, quickly.
    const t0 = Date.now();
    d.kill('SIGTERM');
    const codes = await within(Promise.all(clients.map((c) => c.closed)), 5000 * SLOW,
      'both WebSockets to be closed after SIGTERM');
    const { code } = await within(d.exited, 5000 * SLOW, 'the daemon to exit after SIGTERM');
    const took = Date.now() - t0;
    assert.deepEqual(codes.map((c) => c.code), [1001, 1001]);
    assert.equal(code, 0);
    assert.ok(took < 2000 * SLOW, `exit took ${took} ms (limit ${2000 * SLOW})`);
    relay.close();
  } finally {
    await stop(d);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** workers = 2, one of them stopped (SIGSTOP) so that the other takes every
 * connection, as a worker that keeps winning the accept race would, until
 * it is full (`limit`: the prlimit wrapper and config keys that make it
 * so).  Then: the next connection waits for the stopped worker instead of
 * being refused; resumed, that worker takes it and its own share; 503 comes
 * only once both are full, and at once. */
async function fullWorkerLeavesToTheOther({ wrap, extra, logged, minFirst }) {
  const dir = tmpdir();
  const port = await freePort();
  const logFile = path.join(dir, 'd.log');
  const conf = writeConfig(dir, { ...s.settings, listen: `127.0.0.1:${port}`, log_file: logFile, log_level: 'info',
    modules: null, namespace: null, max_connections_per_ip: 100000, workers: 2, ...extra });
  const d = start(wrap[0], [...wrap.slice(1), bin.daemon, '-c', conf], { log: path.join(dir, 'stderr.log') });
  const kids = () => { try { return fs.readFileSync(`/proc/${d.pid}/task/${d.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number); } catch { return []; } };
  const clients = [];
  let stopped = 0;
  try {
    await waitFor(() => fs.existsSync(logFile) && (fs.readFileSync(logFile, 'utf8').match(/ listening on /g) || []).length >= 2 && kids().length === 2,
      15000 * SLOW, 'two workers listening');
    const url = `ws://127.0.0.1:${port}/api/1/ws/hello-todo`;
    [, stopped] = kids();
    process.kill(stopped, 'SIGSTOP');
    let pending = null;
    for (let i = 0; i < 150 && !pending; i++) {
      const p = rawWs(url, { timeout: 30000 * SLOW }).catch((e) => ({ status: 0, err: e.message, sock: null }));
      const r = await Promise.race([p, sleep(1500).then(() => null)]);
      if (r) clients.push(r);
      else pending = p;
      if (r && r.status !== 101) break;
    }
    const first = clients.filter((c) => c.status === 101).length;
    assert.ok(pending, `connection ${clients.length} was answered ${clients.at(-1)?.status} ${clients.at(-1)?.err || ''} ` +
      'while the other worker (stopped) had room: it should have been left to it');
    assert.ok(first >= minFirst && first === clients.length, `the first worker took ${first} of ${clients.length}`);
    assert.match(fs.readFileSync(logFile, 'utf8'), logged);
    // The other worker resumes: it takes the one waiting and the next ones.
    process.kill(stopped, 'SIGCONT');
    stopped = 0;
    const waited = await within(pending, 10000 * SLOW, 'the waiting connection to be taken');
    clients.push(waited);
    assert.equal(waited.status, 101, `the waiting connection: ${waited.status} ${waited.err || ''}`);
    let refusedAt = 0;
    for (let i = 0; i < 150 && !refusedAt; i++) {
      const c = await rawWs(url, { timeout: 5000 * SLOW }).catch((e) => ({ status: 0, err: e.message, sock: null }));
      clients.push(c);
      if (c.status !== 101) refusedAt = clients.length;
    }
    const open = clients.filter((c) => c.status === 101).length;
    console.log(`# first worker full at ${first} sockets; 503 first at connection ${refusedAt}, ${open} open`);
    assert.equal(clients.at(-1).status, 503, `the connection after both were full: ${clients.at(-1).status} ${clients.at(-1).err || ''}`);
    assert.ok(open >= 2 * first - 10, `${open} open when the first 503 came: the second worker took only ${open - first}`);
    // Both full: every further connection is answered 503 at once, none waits.
    for (let i = 0; i < 10; i++) {
      const c = await rawWs(url, { timeout: 5000 * SLOW }).catch((e) => ({ status: 0, err: e.message, sock: null }));
      clients.push(c);
      assert.equal(c.status, 503, `with both workers full: ${c.status} ${c.err || ''}`);
    }
    // One of the first worker's sockets closes: within a look (100 ms) it lifts its mark as
    // full and says so, with no new connection needed to find out.  Then the next connection is
    // taken whichever worker wins it (the other, still full, leaves it to the first, or at the
    // descriptor limit serves that one from its reserve).
    const roomLines = () => (fs.readFileSync(logFile, 'utf8').match(/room again: accepting/g) || []).length;
    const before = roomLines();
    clients.find((c) => c.status === 101).sock.destroy();
    await waitFor(() => roomLines() > before, 5000 * SLOW, 'the first worker to log room again after a close');
    const again = await rawWs(url, { timeout: 5000 * SLOW }).catch((e) => ({ status: 0, err: e.message, sock: null }));
    clients.push(again);
    assert.equal(again.status, 101, `the connection after one closed: ${again.status} ${again.err || ''}`);
  } finally {
    if (stopped) process.kill(stopped, 'SIGCONT');
    for (const c of clients) c.sock?.destroy();
    await stop(d);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('workers = 2 at the descriptor limit: a full worker leaves new connections to the other, and 503 comes only once both are full', async () => {
  // 160 descriptors per worker: about 80 sockets each.
  await fullWorkerLeavesToTheOther({ wrap: ['prlimit', '--nofile=160:160'], extra: {}, minFirst: 50,
    logged: /at the descriptor limit: new connections left to the other workers/ });
});

test('workers = 2 at max_connections: a full worker leaves new connections to the other, and 503 comes only once both are full', async () => {
  await fullWorkerLeavesToTheOther({ wrap: ['env'], extra: { max_connections: 30 }, minFirst: 30,
    logged: /at max_connections: new connections left to the other workers/ });
});

/** The established TCP sockets on local port `port` that each of `pids` holds. */
function establishedOn(pids, port) {
  const inodes = new Set();
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try { text = fs.readFileSync(f, 'utf8'); } catch { continue; }
    for (const line of text.trim().split('\n').slice(1)) {
      const c = line.trim().split(/\s+/);
      if (parseInt(c[1].split(':').at(-1), 16) === port && c[3] === '01') inodes.add(c[9]);
    }
  }
  return pids.map((pid) => {
    let n = 0;
    for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
      try { const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`)); if (m && inodes.has(m[1])) n++; } catch { /* closed meanwhile */ }
    }
    return n;
  });
}

test('workers = 2: connections opened one after another are shared, not held mostly by the race\'s usual winner', async () => {
  // The workers race to accept on one socket, and one can win most connections (16 of 24, 76
  // of 120 in runs here). A worker holding clearly more than the other (8, or an eighth)
  // steps aside for 2 ms at each wake-up, so the other takes the next ones.
  const dir = tmpdir();
  const port = await freePort();
  const logFile = path.join(dir, 'd.log');
  const conf = writeConfig(dir, { ...s.settings, listen: `127.0.0.1:${port}`, log_file: logFile, log_level: 'info',
    modules: null, namespace: null, max_connections_per_ip: 100000, workers: 2 });
  const d = start(bin.daemon, ['-c', conf], { log: path.join(dir, 'stderr.log') });
  const kids = () => { try { return fs.readFileSync(`/proc/${d.pid}/task/${d.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number); } catch { return []; } };
  const clients = [];
  try {
    await waitFor(() => fs.existsSync(logFile) && (fs.readFileSync(logFile, 'utf8').match(/ listening on /g) || []).length >= 2 && kids().length === 2,
      15000 * SLOW, 'two workers listening');
    const url = `ws://127.0.0.1:${port}/api/1/ws/hello-todo`;
    const open = async (k) => {
      for (let i = 0; i < k; i++) {
        const c = await rawWs(url, { timeout: 10000 * SLOW }).catch((e) => ({ status: 0, err: e.message, sock: null }));
        clients.push(c);
        assert.equal(c.status, 101, `connection ${clients.length}: ${c.status} ${c.err || ''}`);
      }
    };
    // The first 80 all go to one worker (the other stopped, as a worker that keeps losing the
    // race): the one awake still takes each, after its 2-ms step aside. Then 80 more with both
    // awake: left to the race the resumed one gets about half of them (40; 61 at the most
    // lopsided race seen here); shared, it takes them until the two are within the slack (10
    // at 80), so it ends with ~70.
    const [first, other] = kids();
    process.kill(other, 'SIGSTOP');
    try {
      await open(80);
    } finally {
      process.kill(other, 'SIGCONT');
    }
    await open(80);
    let held = [];
    await waitFor(() => { held = establishedOn([first, other], port); return held[0] + held[1] === 160; }, 5000 * SLOW,
      'the 160 sockets to be seen in the two workers');
    console.log(`# the two workers hold ${held.join(' and ')} of 160`);
    assert.equal(held[0] >= 80, true, `the first worker holds ${held[0]}: it took all of the first 80`);
    assert.ok(held[1] >= 65, `the resumed worker holds ${held[1]} of 160 (the other ${held[0]})`);
  } finally {
    for (const c of clients) c.sock?.destroy();
    await stop(d);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('at the descriptor limit a single daemon answers 503 (logged), does not spin, and still obeys SIGTERM', async () => {
  const dir = tmpdir();
  const port = await freePort();
  const logFile = path.join(dir, 'd.log');
  const conf = writeConfig(dir, { ...s.settings, listen: `127.0.0.1:${port}`, log_file: logFile, log_level: 'warn',
    modules: null, namespace: null, max_connections_per_ip: 100000 });
  // 160 descriptors: the daemon keeps 64 in reserve, so about 80 sockets fit.
  const d = start('prlimit', ['--nofile=160:160', bin.daemon, '-c', conf], { log: path.join(dir, 'stderr.log') });
  const clients = [];
  try {
    await waitFor(() => new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => { c.destroy(); resolve(true); });
      c.on('error', () => resolve(false));
    }), 10000 * SLOW, 'wspulsed port');
    const url = `ws://127.0.0.1:${port}/api/1/ws/hello-todo`;
    for (let i = 0; i < 140; i++) clients.push(await rawWs(url, { timeout: 5000 * SLOW }).catch((e) => ({ status: 0, err: e.message, sock: null })));
    const statuses = clients.map((c) => c.status);
    const open = statuses.filter((x) => x === 101).length;
    const refused = statuses.filter((x) => x === 503).length;
    assert.ok(open >= 50, `only ${open} sockets open`);
    assert.ok(refused >= 20, `only ${refused} refused with 503`);
    assert.equal(open + refused, 140, `other outcomes: ${statuses.filter((x) => x !== 101 && x !== 503)}`);
    // Nothing spins while full: CPU over one second stays small.
    const cpu = () => { const f = fs.readFileSync(`/proc/${d.pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) / 100; };
    const c0 = cpu();
    await sleep(1000);
    assert.ok(cpu() - c0 < 0.3, `daemon used ${(cpu() - c0).toFixed(2)} s of CPU in 1 s while full`);
    // Logged with the address, as every refusal is (issue 19).
    await waitFor(() => /connection refused: at the descriptor limit \(127\.0\.0\.1\)/.test(fs.readFileSync(logFile, 'utf8')), 5000 * SLOW, 'refusal logged with the address');
    // SIGTERM still ends it quickly, every open socket closed with 1001.
    const t0 = Date.now();
    d.kill('SIGTERM');
    const { code } = await within(d.exited, 5000 * SLOW, 'the daemon to exit after SIGTERM');
    assert.equal(code, 0);
    assert.ok(Date.now() - t0 < 3000 * SLOW, `exit took ${Date.now() - t0} ms (limit ${3000 * SLOW})`);
    const codes = await within(Promise.all(clients.filter((c) => c.status === 101).map((c) => c.closed)), 5000 * SLOW,
      'every open socket to be closed after SIGTERM');
    assert.ok(codes.every((c) => c.code === 1001 || c.code === 1006), `close codes ${[...new Set(codes.map((c) => c.code))]}`);
  } finally {
    for (const c of clients) c.sock?.destroy();
    await stop(d);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
