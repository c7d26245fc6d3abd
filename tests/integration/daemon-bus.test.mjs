// daemon-bus.test.mjs - wspulsed and PostgreSQL: outbox replay after a lost
// connection (none lost, none doubled), a real PostgreSQL restart, a
// database that is down when the daemon starts, and two daemons sharing one
// database (module broadcasts reach both, exactly once).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startStack, openWs, sleep, waitFor, builddir, bin, start, stop, freePort, tmpdir, writeConfig } from './lib/stack.mjs';

let s, base;
const testModule = path.join(builddir, 'tests/modules/.libs/test-module.so');

before(async () => {
  s = await startStack({ fcgi: false, nginx: false, config: { modules: testModule, stats_interval: 1 } });
  // application_name lets a test cut exactly the daemon's connection.
  s.settings.database = s.pg.conninfo + ' application_name=wspulsed-a';
  writeConfig(s.dir, s.settings);
  await s.stopDaemon();
  await s.startDaemon();
  base = `ws://127.0.0.1:${s.daemonPort}`;
});
after(async () => { await s?.stop(); });

const readLog = (f) => { try { return fs.readFileSync(f, 'utf8'); } catch { return ''; } };
const todos = (ws) => ws.messages.filter((m) => m.data?.type === 'todo').map((m) => m.data.n);
const insert = (n, ns = 'hello-todo') => s.pg.psql(`INSERT INTO wsp_outbox (namespace, payload, username) SELECT '/api/1/ws/${ns}', json_build_object('type','todo','n',g)::text, 'rest' FROM generate_series(${n[0]}, ${n[1]}) g`);

test('rows committed while the daemon is cut off are replayed after reconnect: none lost, none doubled', async () => {
  const c = await openWs(`${base}/api/1/ws/hello-todo`);
  await c.next((m) => m.data?.type === 'connected');
  insert([1, 5]);
  await waitFor(() => todos(c).length === 5, 5000, 'first five');
  // Cut the daemon's connection and commit rows in the same breath: no NOTIFY
  // can reach it, only the replay can deliver them.
  s.pg.psql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'wspulsed-a';
    INSERT INTO wsp_outbox (namespace, payload, username) SELECT '/api/1/ws/hello-todo', json_build_object('type','todo','n',g)::text, 'rest' FROM generate_series(6, 10) g`);
  await waitFor(() => /connected to PostgreSQL again/.test(s.log('wspulsed.log')), 10000, 'reconnect');
  insert([11, 12]);
  await waitFor(() => todos(c).length >= 12, 10000, 'all twelve');
  await sleep(300);
  assert.deepEqual(todos(c), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  const ids = c.messages.filter((m) => m.data?.type === 'todo').map((m) => m.id);
  assert.equal(new Set(ids).size, 12);
  c.close();
});

test('a replay that fails on a connection that stays up (a lock timeout) starts over: the rows committed while cut off still arrive', async () => {
  const c = await openWs(`${base}/api/1/ws/hello-todo`);
  await c.next((m) => m.data?.type === 'connected');
  insert([21, 22]);
  await waitFor(() => todos(c).length === 2, 5000, 'the first two');
  const count = (re) => (s.log('wspulsed.log').match(re) || []).length;
  const lockFails = () => count(/query failed: (ERROR: +)?canceling statement due to lock timeout/g);
  const before = lockFails();
  // The daemon's next session gives up waiting for a lock after 300 ms:
  // its replay then fails while its connection stays up.
  s.pg.psql("ALTER ROLE CURRENT_USER SET lock_timeout = '300ms'");
  const psql = spawn('psql', [s.pg.conninfo, '-qtAX', '-v', 'ON_ERROR_STOP=1'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  psql.stdout.on('data', (d) => { out += d; });
  psql.stderr.on('data', (d) => { out += d; });
  try {
    // Cut the daemon off, commit rows only a replay can deliver, and hold
    // the outbox locked (one statement at a time, inside its 250 ms backoff).
    psql.stdin.write("SET lock_timeout = 0;\n" +
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'wspulsed-a';\n" +
      "INSERT INTO wsp_outbox (namespace, payload, username) SELECT '/api/1/ws/hello-todo', json_build_object('type','todo','n',g)::text, 'rest' FROM generate_series(23, 27) g;\n" +
      "BEGIN; LOCK TABLE wsp_outbox IN ACCESS EXCLUSIVE MODE; SELECT 'locked';\n");
    await waitFor(() => out.includes('locked'), 10000, `the lock (psql: ${out})`);
    await waitFor(() => lockFails() > before, 15000, 'a replay that failed on its lock timeout');
    assert.equal(todos(c).length, 2, 'nothing replayed while the outbox is locked');
  } finally {
    s.pg.psql('ALTER ROLE CURRENT_USER RESET lock_timeout');
    psql.stdin.write("COMMIT; SELECT 'released';\n");
    psql.stdin.end();
  }
  await waitFor(() => todos(c).length >= 7, 20000, () => `the five rows committed while cut off (have ${todos(c)})`);
  insert([28, 29]);
  await waitFor(() => todos(c).length >= 9, 10000, 'the live rows after');
  await sleep(300);
  assert.deepEqual(todos(c), [21, 22, 23, 24, 25, 26, 27, 28, 29], 'every row, in order, once');
  assert.ok(count(/connection lost: restarting: the outbox replay failed: (ERROR: +)?canceling statement due to lock timeout/g) >= 1,
    'the restart logged with its reason');
  c.close();
});

test('outbox rows ride in their NOTIFY (no SELECT per row); rows too big for it are fetched; mixed, in order, once', async () => {
  const c = await openWs(`${base}/api/1/ws/hello-todo`);
  await c.next((m) => m.data?.type === 'connected');
  const scans = () => Number(s.pg.psql("SELECT pg_stat_clear_snapshot(); SELECT idx_scan + seq_scan FROM pg_stat_user_tables WHERE relname = 'wsp_outbox'").trim().split('\n').pop());
  // The daemon's backend reports its table statistics at most once a second,
  // after its next statement (stats_interval = 1 gives it one).
  await sleep(2500);
  const before = scans();
  for (let n = 200; n < 210; n++) insert([n, n]);   // ten commits, ten NOTIFYs
  await waitFor(() => todos(c).filter((n) => n >= 200).length === 10, 5000, 'ten small rows');
  await sleep(2500);
  assert.ok(scans() - before <= 1, `the daemon read the outbox ${scans() - before} times for ten rows its NOTIFYs carried`);
  // Small, big (over NOTIFY's 8000 bytes: fetched by id), small, in one transaction and in three.
  const big = (n) => `INSERT INTO wsp_outbox (namespace, payload, username) VALUES ('/api/1/ws/hello-todo', json_build_object('type','todo','n',${n},'pad',repeat('x', 9000))::text, 'rest');`;
  const small = (n) => `INSERT INTO wsp_outbox (namespace, payload, username) VALUES ('/api/1/ws/hello-todo', json_build_object('type','todo','n',${n})::text, 'rest');`;
  s.pg.psql(`BEGIN; ${small(300)} ${big(301)} ${small(302)} COMMIT;`);
  s.pg.psql(small(303));
  s.pg.psql(big(304));
  s.pg.psql(small(305));
  await waitFor(() => todos(c).filter((n) => n >= 300).length >= 6, 5000, 'six mixed rows');
  await sleep(300);
  assert.deepEqual(todos(c).filter((n) => n >= 200), [200, 201, 202, 203, 204, 205, 206, 207, 208, 209, 300, 301, 302, 303, 304, 305]);
  c.close();
});

test('a PostgreSQL restart mid-stream: the daemon reconnects, re-LISTENs and catches up', async () => {
  const c = await openWs(`${base}/api/1/ws/hello-todo`);
  await c.next((m) => m.data?.type === 'connected');
  insert([100, 102]);
  await waitFor(() => todos(c).length === 3, 5000, 'before the restart');
  const before = s.log('wspulsed.log').split('again').length;
  s.pg.stopServer();
  // While the database is gone the daemon keeps serving sockets.
  const e = await openWs(`${base}/api/1/ws/hello-emoji`);
  e.sendJson({ type: 'cursor-move', x: 1, y: 1 });
  await e.next((m) => m.data?.type === 'cursor');
  e.close();
  s.pg.start();
  insert([103, 105]);  // probably before the daemon is back: replayed
  await waitFor(() => s.log('wspulsed.log').split('again').length > before, 15000, 'reconnect');
  insert([106, 107]);  // after: by NOTIFY
  await waitFor(() => todos(c).length >= 8, 10000, 'all eight');
  await sleep(300);
  assert.deepEqual(todos(c), [100, 101, 102, 103, 104, 105, 106, 107]);
  c.close();
});

test('two daemons on one database: module broadcasts reach both, exactly once, both ways (small: NOTIFY; large: outbox)', async () => {
  const dir = tmpdir();
  const port = await freePort();
  const conf = writeConfig(dir, { ...s.settings, listen: `127.0.0.1:${port}`, database: s.pg.conninfo });
  const b = start(bin.daemon, ['-c', conf], { log: path.join(dir, 'b.log') });
  try {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/health`)).ok, 10000, 'daemon b');
    const urlA = `${base}/api/1/ws/test-module`, urlB = `ws://127.0.0.1:${port}/api/1/ws/test-module`;
    const a1 = await openWs(urlA), a2 = await openWs(urlA), b1 = await openWs(urlB);
    for (const x of [a1, a2, b1]) await x.next((m) => m.data?.type === 'connected');
    // "connected to PostgreSQL" comes before b's LISTENs are answered, and a
    // NOTIFY-only broadcast sent before that is not b's (ARCHITECTURE.md);
    // "listening for broadcasts" comes after the last one: from then on one
    // broadcast from a reaches b, the first time (seq 0, left out of the
    // count below).
    await waitFor(() => /listening for broadcasts/.test(readLog(path.join(dir, 'b.log'))), 5000, 'b listening');
    a1.sendJson({ type: 'echo', seq: 0 });
    await b1.next((m) => m.data?.type === 'echo' && m.data.seq === 0, 5000);
    a1.sendJson({ type: 'echo', seq: 1 });
    b1.sendJson({ type: 'echo', seq: 2 });
    a1.sendJson({ type: 'big', seq: 3, size: 20000 });   // over the 8000-byte NOTIFY limit
    b1.sendJson({ type: 'big', seq: 4, size: 20000 });
    const seqs = (x) => x.messages.filter((m) => (m.data?.type === 'echo' || m.data?.type === 'big') && m.data.seq > 0).map((m) => m.data.seq).sort();
    for (const x of [a1, a2, b1]) await waitFor(() => seqs(x).length >= 4, 10000, 'four broadcasts');
    await sleep(500);
    for (const x of [a1, a2, b1]) assert.deepEqual(seqs(x), [1, 2, 3, 4]);
    // A REST row is delivered by both daemons, once each.
    s.pg.psql(`INSERT INTO wsp_outbox (namespace, payload) VALUES ('/api/1/ws/test-module', '{"type":"rest","seq":5}')`);
    for (const x of [a1, b1]) await x.next((m) => m.data?.type === 'rest');
    await sleep(300);
    for (const x of [a1, b1]) assert.equal(x.messages.filter((m) => m.data?.type === 'rest').length, 0);
    // Both daemons write snapshot rows; the status push sums them.
    await waitFor(() => Number(s.pg.psql('SELECT count(*) FROM wsp_daemon_stats WHERE updated_at > now() - interval \'3 seconds\'')) === 2, 5000, 'two snapshot rows');
    for (const x of [a1, a2, b1]) x.close();
  } finally {
    await stop(b);
  }
});

test('a database that is down at start-up: the daemon starts, serves, and catches up when it comes', async () => {
  s.pg.stopServer();
  const dir = tmpdir();
  const port = await freePort();
  const conf = writeConfig(dir, { ...s.settings, listen: `127.0.0.1:${port}`, database: s.pg.conninfo });
  const d = start(bin.daemon, ['-c', conf], { log: path.join(dir, 'd.log') });
  try {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/health`)).ok, 10000, 'daemon without a database');
    const e = await openWs(`ws://127.0.0.1:${port}/api/1/ws/hello-emoji`);
    e.sendJson({ type: 'emoji-select', emoji: '🎉' });
    await e.next((m) => m.data?.type === 'user-emoji');
    const t = await openWs(`ws://127.0.0.1:${port}/api/1/ws/hello-todo`);
    await t.next((m) => m.data?.type === 'connected');
    s.pg.start();
    insert([200, 201]);   // committed after the daemon started: caught up
    await waitFor(() => todos(t).length === 2, 15000, 'caught up');
    assert.deepEqual(todos(t), [200, 201]);
    assert.match(fs.readFileSync(path.join(dir, 'd.log'), 'utf8'), /PostgreSQL unavailable/);
    e.close(); t.close();
  } finally {
    await stop(d);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
