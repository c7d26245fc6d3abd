// chaos.mjs - the fault drill of issue 19 (`make chaos`; a short run is
// tests/integration/chaos.test.mjs in `make check`).
//
// Two daemons (each `workers = 2`) behind nginx, wspulse.fcgi, one
// PostgreSQL.  Several publishers post numbered messages through the REST
// publish API to two history namespaces without pause; a psql publisher
// commits pairs of rows out of order (two transactions, the smaller id
// last); now and then a burst of 40 kB rows makes a big catch-up.
// Subscribers run the real www/jpulse-ws.js (Node's WebSocket) through
// nginx.  Meanwhile, in a loop: kill -9 of a worker, kill -9 of a whole
// daemon (restarted 2 s later), a PostgreSQL restart, a 5 s PostgreSQL
// outage, an nginx reload, a rolling restart (SIGUSR2), and a subscriber
// that goes away for a while (a big catch-up).  At the end every
// subscriber must hold exactly the rows the outbox committed for its
// namespace: none missing, none twice, and each publisher's numbers in
// order.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { execFile } from 'node:child_process';
import { startPostgres, startStack, start, stop, waitFor, sleep, freePort, run, bin, srcdir, http } from './stack.mjs';

const NS = ['/api/1/ws/chaos-a', '/api/1/ws/chaos-b'];

/** Children of pid (a supervisor's workers). */
function children(pid) {
  const r = run('ps', ['-o', 'pid=', '--ppid', String(pid)]);
  return r.stdout.trim().split(/\s+/).filter(Boolean).map(Number);
}

const psqlAsync = (pg, sql) => new Promise((resolve) => {
  execFile('psql', [pg.conninfo, '-qtAX', '-c', sql], { encoding: 'utf8' }, (err, out) => resolve(err ? null : out.trim()));
});

/**
 * Run the drill for `seconds` of faults; returns { ok, lines, subs, committed }.
 * `log` gets progress lines.
 */
export async function drill({ seconds = 60, publishers = 3, subscribers = 6, log = () => {} } = {}) {
  const pg = await startPostgres();
  const portB = await freePort();
  const s = await startStack({
    pg,
    upstreams: [`127.0.0.1:${portB}`],
    config: { namespace: NS.map((n) => `${n} history=on`), workers: 2, log_level: 'info', stats_interval: 2 },
  });
  // Daemon B: the same configuration on its own port.
  const dirB = path.join(s.dir, 'B');
  fs.mkdirSync(dirB);
  const confB = path.join(dirB, 'wspulse.conf');
  fs.writeFileSync(confB, fs.readFileSync(s.config, 'utf8').replace(/^listen = .*$/m, `listen = 127.0.0.1:${portB}`) + 'daemon_id = B\n');
  const logB = path.join(dirB, 'wspulsed.log');
  const daemonB = { proc: null };
  const startB = async () => {
    daemonB.proc = start(bin.daemon, ['-c', confB], { log: logB });
    await waitFor(async () => { try { return (await fetch(`http://127.0.0.1:${portB}/health`)).ok; } catch { return false; } }, 15000, 'daemon B');
  };
  await startB();
  const daemons = { A: () => s.daemon, B: () => daemonB.proc };
  const restartA = async () => { await s.startDaemon(); };

  const events = [];
  const note = (what) => { events.push(what); log(`chaos: ${what}`); };
  let running = true;

  // ---- subscribers (jpulse-ws.js through nginx; one handle per path, so
  // each gets its own ?sub= to be a separate connection)
  const api = createRequire(import.meta.url)(path.join(srcdir, 'www/jpulse-ws.js'));
  const subs = [];
  for (let i = 0; i < subscribers; i++) {
    const sub = { i, ns: NS[i % NS.length], got: [], sockets: [], away: false };
    // A subscriber "away" reaches nothing (a refused connection: under
    // Node's WebSocket only `error` fires): its handle keeps retrying with
    // its cursor, as a laptop without network does.
    class WS extends WebSocket {
      constructor(u) { super(sub.away ? 'ws://127.0.0.1:1/' : u); sub.sockets.push(this); }
    }
    sub.h = api.connect(`${s.wsUrl}${sub.ns}?sub=${i}`, {
      WebSocket: WS, uuidStorage: 'memory', reconnectBaseInterval: 250, reconnectMaxInterval: 1000,
      maxReconnectAttempts: 1e9, jitter: 0.2,
    });
    sub.h.onMessage((data, msg) => { if (data && data.type === 'seq') sub.got.push({ id: msg.id, p: data.p, n: data.n }); });
    subs.push(sub);
  }
  await waitFor(() => subs.every((x) => x.h.isConnected()), 15000, 'subscribers connected');

  // ---- publishers
  const pubStats = { ok: 0, failed: 0, ooo: 0, big: 0 };
  const publisher = async (p) => {
    let n = 0;
    while (running) {
      const ns = NS[n % NS.length];
      try {
        const r = await http(s.url, 'POST', '/api/1/websocket/publish', {
          headers: { Authorization: `Bearer ${s.token}` }, body: { namespace: ns, data: { type: 'seq', p, n } },
        });
        if (r.status === 200) { pubStats.ok++; n++; } else { pubStats.failed++; await sleep(100); }
      } catch { pubStats.failed++; await sleep(100); }
      await sleep(5);
    }
  };
  // Out of order: A inserts, B inserts and commits, then A commits.
  const oooPublisher = async () => {
    let k = 0;
    while (running) {
      const ns = NS[k++ % NS.length];
      const row = (tag) => `INSERT INTO wsp_outbox (namespace, payload) VALUES ('${ns}', '{"type":"seq","p":"ooo","n":"${tag}"}')`;
      const a = psqlAsync(pg, `BEGIN; ${row(`${k}a`)}; SELECT pg_sleep(0.3); COMMIT;`);
      await sleep(50);
      const b = psqlAsync(pg, `BEGIN; ${row(`${k}b`)}; COMMIT;`);
      const [ra, rb] = await Promise.all([a, b]);
      if (ra !== null && rb !== null) pubStats.ooo += 2;
      await sleep(200);
    }
  };
  let bursts = 0;
  const bigBurst = () => psqlAsync(pg, `INSERT INTO wsp_outbox (namespace, payload) SELECT ns, ` +
    `json_build_object('type', 'seq', 'p', 'big${++bursts}', 'n', g, 'pad', repeat('x', 40000))::text ` +
    `FROM generate_series(1, 40) g, unnest(ARRAY['${NS.join("','")}']) ns`).then((r) => { if (r !== null) pubStats.big += 80; });

  const pubs = [...Array.from({ length: publishers }, (_, p) => publisher(p)), oooPublisher()];

  // ---- faults, in a loop until `seconds` have passed
  const faults = [
    async () => { const w = children(daemons.A().pid); if (w.length) { process.kill(w[0], 'SIGKILL'); note(`kill -9 of daemon A's worker ${w[0]}`); } await sleep(2000); },
    async () => { process.kill(daemons.B().pid, 'SIGKILL'); note('kill -9 of daemon B (supervisor; its workers follow)'); await sleep(2000); await startB(); note('daemon B restarted'); },
    async () => {
      const away = subs[0];
      note(`subscriber ${away.i} goes away for 6 s while 40 x 40 kB rows per namespace are published`);
      away.away = true;
      away.sockets.at(-1)?.close();
      await bigBurst();
      await sleep(6000);
      away.away = false;
    },
    async () => { note('PostgreSQL restart'); pg.stopServer(); pg.start(); await sleep(3000); },
    async () => { process.kill(s.nginx.pid, 'SIGHUP'); note('nginx reload'); await sleep(1500); },
    async () => { note('PostgreSQL outage of 5 s'); pg.stopServer(); await sleep(5000); pg.start(); await sleep(3000); },
    async () => { process.kill(daemons.A().pid, 'SIGUSR2'); note('rolling restart of daemon A (SIGUSR2)'); await sleep(4000); },
    async () => { process.kill(daemons.A().pid, 'SIGKILL'); note('kill -9 of daemon A'); await sleep(1000); await restartA(); note('daemon A restarted'); },
  ];
  const t0 = Date.now();
  let f = 0;
  while (Date.now() - t0 < seconds * 1000 || f < faults.length) {
    await faults[f % faults.length]();
    f++;
    await sleep(1000);
  }
  running = false;
  await Promise.all(pubs);
  note(`publishing stopped: ${pubStats.ok} REST publishes (${pubStats.failed} refused or failed and retried), ${pubStats.ooo} out-of-order rows, ${pubStats.big} big rows`);

  // ---- the verdict: the outbox is the committed truth.
  const committed = {};
  for (const ns of NS) {
    committed[ns] = pg.psql(`SELECT id FROM wsp_outbox WHERE namespace = '${ns}' ORDER BY id`).split('\n').filter(Boolean).map(Number);
  }
  const complete = (x) => x.got.length >= committed[x.ns].length;
  try {
    await waitFor(() => subs.every(complete), 60000, 'every subscriber caught up');
  } catch { /* reported below */ }
  await sleep(1000);
  const lines = [];
  let ok = true;
  for (const x of subs) {
    const want = committed[x.ns];
    const ids = x.got.map((g) => g.id);
    const seen = new Set();
    let dup = 0;
    for (const id of ids) { if (seen.has(id)) dup++; seen.add(id); }
    const wantSet = new Set(want);
    const missingIds = want.filter((id) => !seen.has(id));
    const missing = missingIds.length;
    if (missing) {
      const rows = pg.psql(`SELECT id, created_at, payload::json->>'p' FROM wsp_outbox WHERE id IN (${missingIds.slice(0, 5).join(',')})`);
      log(`subscriber ${x.i}: missing ${rows.replace(/\n/g, '; ')}`);
    }
    const extra = [...seen].filter((id) => !wantSet.has(id)).length;
    // Each REST publisher's numbers (and each burst's) arrive in order.
    let disorder = 0;
    const last = new Map();
    for (const g of x.got) {
      if (g.p === 'ooo') continue;
      const key = g.p;
      if (last.has(key) && g.n < last.get(key)) disorder++;   // equal: a publish retried after a lost answer
      last.set(key, g.n);
    }
    const good = !dup && !missing && !extra && !disorder;
    ok &&= good;
    lines.push(`subscriber ${x.i} ${x.ns}: delivered ${seen.size} == committed ${want.length}: ${good ? 'yes' : 'NO'} ` +
      `(missing ${missing}, duplicates ${dup}, not committed ${extra}, out of order ${disorder}; ${x.sockets.length} sockets)`);
    x.h.disconnect();
  }
  for (const l of lines) log(l);
  await stop(daemonB.proc, 'SIGTERM', 8000);
  await s.stop();
  await pg.stop();
  return { ok, lines, events, pubStats, committed: Object.fromEntries(NS.map((n) => [n, committed[n].length])) };
}

