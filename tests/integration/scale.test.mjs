// scale.test.mjs - several wspulsed on one PostgreSQL (issue 6): daemon A (one
// process) and daemon B (`workers = 2`: a supervisor and two workers on one
// port).  Cross-daemon broadcasts both ways, sendToClient across daemons,
// exactly-once delivery across a PostgreSQL restart in the middle of a
// publish run, an out-of-order commit, ?since= catch-up, and a rolling
// restart of B's workers under load.  Counts are printed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import nodeHttp from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { startPostgres, openWs, sleep, waitFor, builddir, bin, start, stop, freePort, tmpdir, writeConfig, run, addUser, mintSession, startStack, http } from './lib/stack.mjs';

const testModule = path.join(builddir, 'tests/modules/.libs/test-module.so');
let pg, dir, A, B;

async function startDaemon(name, extra = {}) {
  const port = await freePort();
  const d = { name, port, dir: path.join(dir, name), url: `ws://127.0.0.1:${port}` };
  fs.mkdirSync(d.dir);
  const secret = path.join(dir, 'secret');
  if (!fs.existsSync(secret)) run(bin.admin, ['gen-secret', secret]);
  d.settings = {
    database: pg.conninfo, secret_file: secret, listen: `127.0.0.1:${port}`, log_level: 'debug',
    modules: testModule, stats_interval: 1, daemon_id: name, ...extra,
  };
  d.config = writeConfig(d.dir, d.settings);
  d.logFile = path.join(d.dir, 'wspulsed.log');
  d.log = () => { try { return fs.readFileSync(d.logFile, 'utf8'); } catch { return ''; } };
  d.proc = start(bin.daemon, ['-c', d.config], { log: d.logFile });
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/health`)).ok, 10000, `${name} /health`);
  return d;
}

const live = (ids) => Number(pg.psql(`SELECT count(*) FROM wsp_daemon_stats WHERE daemon_id IN (${ids.map((i) => `'${i}'`).join(',')}) AND updated_at > now() - interval '3 seconds'`));

before(async () => {
  pg = await startPostgres();
  dir = tmpdir('wsp-scale-');
  A = await startDaemon('A');
  B = await startDaemon('B', { workers: 2 });
  // Every worker is on the bus (its stats row is fresh).
  await waitFor(() => live(['A', 'B/w1', 'B/w2']) === 3, 15000, 'three fresh stats rows');
});

after(async () => {
  await Promise.all([A, B].map((d) => d && stop(d.proc, 'SIGTERM', 8000)));
  await pg?.stop();
  if (!process.env.WSPULSE_KEEP) fs.rmSync(dir, { recursive: true, force: true });
});

/** n clients on a daemon's namespace, each past its welcome. */
async function clients(d, ns, n, query = '') {
  const out = [];
  for (let i = 0; i < n; i++) {
    const c = await openWs(`${d.url}/api/1/ws/${ns}${query}`);
    c.welcome = await c.next((m) => m.data?.type === 'connected');
    c.clientId = c.welcome.data.clientId;
    out.push(c);
  }
  return out;
}

const of = (ws, type) => ws.messages.filter((m) => m.data?.type === type);

/** A psql session held open: q(sql) resolves with its output, rejects when
 * psql exits (the server went away). */
function psqlSession() {
  const p = spawn('psql', [pg.conninfo, '-qtAX', '-v', 'ON_ERROR_STOP=1'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let buf = '', waiter = null, dead = false;
  p.stdout.setEncoding('utf8');
  p.stdout.on('data', (d) => {
    buf += d;
    const i = buf.indexOf('__done__\n');
    if (i >= 0 && waiter) { const out = buf.slice(0, i).trim(); buf = buf.slice(i + 9); const w = waiter; waiter = null; w.resolve(out); }
  });
  p.stdin.on('error', () => {});
  p.on('exit', () => { dead = true; if (waiter) { const w = waiter; waiter = null; w.reject(new Error('psql exited')); } });
  return {
    q: (sql) => new Promise((resolve, reject) => {
      if (dead) return reject(new Error('psql exited'));
      waiter = { resolve, reject };
      p.stdin.write(`${sql}\n\\echo __done__\n`);
    }),
    end: () => { if (dead) return Promise.resolve(); p.stdin.end(); return new Promise((r) => p.on('exit', r)); },
  };
}

/** Publish outbox rows (one transaction each) as fast as one psql session
 * goes, reconnecting when the server goes away, until stop() is called.
 * Resolves {attempts, failed}. */
function publisher(ns, type, pauseMs = 0) {
  let stopped = false, attempts = 0, failed = 0;
  const done = (async () => {
    let sess = psqlSession();
    while (!stopped) {
      attempts++;
      try {
        await sess.q(`INSERT INTO wsp_outbox (namespace, payload) VALUES ('${ns}', '{"type":"${type}","n":${attempts}}');`);
      } catch {
        failed++;
        await sleep(50);
        sess = psqlSession();
      }
      if (pauseMs) await sleep(pauseMs);
    }
    await sess.end();
    return { attempts, failed };
  })();
  return { stop: () => { stopped = true; return done; } };
}

test('workers = 2: one port, two worker processes with their own ids and stats rows; getStats lists every worker and sums them', async () => {
  // Sequential connections, each landing on whichever worker accepts first
  // (not a fair coin: one worker can win many in a row): 24, then six more
  // at a time until both workers hold some.
  const cs = await clients(B, 'test-module', 24);
  const rows = () => JSON.parse(pg.psql(`SELECT json_agg(json_build_object('id', daemon_id, 'pid', pid, 'stats', stats) ORDER BY daemon_id) FROM wsp_daemon_stats WHERE daemon_id LIKE 'B/%'`));
  const count = (r) => r.stats.namespaces.find((n) => n.path === '/api/1/ws/test-module')?.clientCount || 0;
  let r;
  for (;;) {
    await waitFor(() => { r = rows(); return r.reduce((a, x) => a + count(x), 0) === cs.length; }, 5000, `${cs.length} clients in the rows`);
    if (r.length === 2 && r.every((x) => count(x) > 0)) break;
    assert.ok(cs.length < 120, `${cs.length} connections spread over both workers (${JSON.stringify(r.map((x) => [x.id, count(x)]))})`);
    cs.push(...await clients(B, 'test-module', 6));
  }
  const N = cs.length;
  assert.deepEqual(r.map((x) => x.id), ['B/w1', 'B/w2']);
  assert.notEqual(r[0].pid, r[1].pid);
  assert.notEqual(r[0].pid, B.proc.pid, 'workers are not the supervisor');
  for (const x of r) assert.equal(x.stats.workers, 2);
  console.log(`# clients per worker: ${r.map((x) => `${x.id}=${count(x)}`).join(' ')}`);
  assert.ok(r.every((x) => count(x) > 0), 'the kernel spread connections over both workers');
  // getStats() (the admin status push, here from daemon A) lists every
  // daemon row -- A and both workers of B -- and sums their clients.
  addUser(pg, 'root1', 'root-pass-123', ['admin']);
  const sess = mintSession({ config: A.config }, 'root1');
  const st = await openWs(`${A.url}/api/1/ws/jpulse-ws-status`, { headers: { Cookie: sess.cookie } });
  const upd = await waitFor(async () => {
    const m = await st.next((x) => x.data?.type === 'stats-update', 5000);
    const tm = m.data.data.namespaces.find((n) => n.path === '/api/1/ws/test-module');
    return m.data.data.daemons.length === 3 && tm?.clientCount === N && m;
  }, 10000, 'a summed stats-update');
  const ds = upd.data.data.daemons;
  assert.deepEqual(ds.map((d) => d.id).sort(), ['A', 'B/w1', 'B/w2']);
  assert.deepEqual(ds.map((d) => d.workers).sort(), [1, 2, 2]);
  assert.ok(ds.every((d) => d.up === true));
  st.close();
  for (const c of cs) c.close();
});

test('cross-daemon: module and REST broadcasts reach every subscriber on every daemon and worker exactly once, in order', async () => {
  const a = await clients(A, 'test-module', 2), b = await clients(B, 'test-module', 4);
  const all = [...a, ...b];
  const seqs = (c) => c.messages.filter((m) => ['echo', 'big', 'rest'].includes(m.data?.type)).map((m) => m.data.seq);
  a[0].sendJson({ type: 'echo', seq: 1 });
  await waitFor(() => all.every((c) => seqs(c).includes(1)), 5000, 'echo 1 everywhere');
  b[0].sendJson({ type: 'echo', seq: 2 });
  await waitFor(() => all.every((c) => seqs(c).includes(2)), 5000, 'echo 2 everywhere');
  b[1].sendJson({ type: 'big', seq: 3, size: 20000 });   // through the outbox (over NOTIFY's 8000 bytes)
  await waitFor(() => all.every((c) => seqs(c).includes(3)), 5000, 'big 3 everywhere');
  // Twenty REST rows, one transaction (and one NOTIFY) each.
  const sess = psqlSession();
  for (let i = 4; i <= 23; i++)
    await sess.q(`INSERT INTO wsp_outbox (namespace, payload) VALUES ('/api/1/ws/test-module', '{"type":"rest","seq":${i}}');`);
  await sess.end();
  for (const c of all) await waitFor(() => seqs(c).length >= 23, 10000, 'every broadcast');
  await sleep(500);
  for (const c of all)
    assert.deepEqual(seqs(c), Array.from({ length: 23 }, (_, i) => i + 1), 'each once, REST rows in publish order');
  console.log(`# cross-daemon: ${all.length} subscribers (2 on A, 4 on B's workers) each got 23 of 23 broadcasts`);
  // sendToClient reaches a client on another daemon (and only it).
  const target = b[3];
  a[1].sendJson({ type: 'to-client', target: target.clientId, seq: 77 });
  const p = await target.next((m) => m.data?.type === 'private');
  assert.equal(p.data.seq, 77);
  await sleep(300);
  for (const c of all) if (c !== target) assert.equal(of(c, 'private').length, 0);
  assert.equal(of(target, 'private').length, 0);
  for (const c of all) c.close();
});

test('a PostgreSQL restart in the middle of a publish run: every committed broadcast delivered once, in order', async () => {
  const subs = [...await clients(A, 'hello-todo', 2), ...await clients(B, 'hello-todo', 4)];
  const pub = publisher('/api/1/ws/hello-todo', 'run', 5);
  await sleep(1000);
  pg.stopServer();          // fast shutdown: every session is cut
  await sleep(500);
  pg.start();
  await sleep(1500);
  const { failed } = await pub.stop();
  const committed = pg.psql(`SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '') FROM wsp_outbox WHERE namespace = '/api/1/ws/hello-todo' AND payload LIKE '{"type":"run"%'`).split(',').filter(Boolean).map(Number);
  const ids = (c) => of(c, 'run').map((m) => m.id);
  for (const c of subs) await waitFor(() => ids(c).length >= committed.length, 20000, `all ${committed.length} committed broadcasts`);
  await sleep(500);
  for (const [i, c] of subs.entries()) {
    const got = ids(c);
    console.log(`# pg restart: subscriber ${i} (${i < 2 ? 'A' : 'B'}): delivered ${got.length}, committed ${committed.length}, publishes refused while down ${failed}`);
    assert.deepEqual(got, committed, 'delivered == committed, each once, in id order');
  }
  assert.ok(failed > 0, 'the restart really happened during the run');
  for (const c of subs) c.close();
});

test('out-of-order commit: a smaller id committing after a larger one is delivered too, once', async () => {
  const subs = [...await clients(A, 'hello-todo', 1), ...await clients(B, 'hello-todo', 2)];
  const ta = psqlSession(), tb = psqlSession();
  await ta.q('BEGIN;');
  const idA = Number(await ta.q(`INSERT INTO wsp_outbox (namespace, payload) VALUES ('/api/1/ws/hello-todo', '{"type":"ooo","t":"A"}') RETURNING id;`));
  await tb.q('BEGIN;');
  const idB = Number(await tb.q(`INSERT INTO wsp_outbox (namespace, payload) VALUES ('/api/1/ws/hello-todo', '{"type":"ooo","t":"B"}') RETURNING id;`));
  assert.ok(idA < idB);
  await tb.q('COMMIT;');
  for (const c of subs) await c.next((m) => m.data?.t === 'B');
  await sleep(300);           // B delivered; the cursor has seen a hole at idA
  await ta.q('COMMIT;');
  for (const c of subs) await c.next((m) => m.data?.t === 'A');
  await Promise.all([ta.end(), tb.end()]);
  await sleep(500);
  for (const c of subs) assert.equal(of(c, 'ooo').length, 0, 'each delivered once');
  console.log(`# out-of-order: id ${idB} committed first, then id ${idA}; both delivered once to ${subs.length} subscribers`);
  for (const c of subs) c.close();
});

test('?since=: a reconnecting client gets what it missed (its namespace, public rows only: never one addressed to a clientId), in order, no duplicates; bad values are ignored', async () => {
  const sess = psqlSession();
  const ins = (n, extra = '') => sess.q(`INSERT INTO wsp_outbox (namespace, payload${extra ? ', client_id' : ''}) VALUES ('/api/1/ws/hello-todo', '{"type":"cu","n":${n}}'${extra ? `, '${extra}'` : ''});`);
  const [c] = await clients(A, 'hello-todo', 1);
  const uuid = c.clientId;
  await ins(1);
  const first = await c.next((m) => m.data?.type === 'cu');
  c.close();
  await c.closed;
  // Missed while away: public rows, one for this client, one for another
  // client, one in another namespace.
  await ins(2); await ins(3, uuid); await ins(4, '11111111-2222-4333-8444-555555555555'); await ins(5);
  await sess.q(`INSERT INTO wsp_outbox (namespace, payload) VALUES ('/api/1/ws/test-module', '{"type":"cu","n":99}');`);
  // (Let B deliver them live to nobody first: a row addressed to a clientId
  // is delivered live to whoever holds it then, but never replayed.)
  await sleep(500);
  // Reconnect through the other daemon, while live rows keep coming.
  const live = (async () => { for (let i = 6; i <= 25; i++) await ins(i); await sess.end(); })();
  const [r] = await clients(B, 'hello-todo', 1, `?uuid=${uuid}&since=${first.id}`);
  await live;
  await waitFor(() => of(r, 'cu').length >= 22, 10000, 'caught up and live');
  await sleep(300);
  const got = of(r, 'cu');
  assert.deepEqual(got.map((m) => m.data.n), [2, 5, ...Array.from({ length: 20 }, (_, i) => i + 6)]);
  const ids = got.map((m) => m.id);
  assert.deepEqual(ids, [...ids].sort((x, y) => x - y), 'in id order');
  console.log(`# since=${first.id}: replayed 2 missed public rows, then 20 live ones, none twice`);
  r.close();
  // Bad since values: accepted connection, no replay, no crash.
  const bads = [];
  for (const bad of ['abc', '-5', '1e5', '99999999999999999999999', '', '0x10'])
    bads.push(...await clients(A, 'hello-todo', 1, `?since=${encodeURIComponent(bad)}`));
  await sleep(200);
  for (const x of bads) { assert.equal(of(x, 'cu').length, 0); x.close(); }
  // A namespace without history ignores since.
  const [y] = await clients(A, 'test-module', 1, '?since=0');
  await sleep(200);
  assert.equal(of(y, 'cu').length, 0);
  y.close();
});

test('three daemons behind one nginx upstream (the WSPULSE_DAEMONS demo wiring): pages on different daemons share cursors and todos', async () => {
  const s = await startStack({ pg, config: { stats_interval: 1, daemon_id: 'C' }, upstreams: [`127.0.0.1:${A.port}`, `127.0.0.1:${B.port}`] });
  try {
    const url = `${s.wsUrl}/api/1/ws/hello-emoji`;
    const pages = [];
    for (let i = 0; i < 3; i++) {
      const e = await openWs(url);
      await e.next((m) => m.data?.type === 'connected');
      pages.push(e);
    }
    // nginx's round-robin put them on three different daemons.
    const per = () => JSON.parse(pg.psql(`SELECT json_object_agg(daemon_id, (SELECT coalesce(max((n->>'clientCount')::int), 0) FROM jsonb_array_elements(stats->'namespaces') n WHERE n->>'path' = '/api/1/ws/hello-emoji')) FROM wsp_daemon_stats WHERE updated_at > now() - interval '3 seconds'`));
    const spread = await waitFor(() => { const p = per(); return p.C >= 1 && p.A >= 1 && (p['B/w1'] || 0) + (p['B/w2'] || 0) >= 1 && p; }, 8000, 'one page per daemon');
    console.log(`# hello-emoji clients per daemon behind nginx: ${JSON.stringify(spread)}`);
    pages[0].sendJson({ type: 'cursor-move', emoji: '🚀', x: 5, y: 6 });
    for (const p of pages.slice(1)) assert.equal((await p.next((m) => m.data?.type === 'cursor')).data.x, 5);
    // A todo through the REST API (nginx -> wspulse.fcgi) reaches every page once.
    const todos = [];
    for (let i = 0; i < 3; i++) {
      const t = await openWs(`${s.wsUrl}/api/1/ws/hello-todo`);
      await t.next((m) => m.data?.type === 'connected');
      todos.push(t);
    }
    const r = await http(s.url, 'POST', '/api/1/helloTodo', { body: { title: 'shared across daemons' } });
    assert.equal(r.status, 200, r.text);
    for (const t of todos) assert.equal((await t.next((m) => m.data?.type === 'todo-created')).data.todo.title, 'shared across daemons');
    await sleep(300);
    for (const t of todos) assert.equal(of(t, 'todo-created').length, 0, 'once');
    for (const c of [...pages, ...todos]) c.close();
  } finally {
    await s.stop();
  }
});

test('rolling restart of B (SIGUSR2) under load: clients get 1012, reconnect, and no REST broadcast is lost', async () => {
  const url = `${B.url}/api/1/ws/hello-todo`;
  const N = 6;
  // A client that reconnects like jPulse.ws: ?since=<last id> after a jittered
  // delay (jPulse.ws waits 5 s +-20 % before its first attempt; 0.1-0.5 s here
  // keeps the test short -- what matters is that the first attempt succeeds).
  const mk = async () => {
    const c = { got: [], codes: [], ws: null };
    const connect = async () => {
      const last = c.got.length ? c.got[c.got.length - 1] : null;
      const ws = await openWs(url + (last ? `?since=${last}` : ''));
      c.ws = ws;
      ws.addEventListener('message', (ev) => {
        const m = JSON.parse(ev.data);
        if (m.data?.type === 'roll') { c.got.push(m.id); (c.trace ||= []).push(`${m.id}@${c.codes.length}${last ? 's' + last : ''}`); }
      });
      ws.closed.then(async ({ code }) => {
        if (c.done) return;
        c.codes.push(code);
        await sleep(100 + Math.random() * 400);
        for (let i = 0; i < 50 && !c.done; i++) { c.attempts = (c.attempts || 0) + 1; try { await connect(); return; } catch { await sleep(200); } }
      });
      await ws.next((m) => m.data?.type === 'connected');
    };
    await connect();
    return c;
  };
  const cs = [];
  for (let i = 0; i < N; i++) cs.push(await mk());
  const pidsBefore = pg.psql(`SELECT string_agg(pid::text, ',' ORDER BY daemon_id) FROM wsp_daemon_stats WHERE daemon_id LIKE 'B/%'`);
  const pub = publisher('/api/1/ws/hello-todo', 'roll', 2);
  await sleep(500);
  const t0 = Date.now();
  B.proc.kill('SIGUSR2');
  await waitFor(() => /rolling restart done/.test(B.log()), 30000, 'rolling restart done');
  const took = Date.now() - t0;
  await sleep(800);
  await pub.stop();
  const committed = pg.psql(`SELECT string_agg(id::text, ',' ORDER BY id) FROM wsp_outbox WHERE payload LIKE '{"type":"roll"%'`).split(',').map(Number);
  for (const c of cs) await waitFor(() => c.got.length >= committed.length, 15000, 'every committed broadcast');
  await sleep(300);
  for (const c of cs) c.done = true;
  await waitFor(() => live(['B/w1', 'B/w2']) === 2, 10000, 'new workers write stats');
  const pidsAfter = pg.psql(`SELECT string_agg(pid::text, ',' ORDER BY daemon_id) FROM wsp_daemon_stats WHERE daemon_id LIKE 'B/%'`);
  for (const [i, c] of cs.entries()) {
    console.log(`# rolling restart: client ${i}: delivered ${c.got.length}, committed ${committed.length}, close codes [${c.codes}]`);
    if (new Set(c.got).size !== c.got.length) {
      const dup = c.got.find((x, j) => c.got.indexOf(x) !== j);
      const j = c.trace.findIndex((t) => t.startsWith(dup + '@'));
      console.log(`# duplicate ${dup}: ${c.trace.slice(Math.max(0, j - 3), j + 8).join(' ')}`);
    }
    assert.deepEqual(c.got, committed, 'delivered == committed, once each, in order');
    assert.ok(c.codes.length >= 1 && c.codes.every((x) => x === 1012), `closed with 1012: ${c.codes}`);
    assert.equal(c.ws.readyState, WebSocket.OPEN, 'connected again');
    assert.equal(c.attempts, c.codes.length, 'every reconnect succeeded at its first attempt (the first step of the backoff schedule)');
  }
  assert.notEqual(pidsAfter, pidsBefore, 'new worker processes');
  console.log(`# rolling restart took ${took} ms; worker pids ${pidsBefore} -> ${pidsAfter}`);
  for (const c of cs) c.ws.close();
});

test('a crashed worker is restarted; SIGTERM stops the supervisor and every worker (1001)', async () => {
  const pids = () => pg.psql(`SELECT string_agg(pid::text, ',' ORDER BY daemon_id) FROM wsp_daemon_stats WHERE daemon_id LIKE 'B/%' AND updated_at > now() - interval '2 seconds'`);
  const before = pids().split(',').map(Number);
  process.kill(before[0], 'SIGKILL');
  await waitFor(() => /worker 1 \(pid \d+\) killed by signal 9/.test(B.log()), 5000, 'supervisor saw the crash');
  await waitFor(() => { const p = pids(); return p && p.split(',').length === 2 && !p.split(',').map(Number).includes(before[0]); }, 15000, 'worker 1 back');
  const cs = await clients(B, 'hello-todo', 4);
  const t0 = Date.now();
  const { code } = await stop(B.proc, 'SIGTERM', 8000);
  const codes = await Promise.all(cs.map((c) => c.closed));
  assert.equal(code, 0);
  assert.deepEqual(codes.map((c) => c.code), [1001, 1001, 1001, 1001]);
  assert.ok(Date.now() - t0 < 5000);
  assert.match(B.log(), /all workers stopped/);
});

test('workers on a unix socket share it; SIGHUP to the supervisor reopens every log', async () => {
  const dirE = path.join(dir, 'E');
  fs.mkdirSync(dirE);
  const sock = path.join(dirE, 'e.sock'), logFile = path.join(dirE, 'e.log');
  const conf = writeConfig(dirE, { database: pg.conninfo, secret_file: path.join(dir, 'secret'), listen: `unix:${sock}`, workers: 2, daemon_id: 'E', stats_interval: 1, log_file: logFile, log_level: 'debug' });
  const e = start(bin.daemon, ['-c', conf], { log: path.join(dirE, 'stderr.log') });
  const log = () => { try { return fs.readFileSync(logFile, 'utf8'); } catch { return ''; } };
  const socks = new Set();
  let relay;
  try {
    await waitFor(() => live(['E/w1', 'E/w2']) === 2, 15000, 'both workers on the bus');
    const health = () => new Promise((resolve, reject) => {
      nodeHttp.get({ socketPath: sock, path: '/health', agent: false }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); }).on('error', reject);
    });
    for (let i = 0; i < 4; i++) assert.equal(await health(), 200);
    // WebSockets through a tiny TCP relay to the socket land on both workers.
    relay = net.createServer((c) => { const u = net.connect(sock); socks.add(c).add(u); c.pipe(u); u.pipe(c); c.on('error', () => {}); u.on('error', () => {}); });
    await new Promise((r) => relay.listen(0, '127.0.0.1', r));
    // Which worker accepts is the kernel's choice; on a loaded machine (distcheck in CI) one
    // worker once took all 24, so 24 more at a time until both have accepted some.
    const cs = [];
    const accepted = () => new Set([...log().matchAll(/wspulsed\[(\d+)\] DEBUG \[\/api\/1\/ws\/hello-todo\] client \S+ connected/g)].map((m) => m[1]));
    let pids = new Set();
    for (let round = 0; round < 4 && pids.size < 2; round++) {
      cs.push(...await clients({ url: `ws://127.0.0.1:${relay.address().port}` }, 'hello-todo', 24));
      await sleep(200);   // the connect lines written
      pids = accepted();
    }
    pg.psql(`INSERT INTO wsp_outbox (namespace, payload) VALUES ('/api/1/ws/hello-todo', '{"type":"unix"}')`);
    for (const c of cs) await c.next((m) => m.data?.type === 'unix');
    pids = accepted();
    console.log(`# unix socket: ${cs.length} clients on ${pids.size} worker process(es)`);
    assert.equal(pids.size, 2, 'both workers accepted from the one unix socket');
    // SIGHUP: supervisor and both workers reopen the log file.
    fs.renameSync(logFile, logFile + '.1');
    e.kill('SIGHUP');
    await waitFor(() => (log().match(/log reopened/g) || []).length >= 3, 5000, 'three reopened logs');
    for (const c of cs) c.close();
  } finally {
    relay?.close();
    for (const x of socks) x.destroy();
    const { code } = await stop(e, 'SIGTERM', 8000);
    assert.equal(code, 0);
    assert.ok(!fs.existsSync(sock), 'the supervisor removed its socket');
  }
});

test('pruning: rows older than history_retention go; one daemon prunes at a time (advisory lock)', async () => {
  const D = await startDaemon('D', { history_retention: 10, modules: null });   // prunes every 2 s
  try {
    const old = (tag) => pg.psql(`INSERT INTO wsp_outbox (namespace, payload, created_at) VALUES ('/api/1/ws/hello-todo', '{"type":"${tag}"}', now() - interval '1 hour') RETURNING id`);
    const left = (id) => Number(pg.psql(`SELECT count(*) FROM wsp_outbox WHERE id = ${id}`));
    // Another pruner holds the lock: D skips instead of waiting or deleting twice.
    const holder = psqlSession();
    await holder.q('BEGIN;');
    await holder.q('SELECT pg_advisory_xact_lock(7735940411);');
    const a = old('prune-a');
    await sleep(3000);            // at least one of D's pruning rounds (every 2 s)
    assert.equal(left(a), 1, 'not pruned while another daemon holds the pruning lock');
    await holder.q('COMMIT;');
    await holder.end();
    await waitFor(() => left(a) === 0, 6000, 'pruned once the lock is free');
    const fresh = pg.psql(`INSERT INTO wsp_outbox (namespace, payload) VALUES ('/api/1/ws/hello-todo', '{"type":"prune-fresh"}') RETURNING id`);
    assert.equal(left(fresh), 1, 'a fresh row stays');
  } finally {
    await stop(D.proc, 'SIGTERM', 8000);
  }
});
