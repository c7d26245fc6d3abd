#!/usr/bin/env node
// What a connect storm costs PostgreSQL with cluster-wide presence (issue 14).
//
//   node --experimental-websocket tests/bench/presence-storm.mjs     (from the build tree)
//
// Starts a private PostgreSQL, daemon A (`workers = 2`) and daemon B (one
// process) on it, then: 10 s idle; a storm of PRESENCE_STORM sockets (default
// 4000, half on each daemon, PRESENCE_CONCURRENCY in flight) to
// /api/1/ws/hello-emoji; 10 s held; the same sockets closed at once.  For
// each phase it prints PostgreSQL's committed transactions (every statement
// the daemons send is one), the presence rows written (inserts + updates of
// wsp_presence) and the NOTIFYs on wsp_presence, per second, and checks
// that every daemon ends with the exact count.
import path from 'node:path';
import fs from 'node:fs';
import { startPostgres, start, stop, freePort, writeConfig, waitFor, sleep, tmpdir, bin, pgListen } from '../integration/lib/stack.mjs';

const N = Number(process.env.PRESENCE_STORM || 4000);
const CONC = Number(process.env.PRESENCE_CONCURRENCY || 200);
const NS = '/api/1/ws/hello-emoji';

const pg = await startPostgres();
const dir = tmpdir('wsp-storm-');
const { execFileSync } = await import('node:child_process');
execFileSync(bin.admin, ['gen-secret', path.join(dir, 'secret')], { stdio: 'ignore' });
const daemons = [];
for (const [id, workers] of [['A', 2], ['B', 1]]) {
  const port = await freePort();
  const d = path.join(dir, id);
  fs.mkdirSync(d);
  const config = writeConfig(d, {
    database: pg.conninfo, secret_file: path.join(dir, 'secret'), listen: `127.0.0.1:${port}`,
    daemon_id: id, workers, log_level: 'info', max_connections_per_ip: 100000,
  });
  const proc = start(bin.daemon, ['-c', config], { log: path.join(d, 'wspulsed.log') });
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/health`)).ok, 10000, `${id} /health`);
  daemons.push({ id, port, proc });
}
const listen = await pgListen(pg, ['wsp_presence']);

function counters() {
  const [x, w] = pg.psql(`SELECT (SELECT sum(xact_commit + xact_rollback) FROM pg_stat_database),
    (SELECT coalesce(n_tup_ins + n_tup_upd, 0) FROM pg_stat_user_tables WHERE relname = 'wsp_presence')`).split('|');
  return { xact: Number(x), rows: Number(w), notifies: listen.events.length, t: Date.now() };
}
// pg_stat_* are flushed by each backend at most once a second: read after a pause.
async function settled() { await sleep(1500); return counters(); }
// The psql that reads the counters is itself one transaction.
function report(name, a, b, extra = '') {
  const s = (b.t - a.t) / 1000, xact = b.xact - a.xact - 1;
  console.log(`${name.padEnd(8)} ${s.toFixed(1).padStart(5)} s  transactions ${String(xact).padStart(6)} (${(xact / s).toFixed(1)}/s)` +
    `  presence rows written ${String(b.rows - a.rows).padStart(5)} (${((b.rows - a.rows) / s).toFixed(1)}/s)` +
    `  NOTIFY wsp_presence ${String(b.notifies - a.notifies).padStart(4)}${extra}`);
}

const c0 = await settled();
await sleep(10000);
const c1 = await settled();
report('idle', c0, c1);

const sockets = [];
const t0 = Date.now();
let next = 0;
async function opener() {
  while (next < N) {
    const i = next++;
    const d = daemons[i % 2];
    await new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${d.port}${NS}`);
      ws.addEventListener('open', () => { sockets.push(ws); resolve(); }, { once: true });
      ws.addEventListener('error', () => reject(new Error(`socket ${i} to ${d.id} failed`)), { once: true });
    });
  }
}
await Promise.all(Array.from({ length: CONC }, opener));
const storm = (Date.now() - t0) / 1000;
const exact = () => Number(pg.psql(`SELECT coalesce(sum(clients), 0) FROM wsp_presence WHERE namespace = '${NS}' AND updated_at > now() - interval '3 seconds'`));
await waitFor(() => exact() === N, 10000, `presence rows summing to ${N}`);
const c2 = await settled();
report('connect', c1, c2, `  (${N} sockets opened in ${storm.toFixed(1)} s, ${(N / storm).toFixed(0)}/s)`);

await sleep(10000);
const c3 = await settled();
report('held', c2, c3, `  (${N} sockets open)`);

const t1 = Date.now();
for (const ws of sockets) ws.close();
await waitFor(() => exact() === 0, 15000, 'presence rows summing to 0');
const c4 = await settled();
report('close', c3, c4, `  (closed in ${((Date.now() - t1) / 1000).toFixed(1)} s)`);

listen.stop();
for (const d of daemons) await stop(d.proc, 'SIGTERM', 5000);
await pg.stop();
fs.rmSync(dir, { recursive: true, force: true });
