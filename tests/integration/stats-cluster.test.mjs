// stats-cluster.test.mjs - the summed stats count every message once, however
// many daemons and workers deliver it.  Daemon S (`workers = 2`, started by
// the stack with wspulse.fcgi and nginx) and daemon T (one process) share one
// PostgreSQL: three processes, three stats rows.  A REST broadcast (an outbox
// row from the publish API) is delivered -- and counted -- by all three, in
// its namespace whether or not they have clients there; the stats API, the
// admin page and jpulse-ws-status must still show it once.  Client messages
// and module broadcasts are counted where they happen and add up across
// daemons.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startStack, start, stop, freePort, writeConfig, waitFor, sleep, openWs, http, login, mintSession, builddir, bin, sanitizerReport, slow } from './lib/stack.mjs';

const testModule = path.join(builddir, 'tests/modules/.libs/test-module.so');
const REST_NS = '/api/1/ws/stats-rest';   // fed only by the publish API
const CHAT_NS = '/api/1/ws/stats-chat';   // code-free: client messages, no broadcast
const MOD_NS = '/api/1/ws/test-module';   // the test module: `echo` broadcasts, `big` via the outbox
const IDS = ['S/w1', 'S/w2', 'T'];
let s, T, admin;

before(async () => {
  const common = { stats_interval: 1, modules: testModule, namespace: [REST_NS, CHAT_NS] };
  s = await startStack({
    users: [{ name: 'alice', password: 'alice-password-1', roles: ['admin'] }],
    config: { ...common, daemon_id: 'S', workers: 2 },
  });
  const port = await freePort();
  const dir = path.join(s.dir, 'T');
  fs.mkdirSync(dir);
  T = {
    port, url: `ws://127.0.0.1:${port}`, logFile: path.join(dir, 'wspulsed.log'),
    config: writeConfig(dir, {
      database: s.pg.conninfo, secret_file: s.settings.secret_file, listen: `127.0.0.1:${port}`,
      log_level: 'debug', daemon_id: 'T', ...common,
    }),
  };
  T.proc = start(bin.daemon, ['-c', T.config], { log: T.logFile });
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/health`)).ok, 10000 * slow, 'T /health');
  await waitFor(() => Number(s.pg.psql(`SELECT count(*) FROM wsp_daemon_stats WHERE daemon_id IN ('S/w1', 'S/w2', 'T') AND updated_at > now() - interval '3 seconds'`)) === 3,
    15000 * slow, 'three fresh stats rows (S/w1, S/w2, T)');
  admin = (await login(s.url, 'alice', 'alice-password-1')).cookie;
});

after(async () => {
  await stop(T?.proc, 'SIGTERM', 8000);
  const report = T && sanitizerReport(fs.existsSync(T.logFile) ? fs.readFileSync(T.logFile, 'utf8') : '');
  await s?.stop();
  if (report) throw new Error(`memory error report in ${T.logFile}:\n${report}`);
});

/** Each process's own snapshot row: {id: stats}. */
const rows = () => JSON.parse(s.pg.psql(`SELECT json_object_agg(daemon_id, stats) FROM wsp_daemon_stats WHERE daemon_id IN ('S/w1', 'S/w2', 'T')`));
const nsIn = (st, p) => st.namespaces.find((n) => n.path === p);

/** Wait until every process has written a snapshot after now (so the rows
 * hold everything that was delivered before). */
async function settled() {
  await sleep(300);   // the NOTIFYs reach every listener together; let them be handled
  const t = s.pg.psql(`SELECT now()`);
  await waitFor(() => Number(s.pg.psql(`SELECT count(*) FROM wsp_daemon_stats WHERE daemon_id IN ('S/w1', 'S/w2', 'T') AND updated_at > '${t}'::timestamptz`)) === 3,
    10000 * slow, 'a fresh snapshot from every process');
}

async function statsApi() {
  const r = await http(s.url, 'GET', '/api/1/websocket/stats', { cookie: admin });
  assert.equal(r.status, 200, r.text);
  return r.json.data;
}

const CONTRACT_NS = ['activeUsers', 'clientCount', 'dropped', 'lastActivity', 'messagesPerHour', 'messagesPerMin', 'path', 'status', 'totalMessages'];
const CONTRACT_ACT = ['direction', 'message', 'namespace', 'timestamp', 'type', 'username'];

test('a REST broadcast counts once in the summed stats (stats API, admin page, jpulse-ws-status), though all three processes count it', async () => {
  const N = 5;
  const sub = await openWs(`${T.url}${REST_NS}`);   // T has a client there, S's workers have none
  await sub.next((m) => m.data?.type === 'connected');
  for (let i = 1; i <= N; i++) {
    const r = await http(s.url, 'POST', '/api/1/websocket/publish', {
      body: { namespace: REST_NS, data: { type: 'rest-count', n: i } }, headers: { Authorization: `Bearer ${s.token}` },
    });
    assert.equal(r.status, 200, r.text);
  }
  await waitFor(() => sub.messages.filter((m) => m.data?.type === 'rest-count').length === N, 5000 * slow, `${N} broadcasts at T's client`);
  await settled();

  // Every process counted every one of them, clients or not (the reason a
  // plain sum over-counts) ...
  const per = rows();
  for (const id of IDS) assert.equal(nsIn(per[id], REST_NS).totalMessages, N, `${id} counted each REST broadcast`);
  console.log(`# ${N} REST broadcasts: per-process counts ${IDS.map((id) => `${id}=${nsIn(per[id], REST_NS).totalMessages}`).join(' ')}`);
  // Only worker 1 and a process with a client there parse a REST row for
  // its activity-log entry; the other workers only count it (relay.c).
  const logged = (id) => per[id].activityLog.filter((a) => a.namespace === REST_NS).length;
  assert.deepEqual(IDS.map(logged), [N, 0, N], 'REST activity entries in S/w1, S/w2, T');

  // ... and the sum counts each once.
  const d = await statsApi();
  const ns = nsIn(d, REST_NS);
  console.log(`# stats API: ${REST_NS} totalMessages=${ns.totalMessages} perMin=${ns.messagesPerMin} perHour=${ns.messagesPerHour}; top-level ${d.totalMessages}`);
  assert.equal(ns.totalMessages, N);
  assert.equal(ns.messagesPerMin, N);
  assert.equal(ns.messagesPerHour, N);
  assert.equal(ns.clientCount, 1);
  assert.equal(ns.status, 'green');
  assert.equal(d.totalMessages, d.namespaces.reduce((a, n) => a + n.totalMessages, 0));
  assert.equal(d.daemons.filter((x) => x.up).length, 3);
  const acts = d.activityLog.filter((a) => a.namespace === REST_NS);
  assert.equal(acts.length, N, 'one activity entry per broadcast');
  assert.deepEqual(acts.map((a) => JSON.parse(a.message).n).sort(), [1, 2, 3, 4, 5]);
  // The public shape: the snapshot rows' internal keys stay inside.
  for (const n of d.namespaces) assert.deepEqual(Object.keys(n).sort(), CONTRACT_NS);
  for (const a of d.activityLog) assert.deepEqual(Object.keys(a).sort(), CONTRACT_ACT);

  // The admin page renders the same sum.
  const page = await http(s.url, 'GET', '/admin/websocket-stats.shtml', { cookie: admin });
  assert.equal(page.status, 200);
  const row = page.text.match(new RegExp(`<tr[^>]*data-path="${REST_NS}">(.*?)</tr>`))?.[1];
  assert.ok(row, 'the namespace row');
  const cells = [...row.matchAll(/<td class="wsp-num">(\d+)<\/td>/g)].map((m) => Number(m[1]));
  assert.deepEqual(cells, [1, 0, N, N, N, 0], 'clients, users, per min, per hour, total, dropped');

  // jpulse-ws-status on either daemon pushes the same sum (its own merge).
  const cookie = mintSession({ config: T.config }, 'alice').cookie;
  for (const url of [T.url, `ws://127.0.0.1:${s.daemonPort}`]) {
    const st = await openWs(`${url}/api/1/ws/jpulse-ws-status`, { headers: { Cookie: cookie } });
    const ups = [];
    await waitFor(async () => {
      const m = await st.next((x) => x.data?.type === 'stats-update', 5000 * slow);
      if (m.data.data.daemons.filter((x) => x.up).length === 3) ups.push(nsIn(m.data.data, REST_NS));
      return ups.length >= 2;
    }, 10000 * slow, 'two stats-updates summing all three processes');
    for (const u of ups) {
      assert.equal(u.totalMessages, N, `jpulse-ws-status at ${url}`);
      assert.equal(u.messagesPerHour, N);
      assert.deepEqual(Object.keys(u).sort(), CONTRACT_NS);
    }
    st.close();
  }
  sub.close();
});

test('client messages and module broadcasts are counted where they happen and add up across daemons', async () => {
  // Code-free namespace: 3 client messages at T, 4 at S (two clients, which
  // may sit on either worker).
  const t1 = await openWs(`${T.url}${CHAT_NS}`);
  const s1 = await openWs(`ws://127.0.0.1:${s.daemonPort}${CHAT_NS}`);
  const s2 = await openWs(`ws://127.0.0.1:${s.daemonPort}${CHAT_NS}`);
  for (const c of [t1, s1, s2]) await c.next((m) => m.data?.type === 'connected');
  for (let i = 0; i < 3; i++) t1.sendJson({ type: 'hello', i });
  for (let i = 0; i < 2; i++) { s1.sendJson({ type: 'hello', i }); s2.sendJson({ type: 'hello', i }); }
  // Module broadcasts: 3 echoes from T, 2 from S, one `big` (over NOTIFY's
  // limit: through the outbox with T as origin).  The origin counts the
  // client's message and its broadcast; the others only deliver.
  // Logged in: the activity log keeps at most 5 entries a second per
  // namespace from anonymous sockets, and T's 8 here fall in one second.
  const alice = { headers: { Cookie: mintSession(s, 'alice').cookie } };
  const mt = await openWs(`${T.url}${MOD_NS}`, alice);
  const ms = await openWs(`ws://127.0.0.1:${s.daemonPort}${MOD_NS}`, alice);
  for (const c of [mt, ms]) await c.next((m) => m.data?.type === 'connected');
  for (let i = 1; i <= 3; i++) mt.sendJson({ type: 'echo', seq: i });
  for (let i = 4; i <= 5; i++) ms.sendJson({ type: 'echo', seq: i });
  mt.sendJson({ type: 'big', seq: 6, size: 20000 });
  const seqs = (c) => c.messages.filter((m) => ['echo', 'big'].includes(m.data?.type)).map((m) => m.data.seq);
  for (const c of [mt, ms]) await waitFor(() => seqs(c).length === 6, 5000 * slow, 'every module broadcast on both daemons');
  await settled();

  const per = rows();
  const chat = IDS.map((id) => nsIn(per[id], CHAT_NS).totalMessages);
  const mod = IDS.map((id) => nsIn(per[id], MOD_NS).totalMessages);
  console.log(`# per process (${IDS.join(', ')}): ${CHAT_NS} ${chat.join('+')}, ${MOD_NS} ${mod.join('+')}`);
  assert.equal(chat[2], 3, 'T counted its 3 client messages');
  assert.equal(chat[0] + chat[1], 4, "S's workers counted their 4");
  assert.equal(mod[2], 2 * 4, 'T: 4 client messages and their 4 broadcasts, none of S\'s');
  assert.equal(mod[0] + mod[1], 2 * 2, "S: 2 client messages and their 2 broadcasts, none of T's");

  const d = await statsApi();
  assert.equal(nsIn(d, CHAT_NS).totalMessages, 7);
  assert.equal(nsIn(d, CHAT_NS).messagesPerMin, 7);
  assert.equal(nsIn(d, MOD_NS).totalMessages, 12);
  assert.equal(nsIn(d, MOD_NS).messagesPerHour, 12);
  assert.equal(d.totalMessages, d.namespaces.reduce((a, n) => a + n.totalMessages, 0));
  assert.equal(d.activityLog.filter((a) => a.namespace === CHAT_NS).length, 7);
  assert.equal(d.activityLog.filter((a) => a.namespace === MOD_NS).length, 12);
  for (const c of [t1, s1, s2, mt, ms]) c.close();
});
