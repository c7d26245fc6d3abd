// reader.test.mjs - one database reader per daemon (issue 18, part 2;
// src/daemon/reader.h).  With `workers = 3` only the supervisor LISTENs and
// hands the notifications to its workers.  Proven against the real stack:
// PostgreSQL sees one listening session for the daemon, not three; a worker
// killed with SIGKILL in the middle of a publish stream leaves the reader and
// the other workers delivering every committed id once and in order, and its
// replacement is fed by the same reader; the reader's own connection cut with
// pg_terminate_backend() in the middle of a stream loses nothing (the workers
// replay from their floors) and reorders nothing; and a revocation that
// arrives through the reader while the workers re-read the revoked sessions
// is not forgotten when their (older) answers come.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startStack, openWs, waitFor, http, sleep, slow, mintSession } from './lib/stack.mjs';
import { rawWs } from './lib/rawclient.mjs';

const NS = '/api/1/ws/rdr';
let s;

before(async () => {
  s = await startStack({ users: [{ name: 'bob', password: 'bob-pass-12', roles: ['viewer'] }],
    config: { workers: 3, stats_interval: 1, namespace: NS } });
  await waitFor(() => workerPids().length === 3, 10000 * slow, 'three workers');
});

after(async () => { await s?.stop(); });

function workerPids() {
  const kids = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]) === s.daemon.pid) kids.push(Number(d));
    } catch { /* gone */ }
  }
  return kids;
}

// Sessions whose last statement was a LISTEN: the reader runs nothing else.
const listeners = () => Number(s.pg.psql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN%'"));
const statsRows = () => JSON.parse(s.pg.psql(`SELECT coalesce(json_agg(json_build_object('id', daemon_id, 'pid', pid, 'stats', stats)), '[]') FROM wsp_daemon_stats WHERE updated_at > now() - interval '3 seconds'`));
const held = (r) => r.stats.namespaces.filter((x) => x.path === NS).reduce((a, x) => a + x.clientCount, 0);

/** Subscribers until every worker holds some; each remembers its worker's pid. */
async function subscribers() {
  const subs = [];
  // The previous test's subscribers first gone from every worker's stats
  // row: a row written before their closes still counts them, and such a
  // stale count could make a worker look like it holds some of these
  // (the test then killed a worker holding all of them: every subscriber
  // closed 1006, once under load).
  await waitFor(() => { const rows = statsRows(); return rows.length === 3 && rows.every((r) => held(r) === 0); }, 10000 * slow, 'no subscriber left on any worker');
  for (let round = 0; round < 12; round++) {
    for (let i = 0; i < 6; i++) {
      const c = await openWs(`ws://127.0.0.1:${s.daemonPort}${NS}`);
      await c.next((m) => m.data?.type === 'connected');
      subs.push(c);
    }
    let rows = [];
    await waitFor(() => { rows = statsRows(); return rows.reduce((a, r) => a + held(r), 0) === subs.length; }, 10000 * slow, 'subscribers counted');
    if (rows.length === 3 && rows.every((r) => held(r) > 0)) {
      console.log(`# subscribers per worker: ${rows.map((r) => `${r.id}=${held(r)}`).join(' ')}`);
      return subs;
    }
  }
  throw new Error('the kernel did not spread the subscribers over the three workers');
}

const publish = (data) => http(s.url, 'POST', '/api/1/websocket/publish', { headers: { Authorization: `Bearer ${s.token}` }, body: { namespace: NS, data } });
const got = (c, tag) => c.messages.filter((m) => m.success && m.data?.type === tag).map((m) => m.id);

/** Publishers until stop(): every answered id, in answer order. */
function stream(tag, n = 6) {
  const acked = [];
  let running = true, failed = 0;
  const runs = Array.from({ length: n }, async (_, p) => {
    for (let seq = 0; running; seq++) {
      let r;
      try { r = await publish({ type: tag, pub: p, seq }); } catch { failed++; continue; }
      if (r.status === 200) acked.push(r.json.data.id); else failed++;
    }
  });
  return { acked, async stop() { running = false; await Promise.all(runs); return failed; } };
}

/** Every subscriber still open gets exactly the committed ids of tag, in id order. */
async function checkAll(subs, tag) {
  const committed = s.pg.psql(`SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '') FROM wsp_outbox WHERE namespace = '${NS}' AND payload LIKE '{"type":"${tag}"%'`)
    .split(',').filter(Boolean).map(Number);
  for (const [i, c] of subs.entries())
    await waitFor(() => got(c, tag).length >= committed.length, 20000 * slow, `subscriber ${i}: ${committed.length} ${tag} messages (has ${got(c, tag).length})`);
  await sleep(300);
  for (const [i, c] of subs.entries())
    assert.deepEqual(got(c, tag), committed, `subscriber ${i}: every committed ${tag} id once, in id order`);
  return committed.length;
}

test('workers = 3: PostgreSQL sees one listening session (the supervisor\'s reader), and every worker delivers', async (t) => {
  assert.equal(listeners(), 1, 'one LISTEN session for three workers');
  const subs = await subscribers();
  t.after(() => { for (const c of subs) c.close(); });
  const r = await publish({ type: 'rdr-one' });
  assert.equal(r.status, 200);
  for (const c of subs) await c.next((m) => m.data?.type === 'rdr-one');
  for (const c of subs) c.close();
});

test('a worker killed with SIGKILL mid-stream: the reader and the other workers deliver every committed id once, in order; the new worker is fed by the same reader', async (t) => {
  const subs = await subscribers();
  t.after(() => { for (const c of subs) c.close(); });
  const rows = statsRows();
  const victim = rows.find((x) => held(x) > 0).pid;
  const pub = stream('rdr-crash');
  await waitFor(() => pub.acked.length >= 100, 15000 * slow, '100 publishes');
  process.kill(victim, 'SIGKILL');
  const closed = await Promise.race([Promise.all(subs.map((c) => c.closed)), sleep(2000).then(() => null)]);
  assert.equal(closed, null, 'the other workers\' subscribers stay open');
  const survivors = [];
  for (const c of subs) if (c.readyState === WebSocket.OPEN) survivors.push(c);
  assert.ok(survivors.length > 0 && survivors.length < subs.length, `some subscribers were on the killed worker (${subs.length - survivors.length} of ${subs.length})`);
  // The supervisor restarts the slot after 1 s; the new worker is fed by the reader too.
  await waitFor(() => workerPids().length === 3 && !workerPids().includes(victim), 15000 * slow, 'the slot restarted');
  await waitFor(() => statsRows().length === 3, 15000 * slow, 'three fresh stats rows');
  await sleep(500);
  const total = pub.acked.length;
  await pub.stop();
  assert.equal(listeners(), 1, 'still one LISTEN session after the restart');
  const n = await checkAll(survivors, 'rdr-crash');
  console.log(`# worker ${victim} killed after ${total} publishes: ${survivors.length} surviving subscribers got all ${n} committed ids once, in order`);
  // A subscriber on every worker (the new one included) gets what is published now.
  for (const c of subs) c.close();
  const fresh = await subscribers();
  t.after(() => { for (const c of fresh) c.close(); });
  const pub2 = stream('rdr-after', 4);
  await waitFor(() => pub2.acked.length >= 50, 15000 * slow, '50 more publishes');
  await pub2.stop();
  await checkAll(fresh, 'rdr-after');
  for (const c of fresh) c.close();
});

test('the reader\'s connection cut mid-stream (pg_terminate_backend): nothing lost, nothing doubled, order kept on every worker', async (t) => {
  const subs = await subscribers();
  t.after(() => { for (const c of subs) c.close(); });
  const pub = stream('rdr-cut');
  await waitFor(() => pub.acked.length >= 100, 15000 * slow, '100 publishes');
  const killed = s.pg.psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query LIKE 'LISTEN%'");
  assert.equal(killed, '1');
  await waitFor(() => listeners() === 1, 15000 * slow, 'the reader listening again');
  const at = pub.acked.length;
  await waitFor(() => pub.acked.length >= at + 100, 15000 * slow, '100 more publishes');
  await pub.stop();
  const n = await checkAll(subs, 'rdr-cut');
  console.log(`# reader cut after ${at} publishes: ${subs.length} subscribers on 3 workers got all ${n} committed ids once, in order`);
  assert.match(s.log('wspulsed.log'), /\[?reader\]? .*listening for the workers again|reader.*listening for the workers again/);
  for (const c of subs) c.close();
});

test('a revocation that arrives while a worker re-reads the revoked sessions is kept, though the answer predates it', async (t) => {
  const auth = `ws://127.0.0.1:${s.daemonPort}/api/1/ws/jpulse-ws-test`;
  const sess = mintSession(s, 'bob');
  const held = await rawWs(auth, { headers: { Cookie: sess.cookie } });
  assert.equal(held.status, 101);
  await held.next((m) => m.data?.type === 'connected');
  // Each worker re-reads the revoked sessions on its own connection when the
  // reader listens again.  A view that sleeps 3 s (times `slow`) after its
  // snapshot is taken holds those answers back: a revoke committed meanwhile
  // reaches the workers through the reader but is not in the answers.
  s.pg.psql(`CREATE FUNCTION wsp_test_slow() RETURNS boolean LANGUAGE plpgsql AS 'BEGIN PERFORM pg_sleep(${3 * slow}); RETURN true; END';
    ALTER TABLE wsp_sessions RENAME TO wsp_sessions_t;
    CREATE VIEW wsp_sessions AS SELECT * FROM wsp_sessions_t WHERE (SELECT wsp_test_slow())`);
  const restore = () => s.pg.psql(`DROP VIEW IF EXISTS wsp_sessions; ALTER TABLE IF EXISTS wsp_sessions_t RENAME TO wsp_sessions;
    DROP FUNCTION IF EXISTS wsp_test_slow()`);
  t.after(() => { try { restore(); } catch { /* restored already */ } });
  const rereads = () => Number(s.pg.psql("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%revoked_at IS NOT NULL%' AND pid <> pg_backend_pid()"));
  assert.equal(s.pg.psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query LIKE 'LISTEN%'"), '1');
  await waitFor(() => rereads() === 3, 10000 * slow, () => `three workers re-reading the revoked sessions (${rereads()} now)`);
  s.pg.psql(`UPDATE wsp_sessions_t SET revoked_at = now(), revoke_reason = 'logout' WHERE id = '${sess.sid}'`);
  assert.equal((await held.closed).code, 4401, 'the revocation reached the socket\'s worker');
  assert.ok(rereads() > 0, 'the revocation arrived before the re-reads answered (the view sleeps)');
  await waitFor(() => rereads() === 0, 15000 * slow, 'the re-reads answered');
  restore();
  // No worker forgot it: nine upgrades, spread over the workers, are refused.
  for (let i = 0; i < 9; i++) {
    const c = await rawWs(auth, { headers: { Cookie: sess.cookie } });
    assert.equal(c.status, 401, `upgrade ${i + 1} with the revoked cookie`);
    c.destroy();
  }
});
