// burst.test.mjs - a burst of outbox rows larger than a client's send queue
// loses nothing for a client that reads.
//
// The relay hands a namespace's clients what one fetch brought at once: the
// ids NOTIFYd while a fetch was in flight (one big transaction), a 500-row
// replay page after a reconnect.  More of it than a send queue holds (1 MiB
// here) used to close every client of the namespace 1008, "the daemon is
// behind", readers that did nothing wrong included.  Such a client now gets
// the rest at its socket's pace: from the namespace's backlog in memory (the
// default; the 'memory' cases at the end), or from the outbox in catch-up
// pages (history.c, "A full queue"; the other stacks turn the backlog off,
// and a client left behind by the backlog's bounds goes there too): every
// row, in id order, once, and the socket stays open.
// A peer that stopped reading is still closed 1008 (daemon-ops.test.mjs,
// writepath.test.mjs, metrics.test.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { startStack, waitFor, sleep, slow, builddir, writeConfig } from './lib/stack.mjs';
import { openRaw } from './lib/rawws.mjs';

const MOD = '/api/1/ws/test-module';     // no history: REST rows and the module's broadcasts
const HIST = '/api/1/ws/burst-history';  // history=on
// Every case runs on a lone daemon, on one with two workers, which get
// their notifications from the supervisor's shared reader (reader.h) on
// another connection than their fetches and page queries, and on one that
// speaks TLS (direct mode: what the socket takes is judged below OpenSSL).
const stacks = {};
let s;   // the stack of the running case

before(async () => {
  for (const [kind, workers, tls] of [['lone', 1, false], ['workers', 2, false], ['tls', 1, true], ['memory', 2, false]]) {
    const st = await startStack({
      nginx: false,
      fcgi: false,
      tls,
      config: {
        modules: path.join(builddir, 'tests/modules/.libs/test-module.so'),
        namespace: `${HIST} history=on`,
        stats_interval: 1,
        // Pruning every 12 s, for the test of an old hole below pruned rows.
        history_retention: 60,
        workers,
        send_queue_max_bytes: 1048576,
        send_queue_max_messages: 1024,
        // The outbox pages; 'memory' keeps the default backlog (16 MiB).
        // 'memory' pings rarely: its client that stops reading must not be closed for a
        // pong it cannot read the ping for.
        ...(kind === 'memory' ? { ping_interval: 600 } : { backlog_max_messages: 0 }),
      },
    });
    stacks[kind] = st;
    // application_name lets a test cut exactly the daemon's connections.
    st.settings.database = st.pg.conninfo + ' application_name=wspulsed-burst';
    writeConfig(st.dir, st.settings);
    await st.stopDaemon();
    await st.startDaemon();
  }
});
after(async () => { await Promise.all(Object.values(stacks).map((st) => st.stop())); });

const open = (ns, uuid) => openRaw(s.daemonPort, uuid ? `${ns}?uuid=${uuid}` : ns,
  { timeout: 5000 * slow, tls: s.tls ? { ca: s.tls.ca } : null });
const rows = (c) => c.messages.filter((m) => m.data?.type === 'row');
/** Note every close of c in `closes` until c.end() (a passing test has none). */
function watch(c, name, closes) {
  c.closed.then((x) => { if (!c.ended) closes.push({ name, ...x }); });
  const end = c.end.bind(c);
  c.end = () => { c.ended = true; end(); };
  return c;
}
/** `n` rows of `size` pad bytes into `ns` in ONE statement (one transaction), numbered from `from`;
 * `addressed(g)` may name a client_id for row g.  Without blocking the clients' reading. */
function insertRows(ns, from, n, size, addressed = null) {
  const to = addressed ? `CASE WHEN g % 40 = 0 THEN '${addressed}' END` : 'NULL';
  return s.pg.psqlAsync(`INSERT INTO wsp_outbox (namespace, payload, client_id) SELECT '${ns}', ` +
    `json_build_object('type', 'row', 'n', g, 'pad', repeat('x', ${size}))::text, ${to} ` +
    `FROM generate_series(${from}, ${from + n - 1}) g ORDER BY g RETURNING id`).then((out) => out.split('\n').map(Number));
}
/** The daemon's last lines about catch-ups, the bus and closes: what a
 * timed-out wait reports. */
const lastWords = () => s.log('wspulsed.log').split('\n')
  .filter((l) => /catch|caught|closing|bus|replay|PostgreSQL/.test(l)).slice(-10).join('\n');
const burstLines = () => (s.log('wspulsed.log').match(/would pass its send queue .* it catches up from the outbox/g) || []).length;
/** A psql session kept open, to hold a transaction while the test acts;
 * run(sql, mark) resolves once the output shows `mark`. */
function session() {
  const p = spawn('psql', [s.pg.conninfo, '-qtAX', '-v', 'ON_ERROR_STOP=1'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d) => { out += d; });
  p.stderr.on('data', (d) => { out += d; });
  return {
    async run(sql, mark) {
      const at = out.length;
      p.stdin.write(sql + '\n');
      await waitFor(() => out.slice(at).includes(mark), 20000 * slow, `psql: ${mark} (has: ${out.slice(at)})`);
    },
    end() { p.stdin.end(); },
  };
}
/** Burst catch-ups counted by every worker (a row the first start left counts none); `Pages`: of those, the
 * ones that paged from the outbox. */
const metric = (name) => () => Number(s.pg.psql(`SELECT coalesce(sum((stats->'metrics'->>'${name}')::bigint), 0) FROM wsp_daemon_stats`));
const queueCatchups = metric('replaysQueue'), pageCatchups = metric('replaysQueuePages');
const backlogBytes = metric('backlogBytes');
const memoryLines = () => (s.log('wspulsed.log').match(/would pass its send queue .* it catches up from memory/g) || []).length;
const shedLines = () => (s.log('wspulsed.log').match(/deliveries behind in the namespace's backlog \(its bounds passed\): it catches up from the outbox/g) || []).length;

for (const kind of ['lone', 'workers', 'tls']) {
  test(`${kind}: one transaction of 400 x 8 kB rows (3.2 MB, queue 1 MiB): every reading client gets every row for it, in order, once, and stays open`, async () => {
    s = stacks[kind];
    const closes = [];
    const uuid = '00000000-0000-4000-8000-0000000000a1';
    const a = watch(await open(MOD, uuid), 'a', closes), b = watch(await open(MOD), 'b', closes), c = watch(await open(MOD), 'c', closes);
    const lines = burstLines(), queueBefore = queueCatchups();
    // Every 40th row is for a's clientId only: a catch-up after a burst pages
    // those to a (live delivery would have sent them to this very socket).
    const ids = await insertRows(MOD, 1, 400, 8000, uuid);
    const pub = ids.filter((_, i) => (i + 1) % 40 !== 0);
    await waitFor(() => closes.length || (rows(a).length >= 400 && rows(b).length >= pub.length && rows(c).length >= pub.length),
      60000 * slow, () => `every row (a ${rows(a).length}/400, b ${rows(b).length}/${pub.length}, c ${rows(c).length}/${pub.length}); the daemon's last words:\n${lastWords()}`);
    await sleep(300);   // a doubled row would come now
    assert.deepEqual(closes, [], 'no reading client was closed');
    assert.deepEqual(rows(a).map((m) => m.id), ids, 'a: every row, its own included, in id order, once');
    assert.deepEqual(rows(a).map((m) => m.data.n), ids.map((_, i) => i + 1));
    for (const x of [b, c]) assert.deepEqual(rows(x).map((m) => m.id), pub, 'the public rows, in id order, once');
    // The path taken: the burst passed the queue, the clients caught up.
    assert.ok(burstLines() - lines >= 1, 'the daemon logged a burst catch-up');
    await waitFor(() => queueCatchups() - queueBefore >= 3, 5000 * slow, 'replaysQueue counts the three catch-ups');
    assert.ok(/caught up \d+ messages after a burst in \d+ pages/.test(s.log('wspulsed.log')), 'the end of a catch-up is logged');
    // Afterwards, live delivery as usual.
    const [next] = await insertRows(MOD, 401, 1, 10);
    for (const x of [a, b, c]) await waitFor(() => rows(x).some((m) => m.id === next), 5000 * slow, 'a live row after the catch-up');
    for (const x of [a, b, c]) x.end();
  });

  test(`${kind}: a 500-row replay page after a lost connection (700 x 4 kB rows, history namespace): nothing lost, nothing doubled`, async () => {
    s = stacks[kind];
    const closes = [];
    const a = watch(await open(HIST), 'a', closes), b = watch(await open(HIST), 'b', closes);
    const lines = burstLines();
    // Cut the daemon's connections and commit the rows in the same breath: no
    // NOTIFY reaches the daemon, its replay after the reconnect delivers them
    // in pages of 500 rows (2 MB each).
    const cut = s.log('wspulsed.log').length;
    const [, inserted] = await Promise.all([
      s.pg.psqlAsync(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'wspulsed-burst'`),
      sleep(20).then(() => insertRows(HIST, 1, 700, 4000)),
    ]);
    await waitFor(() => /connected to PostgreSQL again/.test(s.log('wspulsed.log').slice(cut)), 15000 * slow, 'the reconnect');
    const [live] = await insertRows(HIST, 701, 1, 10);
    const ids = [...inserted, live];
    await waitFor(() => closes.length || (rows(a).length >= ids.length && rows(b).length >= ids.length), 60000 * slow,
      () => `every row (a ${rows(a).length}, b ${rows(b).length} of ${ids.length}); the daemon's last words:\n${lastWords()}`);
    await sleep(300);
    assert.deepEqual(closes, [], 'no reading client was closed');
    for (const x of [a, b]) assert.deepEqual(rows(x).map((m) => m.id), ids, 'every row, in id order, once');
    assert.ok(burstLines() - lines >= 1, 'the replay page passed the queue and the clients caught up');
    assert.ok(/replayed outbox up to id/.test(s.log('wspulsed.log').slice(cut)), 'the rows came by the replay');
    a.end(); b.end();
  });

  test(`${kind}: a burst above a hole (an id not committed yet): the rows given before the one that did not fit are not paged again; the late row comes once`, async () => {
    s = stacks[kind];
    const closes = [];
    const a = watch(await open(MOD), 'a', closes), b = watch(await open(MOD), 'b', closes);
    const lines = burstLines();
    // An id taken below the burst and committed after it: the daemon's floor
    // stays below that hole, so a catch-up starts there, and everything the
    // burst gave the client before its queue was full lies above the floor.
    const late = s.pg.psqlAsync(`BEGIN; INSERT INTO wsp_outbox (namespace, payload) VALUES ('${MOD}', ` +
      `'{"type":"row","n":0}') RETURNING id; SELECT pg_sleep(${1.5 * slow}); COMMIT;`).then((out) => Number(out.split('\n')[0]));
    await sleep(300);
    const ids = await insertRows(MOD, 1, 400, 8000);
    const hole = await late;
    assert.ok(hole < ids[0], `the late row's id ${hole} is below the burst's`);
    await waitFor(() => closes.length || (rows(a).length >= 401 && rows(b).length >= 401), 60000 * slow,
      () => `every row (a ${rows(a).length}, b ${rows(b).length} of 401); the daemon's last words:\n${lastWords()}`);
    await sleep(300);
    assert.deepEqual(closes, [], 'no reading client was closed');
    assert.ok(burstLines() - lines >= 1, 'the clients caught up after the burst');
    for (const x of [a, b]) {
      // The late row comes when it commits: after the burst, or between two
      // of its pages when the catch-up is still running (slower builds).
      const got = rows(x).map((m) => m.id);
      assert.deepEqual(got.filter((id) => id !== hole), ids, 'the burst in id order, once');
      assert.equal(got.filter((id) => id === hole).length, 1, 'the late row once');
    }
    a.end(); b.end();
  });

  test(`${kind}: the daemon's own module broadcast (over the NOTIFY limit, delivered at once) is not paged again to a client catching up`, async () => {
    s = stacks[kind];
    const closes = [];
    const a = watch(await open(MOD), 'a', closes), b = watch(await open(MOD), 'b', closes);
    // The burst's transaction locks the outbox against other inserts while b
    // sends a 60 kB broadcast: the module delivers it to a and b at once, and
    // the daemon's INSERT of its outbox row (for other daemons) waits for the
    // lock.  So that row commits after the burst and is fetched behind it,
    // after a's catch-up started: a page would find it unless it skips this
    // daemon's own rows.
    const tx = session();
    await tx.run(`BEGIN; INSERT INTO wsp_outbox (namespace, payload) SELECT '${MOD}', ` +
      `json_build_object('type', 'row', 'n', g, 'pad', repeat('x', 8000))::text FROM generate_series(1, 300) g ORDER BY g; ` +
      `LOCK TABLE wsp_outbox IN SHARE MODE; SELECT 'locked';`, 'locked');
    b.sendJson({ type: 'big', size: 60000, seq: 7 });
    try {
      await waitFor(() => Number(s.pg.psql(`SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' ` +
        `AND query LIKE 'INSERT INTO wsp_outbox%'`)) === 1, 10000 * slow, 'the daemon\'s insert to wait for the lock');
    } finally {
      await tx.run("COMMIT; SELECT 'committed';", 'committed');
      tx.end();
    }
    const bigs = (x) => x.messages.filter((m) => m.data?.type === 'big');
    await waitFor(() => closes.length || (rows(a).length >= 300 && rows(b).length >= 300), 60000 * slow,
      () => `every row (a ${rows(a).length}, b ${rows(b).length} of 300); the daemon's last words:\n${lastWords()}`);
    await sleep(500);
    assert.deepEqual(closes, [], 'no reading client was closed');
    assert.equal(Number(s.pg.psql(`SELECT count(*) FROM wsp_outbox WHERE payload LIKE '{"type":"big"%' OR payload LIKE '{"type": "big"%'`)), 1,
      'the broadcast\'s outbox row committed');
    for (const x of [a, b]) {
      assert.equal(bigs(x).length, 1, 'the broadcast arrived once');
      const seen = rows(x).map((m) => m.data.n);
      assert.deepEqual(seen, [...Array(300)].map((_, i) => i + 1), 'every row, in order, once');
    }
    a.end(); b.end();
  });

  test(`${kind}: an old rolled-back id holds the floor back below pruned rows: a burst catch-up names no history-gap for rows its client had`, async () => {
    s = stacks[kind];
    const closes = [];
    const a = watch(await open(MOD), 'a', closes);
    const gone = () => Number(s.pg.psql(`SELECT coalesce((SELECT upto FROM wsp_outbox_gone WHERE namespace = '${MOD}'), 0)`));
    // A rollback leaves a hole: the daemon's floor stays below it (until
    // 4096 newer ids), so a burst catch-up's cursor starts there.  Rows
    // after the hole reach a live, then age past the retention and are
    // pruned: they are below the cursor the gap check must use.
    s.pg.psql(`BEGIN; INSERT INTO wsp_outbox (namespace, payload) VALUES ('${MOD}', '{"type":"rolled-back"}'); ROLLBACK;`);
    const old = (await s.pg.psqlAsync(`INSERT INTO wsp_outbox (namespace, payload, created_at) SELECT '${MOD}', ` +
      `json_build_object('type', 'row', 'n', -g)::text, now() - interval '2 hours' FROM generate_series(1, 5) g ORDER BY g RETURNING id`))
      .split('\n').map(Number);
    await waitFor(() => old.every((id) => rows(a).some((m) => m.id === id)), 5000 * slow, 'the old rows live');
    await waitFor(() => gone() >= old[4], 30000 * slow, 'pruning to take the old rows');
    const lines = burstLines();
    const ids = await insertRows(MOD, 1, 400, 8000);
    await waitFor(() => closes.length || ids.every((id) => rows(a).some((m) => m.id === id)), 60000 * slow,
      () => `every row (${rows(a).length}); the daemon's last words:\n${lastWords()}`);
    await sleep(300);
    assert.deepEqual(closes, [], 'the client was not closed');
    assert.ok(burstLines() - lines >= 1, 'the burst was paged');
    assert.equal(a.messages.find((m) => m.data?.type === 'history-gap'), undefined, 'no history-gap: nothing it needs was pruned');
    assert.deepEqual(rows(a).map((m) => m.id), [...old, ...ids], 'the old rows live, then the burst, in order, once');
    a.end();
  });
}

// The namespace's backlog: a client a burst leaves behind reads the rest of
// the fan-out's deliveries from memory, kept once for every such client, in
// the order the others got them; no page query.  A client left behind by
// more than the backlog's bounds goes to outbox pages, which skip what the
// backlog gave it.
test('memory: one transaction of 400 x 8 kB rows: the clients left behind catch up from memory, every row for them, in order, once, without a page', async () => {
  s = stacks.memory;
  const closes = [];
  const uuid = '00000000-0000-4000-8000-0000000000b1';
  const a = watch(await open(MOD, uuid), 'a', closes), b = watch(await open(MOD), 'b', closes), c = watch(await open(MOD), 'c', closes);
  const lines = memoryLines(), queueBefore = queueCatchups(), pagesBefore = pageCatchups();
  const ids = await insertRows(MOD, 1, 400, 8000, uuid);
  const pub = ids.filter((_, i) => (i + 1) % 40 !== 0);
  await waitFor(() => closes.length || (rows(a).length >= 400 && rows(b).length >= pub.length && rows(c).length >= pub.length),
    60000 * slow, () => `every row (a ${rows(a).length}/400, b ${rows(b).length}/${pub.length}, c ${rows(c).length}/${pub.length}); the daemon's last words:\n${lastWords()}`);
  await sleep(300);
  assert.deepEqual(closes, [], 'no reading client was closed');
  assert.deepEqual(rows(a).map((m) => m.id), ids, 'a: every row, its own included, in id order, once');
  for (const x of [b, c]) assert.deepEqual(rows(x).map((m) => m.id), pub, 'the public rows, in id order, once');
  assert.ok(memoryLines() - lines >= 1, 'the daemon logged a catch-up from memory');
  assert.ok(/caught up \d+ messages after a burst from memory/.test(s.log('wspulsed.log')), 'its end is logged');
  await waitFor(() => queueCatchups() - queueBefore >= 3, 5000 * slow, 'replaysQueue counts the three catch-ups');
  assert.equal(pageCatchups() - pagesBefore, 0, 'none of them paged from the outbox');
  // Nothing stays kept once every reader caught up.
  await waitFor(() => backlogBytes() === 0, 5000 * slow, () => `the backlogs to be empty (${backlogBytes()} bytes)`);
  // Every floor a client was given is true: it had every id up to it.
  for (const x of [a, b, c]) {
    const got = new Set();
    for (const m of rows(x)) {
      got.add(m.id);
      if (m.floor !== undefined) assert.ok(ids.filter((id) => id <= m.floor && (x === a || pub.includes(id))).every((id) => got.has(id)), `floor ${m.floor} at id ${m.id}`);
    }
  }
  const [next] = await insertRows(MOD, 401, 1, 10);
  for (const x of [a, b, c]) await waitFor(() => rows(x).some((m) => m.id === next), 5000 * slow, 'a live row after the catch-up');
  for (const x of [a, b, c]) assert.equal(rows(x).filter((m) => m.id === next).length, 1);
  for (const x of [a, b, c]) x.end();
});

test('memory: a burst larger than the backlog (1 000-row transactions of 8 kB rows until 16 MiB kept is passed): the clients left behind page from the outbox; every row, in order, once', async () => {
  s = stacks.memory;
  const closes = [];
  const uuid = '00000000-0000-4000-8000-0000000000b2';
  const a = watch(await open(MOD, uuid), 'a', closes), b = watch(await open(MOD), 'b', closes);
  const lines = shedLines(), pagesBefore = pageCatchups();
  // b reads nothing of the burst until the backlog's bounds have sent a client to the outbox: the
  // kernel holds only what a socket that never read takes (its receive buffer grows only as its
  // reader reads: one run whose b read 40 rows first took 3 MB, caught up from memory inside
  // the burst and was closed for not reading).  The fan-out fills b's queue while its socket
  // takes bytes, so b catches up from memory, and stays there: nothing drains the backlog
  // for it.  The burst grows, 1 000 rows (8 MB) at a time, until the bounds are passed.
  b.sock.pause();
  const ids = [];
  for (let n = 0; shedLines() === lines && !closes.length; n++) {
    assert.ok(n < 8, `the backlog's bounds sent no client to the outbox after ${ids.length} rows; ` +
      `the daemon's last words:\n${lastWords()}`);
    ids.push(...await insertRows(MOD, 1 + ids.length, 1000, 8000, uuid));
    await waitFor(() => shedLines() > lines || closes.length || rows(a).length >= ids.length - 1000, 30000 * slow,
      () => `a to read the burst's start (a ${rows(a).length}/${ids.length}); the daemon's last words:\n${lastWords()}`);
  }
  const pub = ids.filter((_, i) => (i + 1) % 40 !== 0);
  b.sock.resume();
  await waitFor(() => closes.length || (rows(a).length >= ids.length && rows(b).length >= pub.length),
    120000 * slow, () => `every row (a ${rows(a).length}/${ids.length}, b ${rows(b).length}/${pub.length}); the daemon's last words:\n${lastWords()}`);
  await sleep(300);
  assert.deepEqual(closes, [], 'no reading client was closed');
  assert.deepEqual(rows(a).map((m) => m.id), ids, 'a: every row, its own included, in id order, once');
  assert.deepEqual(rows(b).map((m) => m.id), pub, 'b: the public rows, in id order, once');
  assert.ok(shedLines() - lines >= 1, 'the backlog\'s bounds sent a client to the outbox');
  await waitFor(() => pageCatchups() - pagesBefore >= 1, 5000 * slow, 'replaysQueuePages counts it');
  await waitFor(() => backlogBytes() === 0, 5000 * slow, () => `the backlogs to be empty (${backlogBytes()} bytes)`);
  a.end(); b.end();
});

test('memory: a client that stops reading in the middle of its catch-up holds the backlog; once it goes, the backlog is empty and the others had every row', async () => {
  s = stacks.memory;
  const closes = [];
  const a = watch(await open(MOD), 'a', closes);
  const d = await open(MOD);
  // d reads nothing of the burst: what the kernel's buffers do not hold (a socket that never read
  // takes little) stays in the backlog for it.  Should they hold all of it, 400 more rows (3.2 MB)
  // at a time, until the backlog holds some; never near its 16 MiB bounds.
  d.sock.pause();
  const ids = [];
  for (let n = 0; ; n++) {
    assert.ok(n < 8, `the backlog held nothing for d after ${ids.length} rows (d read ${rows(d).length})`);
    ids.push(...await insertRows(MOD, 1 + ids.length, n ? 400 : 1500, 8000));
    await waitFor(() => closes.length || rows(a).length >= ids.length, 60000 * slow,
      () => `every row for a (${rows(a).length}/${ids.length}); the daemon's last words:\n${lastWords()}`);
    assert.deepEqual(closes, [], 'a was not closed');
    const held = await waitFor(() => backlogBytes() > 0, 3000 * slow).then(() => true, () => false);
    if (held) break;
  }
  assert.deepEqual(rows(a).map((m) => m.id), ids, 'a: every row, in id order, once');
  assert.ok(rows(d).length < ids.length, `d stopped reading (${rows(d).length} rows)`);
  d.end();
  await waitFor(() => backlogBytes() === 0, 5000 * slow, () => `the backlogs to be empty once d went (${backlogBytes()} bytes)`);
  // The namespace goes on as usual.
  const [next] = await insertRows(MOD, ids.length + 1, 1, 10);
  await waitFor(() => rows(a).some((m) => m.id === next), 5000 * slow, 'a live row afterwards');
  a.end();
});
