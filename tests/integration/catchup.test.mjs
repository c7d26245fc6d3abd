// catchup.test.mjs - issue 19, items 1-3: a ?since= catch-up always converges.
//
// A reconnecting client gets every committed row of a history namespace it
// missed, in order, exactly once, however much it missed: paged and paced
// by its send queue (not one burst that overflows it and closes the socket
// 1008 on every reconnect), with no 1000-row cap; past the retention window
// it is told which range is gone (also when pruning overtakes it midway).
// Every envelope of an outbox message carries the client's cursor
// (`floor`), which survives out-of-order commits where the highest id seen
// does not.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { startStack, waitFor, sleep, slow, srcdir } from './lib/stack.mjs';
import { openRaw, connect } from './lib/rawws.mjs';

const NS = '/api/1/ws/catchup';
let s;
before(async () => {
  s = await startStack({
    nginx: false,
    fcgi: false,
    // Retention 60 s: pruning runs every 12 s, so the gap test sees it soon.
    config: { namespace: [`${NS} history=on`, '/api/1/ws/gap history=on', '/api/1/ws/gap2 history=on'], history_retention: 60 },
  });
});
after(async () => { await s?.stop(); });

const lastId = () => Number(s.pg.psql('SELECT coalesce(max(id), 0) FROM wsp_outbox'));

/** Insert `n` rows of about `size` payload bytes, numbered from 1; returns their ids. */
function insertRows(ns, n, size = 0) {
  const out = s.pg.psql(`INSERT INTO wsp_outbox (namespace, payload) SELECT '${ns}', ` +
    `json_build_object('type', 'seq', 'n', g, 'pad', repeat('x', ${size}))::text ` +
    `FROM generate_series(1, ${n}) g ORDER BY g RETURNING id`);
  return out.split('\n').map(Number);
}

/** Open with ?since=, read until `want` seq messages arrived (or the socket closed). */
async function catchUp(ns, since, want, ms = 60000) {
  const c = await openRaw(s.daemonPort, `${ns}?since=${since}`, { timeout: 5000 * slow });
  let closed = null;
  c.closed.then((x) => { closed = x; });
  const seqs = () => c.messages.filter((m) => m.data?.type === 'seq');
  await waitFor(() => closed || seqs().length >= want, ms * slow, `${want} caught-up messages`);
  await sleep(200);
  const msgs = seqs();
  c.end();
  return { msgs, closed, all: c.messages };
}

test('a catch-up larger than the send queue converges: 60 x 50 kB missed (3 MB, queue 1 MiB) all arrive, in order, once', async () => {
  const since = lastId();
  const ids = insertRows(NS, 60, 50000);
  const { msgs, closed } = await catchUp(NS, since, 60);
  assert.equal(closed, null, `the socket was closed: ${JSON.stringify(closed)}`);
  assert.deepEqual(msgs.map((m) => m.id), ids, 'every missed row, in id order, once');
  assert.deepEqual(msgs.map((m) => m.data.n), ids.map((_, i) => i + 1));
  assert.ok(/caught up 60 messages after id \d+ in \d+ pages/.test(s.log('wspulsed.log')), 'logged as paged');
  assert.ok(Number(/caught up 60 messages after id \d+ in (\d+) pages/.exec(s.log('wspulsed.log'))[1]) >= 3, 'in several pages');
});

test('no silent cap: a client that missed 2500 rows gets all 2500 (today capped at 1000)', async () => {
  const since = lastId();
  const ids = insertRows(NS, 2500);
  const { msgs, closed } = await catchUp(NS, since, 2500);
  assert.equal(closed, null);
  assert.equal(msgs.length, 2500);
  assert.deepEqual(msgs.map((m) => m.id), ids);
  // Each row's floor is the client's cursor: never above its own id, never
  // going back.
  let prev = since;
  for (const m of msgs) {
    assert.equal(typeof m.floor, 'number', 'a caught-up row carries a floor');
    assert.ok(m.floor >= prev && m.floor <= m.id, `floor ${m.floor} for id ${m.id} after ${prev}`);
    prev = m.floor;
  }
});

test('live messages during a long catch-up: none lost, none doubled, one ordered stream', async () => {
  const since = lastId();
  const first = insertRows(NS, 400, 20000);   // 8 MB: many pages
  const c = await openRaw(s.daemonPort, `${NS}?since=${since}`, { timeout: 5000 * slow });
  // Publish more while it is catching up.
  const more = [];
  for (let i = 0; i < 20; i++) { more.push(...insertRows(NS, 5)); await sleep(20); }
  const want = first.length + more.length;
  await waitFor(() => c.messages.filter((m) => m.data?.type === 'seq').length >= want, 60000 * slow, 'all rows');
  await sleep(300);
  const got = c.messages.filter((m) => m.data?.type === 'seq').map((m) => m.id);
  c.end();
  assert.equal(got.length, want, 'no duplicates');
  assert.deepEqual([...got].sort((a, b) => a - b), [...first, ...more].sort((a, b) => a - b), 'no loss');
  assert.deepEqual(got, [...got].sort((a, b) => a - b), 'in id order (nothing committed out of order here)');
});

test('a ?since= ahead of the daemon (a faster daemon or worker gave it): ids at or below it are never sent again, also after the catch-up ended', async () => {
  // The client's cursor came from a daemon that had delivered rows this
  // one has not yet: it has them.  Here the rows commit after its catch-up
  // found nothing above its cursor and ended.
  const since = lastId() + 3;
  const c = await openRaw(s.daemonPort, `${NS}?since=${since}`, { timeout: 5000 * slow });
  await sleep(500);   // its (empty) first page has answered: the catch-up is over
  const ids = insertRows(NS, 6);
  const want = ids.filter((id) => id > since);
  assert.ok(want.length >= 1 && want.length < ids.length, `ids ${ids} straddle the cursor ${since}`);
  await waitFor(() => c.messages.filter((m) => m.data?.type === 'seq').length >= want.length, 10000 * slow, 'the rows above the cursor');
  await sleep(300);
  assert.deepEqual(c.messages.filter((m) => m.data?.type === 'seq').map((m) => m.id), want, 'only the rows above its cursor, once');
  c.end();
});

test('a page query that fails on a connection that stays up is tried again: the catch-up goes on when the query works again', async () => {
  const since = lastId();
  const ids = insertRows(NS, 5);
  const count = (re) => (s.log('wspulsed.log').match(re) || []).length;
  const failed = () => count(/query failed: .*wsp_outbox_gone/g);
  const before = failed(), retriesBefore = count(/a catch-up page query failed: trying again/g);
  // The page query reads wsp_outbox_gone: without it, it fails, and the
  // daemon's connection stays up.
  s.pg.psql('ALTER TABLE wsp_outbox_gone RENAME TO wsp_outbox_gone_away');
  let c, closed = null;
  try {
    c = await openRaw(s.daemonPort, `${NS}?since=${since}`, { timeout: 5000 * slow });
    c.closed.then((x) => { closed = x; });
    await waitFor(() => failed() > before, 10000 * slow, 'a failed page query');
    assert.equal(c.messages.filter((m) => m.data?.type === 'seq').length, 0, 'nothing paged while the query fails');
  } finally {
    s.pg.psql('ALTER TABLE wsp_outbox_gone_away RENAME TO wsp_outbox_gone');
  }
  await waitFor(() => c.messages.filter((m) => m.data?.type === 'seq').length >= ids.length, 10000 * slow,
    () => `the missed rows once the query works (have ${c.messages.filter((m) => m.data?.type === 'seq').length})`);
  await sleep(300);
  assert.deepEqual(c.messages.filter((m) => m.data?.type === 'seq').map((m) => m.id), ids, 'every missed row, in order, once');
  assert.equal(closed, null, 'the client stayed open');
  assert.ok(count(/a catch-up page query failed: trying again/g) > retriesBefore, 'the retry logged');
  c.end();
});

test('clients that connect with ?since= and go leave no page query queued on the daemon\'s connection', async () => {
  const since = lastId();
  const ids = insertRows(NS, 3);
  const cancelled = () => (s.log('wspulsed.log').match(/its queued catch-up page query cancelled/g) || []).length;
  const before = cancelled();
  // The outbox locked: the first page query waits on the wire, the others
  // queue behind it on the daemon's one connection.
  const A = session();
  await A.run("BEGIN; LOCK TABLE wsp_outbox IN ACCESS EXCLUSIVE MODE; SELECT 'locked';", true);
  let released = false;
  try {
    const cs = [];
    for (let i = 0; i < 5; i++) cs.push(await openRaw(s.daemonPort, `${NS}?since=0`, { timeout: 5000 * slow }));
    for (const c of cs) c.end();
    await waitFor(() => cancelled() - before >= 4, 10000 * slow, () => `the queued page queries cancelled (${cancelled() - before})`);
    await A.run("COMMIT; SELECT 'released';", true);
    released = true;
  } finally {
    if (!released) await A.run('COMMIT;');
    A.end();
  }
  // The connection is free for the next client.
  const { msgs, closed } = await catchUp(NS, since, ids.length, 20000);
  assert.equal(closed, null);
  assert.deepEqual(msgs.map((m) => m.id), ids);
});

test('past the retention window: a history-gap message names the pruned range, then the rest follows', async () => {
  const before = lastId();
  // Two rows "two hours old": the next pruning run takes them.
  const old = s.pg.psql(`INSERT INTO wsp_outbox (namespace, payload, created_at) SELECT '/api/1/ws/gap', ` +
    `json_build_object('type', 'seq', 'n', g)::text, now() - interval '2 hours' FROM generate_series(1, 2) g RETURNING id`)
    .split('\n').map(Number);
  await waitFor(() => s.pg.psql(`SELECT coalesce((SELECT upto FROM wsp_outbox_gone WHERE namespace = '/api/1/ws/gap'), 0)`) === String(old[1]),
    30000 * slow, 'pruning recorded in wsp_outbox_gone');
  const fresh = insertRows('/api/1/ws/gap', 3);
  const c = await openRaw(s.daemonPort, `/api/1/ws/gap?since=${before}`, { timeout: 5000 * slow });
  await waitFor(() => c.messages.filter((m) => m.data?.type === 'seq').length >= 3, 10000 * slow, 'the rows after the gap');
  c.end();
  const gap = c.messages.find((m) => m.data?.type === 'history-gap');
  assert.ok(gap, 'a history-gap message');
  assert.deepEqual({ from: gap.data.from, to: gap.data.to, floor: gap.floor }, { from: before + 1, to: old[1], floor: old[1] });
  const i = c.messages.indexOf(gap);
  assert.deepEqual(c.messages.slice(i + 1).filter((m) => m.data?.type === 'seq').map((m) => m.id), fresh, 'then what is left');
  // A client that is not behind the gap gets no such message.
  const d = await openRaw(s.daemonPort, `/api/1/ws/gap?since=${old[1]}`, { timeout: 5000 * slow });
  await waitFor(() => d.messages.filter((m) => m.data?.type === 'seq').length >= 3, 10000 * slow, 'rows');
  d.end();
  assert.equal(d.messages.find((m) => m.data?.type === 'history-gap'), undefined);
});

test('pruning that overtakes a catch-up midway: a history-gap names the range from the cursor then, the rest follows', async () => {
  const GAP2 = '/api/1/ws/gap2';
  const since = lastId();
  // 30 MB: more than the kernel's socket buffers, the send queue and what
  // lws holds together, so the pages stop midway while the client does
  // not read.
  const ids = insertRows(GAP2, 300, 100000);
  const c = await openRaw(s.daemonPort, `${GAP2}?since=${since}`, { timeout: 5000 * slow });
  c.sock.pause();
  // The pages stop once the socket is full (within milliseconds; the
  // assertions below check that they stopped before the pruned range).
  await sleep(2000 * slow);
  // Rows up to ids[249] turn "two hours old": the next pruning run takes them.
  const cut = ids[249];
  s.pg.psql(`UPDATE wsp_outbox SET created_at = now() - interval '2 hours' WHERE namespace = '${GAP2}' AND id <= ${cut}`);
  await waitFor(() => s.pg.psql(`SELECT coalesce((SELECT upto FROM wsp_outbox_gone WHERE namespace = '${GAP2}'), 0)`) === String(cut),
    30000 * slow, 'pruning recorded in wsp_outbox_gone');
  c.sock.resume();
  await waitFor(() => c.messages.some((m) => m.id === ids[299]), 60000 * slow, 'the last row');
  await sleep(200);
  c.end();
  const seqIds = (list) => list.filter((m) => m.data?.type === 'seq').map((m) => m.id);
  const gap = c.messages.find((m) => m.data?.type === 'history-gap');
  assert.ok(gap, 'a history-gap message');
  const i = c.messages.indexOf(gap), head = seqIds(c.messages.slice(0, i)), tail = seqIds(c.messages.slice(i + 1));
  assert.ok(head.length > 0 && head.length < 250, `the pages had stopped midway (${head.length} rows before the gap)`);
  assert.deepEqual(head, ids.slice(0, head.length), 'before the gap: the rows in order, once');
  assert.deepEqual({ from: gap.data.from, to: gap.data.to, floor: gap.floor },
    { from: head[head.length - 1] + 1, to: cut, floor: cut }, 'the gap names what may be gone, from the cursor');
  assert.deepEqual(tail, ids.slice(250), 'after the gap: what is left, in order, once');
});

/** A psql session kept open (to hold a transaction). */
function session() {
  const p = spawn('psql', [s.pg.conninfo, '-qtAX', '-v', 'ON_ERROR_STOP=1'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  p.unref();
  p.stdout.on('data', (d) => { out += d; });
  const x = {
    async run(sql, expectOut = false) {
      const at = out.length;
      p.stdin.write(sql + '\n');
      if (expectOut) await waitFor(() => out.length > at && out.endsWith('\n'), 10000, 'psql output');
      return out.slice(at).trim();
    },
    end() { p.stdin.end(); sessions.delete(x); },
  };
  sessions.add(x);
  return x;
}
const sessions = new Set();
after(() => { for (const x of sessions) x.end(); });

test('an out-of-order commit: the floor stays below the missing id, so a reconnect from it gets it', async () => {
  const A = session(), B = session();
  await A.run('BEGIN;');
  const a = Number(await A.run(`INSERT INTO wsp_outbox (namespace, payload) VALUES ('${NS}', '{"type":"seq","n":1}') RETURNING id;`, true));
  await B.run('BEGIN;');
  const b = Number(await B.run(`INSERT INTO wsp_outbox (namespace, payload) VALUES ('${NS}', '{"type":"seq","n":2}') RETURNING id;`, true));
  assert.ok(b > a);
  const live = await connect(s.daemonPort, NS, { timeout: 5000 * slow });
  const welcome = await live.nextMessage((m) => m.data?.type === 'connected');
  assert.equal(typeof welcome.floor, 'number', 'the welcome of a history namespace carries the floor');
  await B.run('COMMIT;');
  await waitFor(() => live.messages.some((m) => m.id === b), 10000 * slow, 'b live');
  const mb = live.messages.find((m) => m.id === b);
  assert.ok(mb.floor < a, `b (${b}) arrives with floor ${mb.floor}, below the uncommitted a (${a})`);
  live.end();
  // The client is away when a commits; it comes back from the floor.
  await A.run('COMMIT;');
  A.end(); B.end();
  await sleep(300);
  const back = await openRaw(s.daemonPort, `${NS}?since=${mb.floor}`, { timeout: 5000 * slow });
  await waitFor(() => back.messages.some((m) => m.id === a), 10000 * slow, 'a after the reconnect');
  back.end();
  const ma = back.messages.find((m) => m.id === a);
  assert.ok(ma.floor >= a, 'its floor now covers a');
});

/** www/jpulse-ws.js under Node's own WebSocket (undici), its sockets recorded. */
function jpulseClient() {
  const require = createRequire(import.meta.url);
  const api = require(path.join(srcdir, 'www/jpulse-ws.js'));
  const sockets = [];
  class RecordingWebSocket extends WebSocket {
    constructor(url) { super(url); sockets.push(this); }
  }
  return { api, sockets, WS: RecordingWebSocket };
}

test('jpulse-ws.js over a real socket: a blip while an out-of-order commit is pending loses nothing, doubles nothing', async () => {
  const { api, sockets, WS } = jpulseClient();
  const A = session(), B = session();
  await A.run('BEGIN;');
  const a = Number(await A.run(`INSERT INTO wsp_outbox (namespace, payload) VALUES ('${NS}', '{"type":"seq","n":1}') RETURNING id;`, true));
  const h = api.connect(`ws://127.0.0.1:${s.daemonPort}${NS}`, { WebSocket: WS, uuidStorage: 'memory', reconnectBaseInterval: 300, jitter: false });
  const got = [];
  h.onMessage((data, msg) => { if (data?.type === 'seq') got.push(msg.id); });
  await waitFor(() => h.isConnected(), 5000 * slow, 'connected');
  await B.run('BEGIN;');
  const b = Number(await B.run(`INSERT INTO wsp_outbox (namespace, payload) VALUES ('${NS}', '{"type":"seq","n":2}') RETURNING id;`, true));
  await B.run('COMMIT;');
  await waitFor(() => got.includes(b), 5000 * slow, 'b');
  assert.equal(h.getLastMessageId(), b);
  assert.ok(h.getCursor() < a, `cursor ${h.getCursor()} below the pending ${a}`);
  // The blip: the socket drops, a commits while the client is away.
  sockets.at(-1).close();
  await waitFor(() => h.getStatus() === 'reconnecting', 5000 * slow, 'reconnecting');
  await A.run('COMMIT;');
  A.end(); B.end();
  await waitFor(() => got.includes(a), 10000 * slow, 'a after the reconnect');
  await sleep(300);
  h.disconnect();
  assert.deepEqual(got, [b, a], 'each once');
  assert.match(sockets.at(-1).url, /since=/);
});

test('jpulse-ws.js under Node\'s WebSocket: a refused handshake (only `error` fires) is retried', async () => {
  const { api, sockets, WS } = jpulseClient();
  const h = api.connect(`ws://127.0.0.1:${s.daemonPort}/api/1/ws/no-such-namespace`, { WebSocket: WS, uuidStorage: 'memory', reconnectBaseInterval: 200, jitter: false });
  await waitFor(() => sockets.length >= 3, 10000 * slow, 'three attempts');
  assert.equal(h.getStatus(), 'reconnecting');
  h.disconnect();
});

test('a row inserted before the daemon starts and committed after it reaches that daemon\'s clients', async () => {
  const A = session();
  await A.run('BEGIN;');
  const a = Number(await A.run(`INSERT INTO wsp_outbox (namespace, payload) VALUES ('${NS}', '{"type":"seq","n":"late"}') RETURNING id;`, true));
  s.pg.psql(`INSERT INTO wsp_outbox (namespace, payload) VALUES ('${NS}', '{"type":"seq","n":"early"}')`);
  // A daemon (re)started now: the newest id created before its start is
  // above a, which has not committed yet.
  await s.stopDaemon('SIGTERM');
  await s.startDaemon();
  const c = await openRaw(s.daemonPort, NS, { timeout: 5000 * slow });
  // Commit only once the daemon has its outbox cursor (its first contact
  // with PostgreSQL: a probe row committed now reaches the client).  A row
  // committed before that contact is indistinguishable from one committed
  // before the start (ARCHITECTURE.md, "Catch-up"); the slow start-up of
  // an ASan build made this test race that contact.
  s.pg.psql(`INSERT INTO wsp_outbox (namespace, payload) VALUES ('${NS}', '{"type":"seq","n":"probe"}')`);
  await waitFor(() => c.messages.some((m) => m.data?.n === 'probe'), 10000 * slow, 'the probe row, committed after the start');
  await A.run('COMMIT;');
  A.end();
  await waitFor(() => c.messages.some((m) => m.id === a), 10000 * slow, `row ${a}, committed after the daemon started`);
  assert.equal(c.messages.filter((m) => m.data?.n === 'early').length, 0, 'not the one committed before');
  c.end();
});
