#!/usr/bin/env node
// REST publish rate beside nchan's POST /pub (issue 18, part 2): `make bench` runs it as the
// `pubrate` scenario (BENCH_SCENARIOS=pubrate), or on its own:
//
//   node tests/bench/pubrate.mjs            (WSPULSE_BUILDDIR / BENCH_BUILDDIR: the build)
//
// For each count of listening daemon workers (BENCH_PUBRATE_WORKERS, default 1,4,16) it starts
// the integration tests' stack (stack.mjs: PostgreSQL, wspulsed with `workers = N`, wspulse.fcgi
// with its default configuration, nginx with the shipped snippet and its access log, buffered
// as nginx/wspulse-site.conf ships it), then runs
// `ab -k -c 16` on POST /api/1/websocket/publish with the API token, and right after it the same
// `ab` on a one-worker nginx + nchan's POST /pub, so both figures come from the same minute of
// this shared machine; between them, the same `ab` with a body whose namespace the API refuses
// (400 from wspulse.fcgi before any database work: the rate nginx and wspulse.fcgi alone reach
// on this request, which no publish behind them can pass). CPU per publish is every process's
// utime + stime over the run ÷ requests: PostgreSQL (postmaster and every backend),
// wspulse.fcgi, nginx (master and worker), wspulsed (supervisor and workers) and ab itself (its
// children's times, from the shell that ran it).
// Each ab run is cross-checked by a second client sharing no code with ab: lwsclient's own
// publisher (-n 0: one thread, K keep-alive connections, one request in flight on each), sending
// as many publishes as ab completed, to the same server right after it (BENCH_XCHECK=0 skips it).
// Every publish it had answered 2xx must be a row in the outbox.
// The PostgreSQL cluster is the tests' (fsync off) with synchronous_commit back ON for the
// wspulse database, so every acknowledged publish waits for its commit record as in production.
//
// Environment: BENCH_PUBRATE_SECS (5; 2 with BENCH_QUICK=1), BENCH_PUBRATE_CONC (16),
// BENCH_PUBRATE_WORKERS (1,4,16), BENCH_PUBRATE_ROUNDS (3; 1 with BENCH_QUICK=1: every worker
// count once a round, the order rotated; the table gives each figure's median and lists every
// round), BENCH_PUBRATE_FCGI_THREADS (unset: wspulse.fcgi's
// default fcgi_threads), BENCH_PUBRATE_LOG_BUFFER (0: nginx writes its access log once per
// request, as before 2026-12-02).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The environment for an nginx of the bench's (run.mjs's too): NGINX, which
 * make sets to the binary's path, would be read by nginx as inherited sockets. */
export const envWithoutNginx = () => ({ ...process.env, NGINX: undefined });

const here = path.dirname(fileURLToPath(import.meta.url));
const env = process.env;
const quick = env.BENCH_QUICK === '1';   // make bench's smoke run: 2-s runs, one round
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.error(`[pubrate ${new Date().toISOString().slice(11, 19)}]`, ...a);
const NS = '/api/1/ws/bench';

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

function statOf(pid) {
  try {
    const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return st.slice(st.lastIndexOf(')') + 2).split(' ');
  } catch { return null; }
}

function childrenOf(pid) {
  const kids = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const f = statOf(d);
    if (f && Number(f[1]) === pid) kids.push(Number(d));
  }
  return kids;
}

// CPU seconds per pid (utime + stime, 100 ticks a second on Linux).
function cpuOf(pids) {
  const m = new Map();
  for (const pid of pids) {
    const f = statOf(pid);
    if (f) m.set(pid, (Number(f[11]) + Number(f[12])) / 100);
  }
  return m;
}

// The groups of processes whose CPU is counted; called before and after a run, so a process
// that started in between (a PostgreSQL backend) counts from zero.
export function groupsOf(g) {
  const out = {};
  for (const [name, roots] of Object.entries(g)) {
    const pids = new Set();
    for (const r of roots) { pids.add(r); for (const k of childrenOf(r)) pids.add(k); }
    out[name] = cpuOf([...pids]);
  }
  return out;
}

export function cpuDelta(before, after) {
  const out = {};
  for (const name of Object.keys(after)) {
    const b = before[name] || new Map(), a = after[name];
    let s = 0;
    for (const [pid, v] of a) s += v - (b.get(pid) || 0);
    out[name] = s;
  }
  return out;
}

// ab through bash, whose `times` prints the CPU its children (ab) used.
export async function ab(url, bodyFile, headers, { secs, conc }) {
  const args = ['-q', '-k', '-c', String(conc), '-t', String(secs), '-n', '10000000', '-p', bodyFile,
    '-T', 'application/json', ...headers.flatMap((h) => ['-H', h]), url];
  const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('bash', ['-c', `ab ${quoted}; echo "__times"; times`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  await new Promise((r) => child.on('exit', r));
  const num = (re) => { const m = re.exec(out); return m ? Number(m[1]) : null; };
  // ab counts an answer whose length differs from the first one's as failed ("Length"): each
  // publish answers its own id, so only connect, receive and exception failures count.
  const done = num(/Complete requests:\s+(\d+)/);
  const failed = ['Connect', 'Receive', 'Exceptions'].reduce((a, k) => a + (num(new RegExp(`${k}: (\\d+)`)) || 0), 0);
  const non2xx = num(/Non-2xx responses:\s+(\d+)/) || 0, rate = num(/Requests per second:\s+([\d.]+)/);
  // `times`: shell user/sys, then children user/sys, as 0m1.234s.
  const t = out.slice(out.indexOf('__times')).match(/(\d+)m([\d.]+)s/g) || [];
  const secsOf = (s) => { const m = /(\d+)m([\d.]+)s/.exec(s); return m ? Number(m[1]) * 60 + Number(m[2]) : 0; };
  const abCpu = t.length >= 4 ? secsOf(t[2]) + secsOf(t[3]) : null;
  if (done === null) throw new Error(`ab failed: ${err.trim() || out.trim()}`);
  return { done, failed, non2xx, rate, abCpu };
}

// The second client on the same URL: lwsclient -n 0 (a publisher only), m publishes with conc
// in flight. Its publishes/s is over its own publishing time.
async function lwsPub(bin, url, headers, wrap, m, conc) {
  const args = ['-n', '0', '--pub', url, ...headers.flatMap((h) => ['--pub-header', h]), ...(wrap ? ['--wrap', wrap] : []),
    '-m', String(m), '-k', String(conc), '--quiet', '1'];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  const code = await new Promise((r) => child.on('exit', r));
  const line = out.split('\n').find((l) => l.startsWith('{'));
  if (code !== 0 || !line) throw new Error(`lwsclient exited ${code}: ${err.trim().slice(-300)}`);
  const j = JSON.parse(line);
  return { rate: j.publishes_per_s, published: j.published, errors: j.publish_errors };
}

async function startNchan() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsp-pubrate-nchan-'));
  const port = await freePort();
  fs.writeFileSync(path.join(dir, 'nginx.conf'), `
load_module /usr/lib/nginx/modules/ngx_nchan_module.so;
worker_processes 1;
daemon off;
master_process on;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  keepalive_requests 100000000;
  server {
    listen 127.0.0.1:${port};
    location = /pub { nchan_publisher; nchan_channel_id bench; nchan_message_buffer_length 10; }
  }
}
`);
  const child = spawn('nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')],
    { stdio: ['ignore', 'inherit', 'inherit'], env: envWithoutNginx() });
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((r) => { const c = net.connect(port, '127.0.0.1', () => { c.destroy(); r(true); }); c.on('error', () => r(false)); });
    if (ok) break;
    await sleep(50);
  }
  return {
    url: `http://127.0.0.1:${port}/pub`, pid: child.pid,
    async stop() {
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await done;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function stackLib() {
  const src = env.BENCH_SRCDIR || path.resolve(here, '../..');
  const build = env.BENCH_BUILDDIR || env.WSPULSE_BUILDDIR || process.cwd();
  if (!fs.existsSync(path.join(build, 'src/wspulsed')))
    throw new Error(`no ${build}/src/wspulsed: build wspulse first or set BENCH_BUILDDIR`);
  env.WSPULSE_BUILDDIR ??= build;
  env.WSPULSE_SRCDIR ??= src;
  env.PG_BINDIR ??= fs.existsSync('/usr/lib/postgresql/15/bin') ? '/usr/lib/postgresql/15/bin' : '';
  return import(pathToFileURL(path.join(src, 'tests/integration/lib/stack.mjs')).href);
}

// Rounds (here and in run.mjs's latency scenarios): the median of the numbers in vs (the mean
// of the middle two for an even count; null when there is none), and xs rotated by k, the
// order of round k.
export function median(vs) {
  const v = vs.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  return !v.length ? null : v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
}
export const rotated = (xs, k) => xs.map((_, i) => xs[(i + k) % xs.length]);

// One worker count's rounds as one row: each rate and CPU figure its median over the rounds,
// the counts of requests and rows added up, the load's lowest and highest; the rounds in
// `rounds`.
function medianRow(rs) {
  const sum = (k) => rs.reduce((a, r) => a + r[k], 0);
  const medOf = (k) => Object.fromEntries(Object.keys(rs[0][k]).map((q) => [q, median(rs.map((r) => r[k][q]))]));
  return {
    workers: rs[0].workers, wspulse: median(rs.map((r) => r.wspulse)), nchan: median(rs.map((r) => r.nchan)),
    wspulse2: median(rs.map((r) => r.wspulse2)), nchan2: median(rs.map((r) => r.nchan2)),
    ratio: median(rs.map((r) => r.ratio)), refused: median(rs.map((r) => r.refused)),
    ok: sum('ok'), non2xx: sum('non2xx'), failed: sum('failed'), committed: sum('committed'), procs: rs[0].procs,
    cpuUs: medOf('cpuUs'), nchanCpuUs: medOf('nchanCpuUs'),
    loadavg: [Math.min(...rs.flatMap((r) => r.loadavg)), Math.max(...rs.flatMap((r) => r.loadavg))], rounds: rs,
  };
}

/** Runs the scenario; resolves to { rows: [...] (medians over the rounds), raw: [...] (every
 *  round), table: 'markdown' }. */
export async function run({ secs = Number(env.BENCH_PUBRATE_SECS || (quick ? 2 : 5)), conc = Number(env.BENCH_PUBRATE_CONC || 16),
  workers = (env.BENCH_PUBRATE_WORKERS || '1,4,16').split(',').map(Number),
  rounds = Math.max(1, Number(env.BENCH_PUBRATE_ROUNDS || (quick ? 1 : 3))) } = {}) {
  const stack = await stackLib();
  const xcheck = env.BENCH_XCHECK !== '0';
  const lwsclient = env.BENCH_LWSCLIENT || path.join(env.WSPULSE_BUILDDIR, 'tests/bench/lwsclient');
  if (xcheck && !fs.existsSync(lwsclient))
    throw new Error(`no ${lwsclient} (the second client): make tests/bench/lwsclient, or BENCH_XCHECK=0`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsp-pubrate-'));
  const wBody = path.join(dir, 'wspulse.json'), nBody = path.join(dir, 'nchan.json');
  // The same request with a namespace the API refuses: answered 400 by wspulse.fcgi after the
  // token check, JSON parse and validation, before any database work -- what nginx and
  // wspulse.fcgi alone can serve of this request on this machine, the ceiling of any
  // publish path behind them.
  const zBody = path.join(dir, 'refused.json');
  const data = '{"type":"bench","text":"a REST publish of about sixty bytes","n":1}';
  fs.writeFileSync(wBody, JSON.stringify({ namespace: NS, data: JSON.parse(data) }));
  fs.writeFileSync(nBody, data);
  fs.writeFileSync(zBody, JSON.stringify({ namespace: '/api/1/not-ws/bench', data: JSON.parse(data) }));
  const raw = [];
  try {
    // Rounds: every worker count once a round, the order rotated, so that a slow minute of this
    // shared machine lands on each count in turn rather than on one (the table: medians).
    for (let round = 0; round < rounds; round++) for (const n of rotated(workers, round)) {
      const s = await stack.startStack({ config: { namespace: NS, log_level: 'warn', workers: String(n),
        ...(env.BENCH_PUBRATE_FCGI_THREADS ? { fcgi_threads: env.BENCH_PUBRATE_FCGI_THREADS } : {}) },
        accessLogBuffer: env.BENCH_PUBRATE_LOG_BUFFER !== '0' });
      let nchan = null;
      try {
        s.pg.psql('ALTER DATABASE wspulse SET synchronous_commit = on');
        // Every worker connected (one bus connection each; wspulse.fcgi connects at its first
        // request), then a moment for their LISTENs and first replays.
        await stack.waitFor(() => Number(s.pg.psql("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()")) >= n,
          20000, `${n} connected workers`);
        await sleep(1000);
        const pmPid = Number(fs.readFileSync(path.join(s.pg.data, 'postmaster.pid'), 'utf8').split('\n')[0]);
        const roots = { postgres: [pmPid], 'wspulse.fcgi': [s.fcgi.pid], nginx: [s.nginx.pid], wspulsed: [s.daemon.pid] };
        const hdr = [`Authorization: Bearer ${s.token}`];
        await ab(`${s.url}/api/1/websocket/publish`, wBody, hdr, { secs: 1, conc }); // warm-up
        const load0 = os.loadavg()[0];
        const g0 = groupsOf(roots);
        const id0 = Number(s.pg.psql('SELECT coalesce(max(id), 0) FROM wsp_outbox'));
        const w = await ab(`${s.url}/api/1/websocket/publish`, wBody, hdr, { secs, conc });
        const g1 = groupsOf(roots);
        const cpu = cpuDelta(g0, g1);
        const rowsIn = Number(s.pg.psql(`SELECT count(*) FROM wsp_outbox WHERE id > ${id0}`));
        let x = null;
        if (xcheck) {
          const id1 = Number(s.pg.psql('SELECT coalesce(max(id), 0) FROM wsp_outbox'));
          x = await lwsPub(lwsclient, `${s.url}/api/1/websocket/publish`, [...hdr, 'Content-Type: application/json'],
            `{"namespace":"${NS}","data":@MSG@}`, w.done, conc);
          const rowsX = Number(s.pg.psql(`SELECT count(*) FROM wsp_outbox WHERE id > ${id1}`));
          if (x.errors || rowsX !== x.published)
            throw new Error(`the second client: ${x.published} publishes answered 2xx, ${x.errors} not, ${rowsX} rows committed`);
        }
        const z = await ab(`${s.url}/api/1/websocket/publish`, zBody, hdr, { secs, conc });
        // ab's -t cut-off can count one more non-2xx answer than complete requests (the one in
        // flight): only a 2xx among them is a failure.
        if (z.non2xx < z.done) throw new Error(`the refused publishes: ${z.done - z.non2xx} of ${z.done} were not refused`);
        nchan = await startNchan();
        await ab(nchan.url, nBody, [], { secs: 1, conc });
        const c0 = groupsOf({ nchan: [nchan.pid] });
        const c = await ab(nchan.url, nBody, [], { secs, conc });
        const ncpu = cpuDelta(c0, groupsOf({ nchan: [nchan.pid] }));
        const y = xcheck ? await lwsPub(lwsclient, nchan.url, [], null, c.done, conc) : null;
        if (y && y.errors) throw new Error(`the second client: ${y.errors} of nchan's publishes not answered 2xx`);
        const procs = Object.fromEntries(Object.entries(g1).map(([k, v]) => [k, v.size]));
        const us = (v, d) => (v * 1e6) / d;
        const row = {
          workers: n, wspulse: w.rate, nchan: c.rate, ratio: w.rate / c.rate, refused: z.rate, ok: w.done - w.non2xx - w.failed,
          wspulse2: x ? x.rate : null, nchan2: y ? y.rate : null,
          non2xx: w.non2xx, failed: w.failed, committed: rowsIn, procs,
          cpuUs: Object.fromEntries([...Object.entries(cpu).map(([k, v]) => [k, us(v, w.done)]), ['ab', us(w.abCpu, w.done)]]),
          nchanCpuUs: { nginx: us(ncpu.nchan, c.done), ab: us(c.abCpu, c.done) },
          loadavg: [load0, os.loadavg()[0]],
        };
        row.round = round + 1;
        raw.push(row);
        log(JSON.stringify(row));
      } finally {
        if (nchan) await nchan.stop();
        await s.stop();
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const rows = [...new Set(workers)].map((n) => medianRow(raw.filter((r) => r.workers === n)));
  const f0 = (v) => Math.round(v).toLocaleString('en-US').replace(/,/g, ' ');
  const lines = [
    `| workers | wspulse publishes/s | nchan /s | ratio | refused before PostgreSQL /s (ratio) | 2xx / committed rows | µs/publish: PostgreSQL, wspulse.fcgi, nginx, wspulsed, ab | processes: PostgreSQL, fcgi, nginx, wspulsed | nchan µs/publish: nginx, ab | load |`,
    '|---:|---:|---:|---:|---:|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.workers} | ${f0(r.wspulse)} | ${f0(r.nchan)} | ${r.ratio.toFixed(2)}× | ${f0(r.refused)} (${(r.refused / r.nchan).toFixed(2)}×) | ${r.ok} / ${r.committed}`
      + `${r.non2xx || r.failed ? ` (${r.non2xx} non-2xx, ${r.failed} failed)` : ''} | `
      + ['postgres', 'wspulse.fcgi', 'nginx', 'wspulsed', 'ab'].map((k) => r.cpuUs[k].toFixed(0)).join(', ')
      + ` | ${['postgres', 'wspulse.fcgi', 'nginx', 'wspulsed'].map((k) => r.procs[k]).join(', ')}`
      + ` | ${r.nchanCpuUs.nginx.toFixed(1)}, ${r.nchanCpuUs.ab.toFixed(1)} | ${r.loadavg.map((v) => v.toFixed(1)).join('–')} |`),
  ];
  if (xcheck) {
    // How far apart two clients' rates are, as a fraction of the larger (run.mjs: within 20 %).
    const d = (a, b) => (typeof a === 'number' && typeof b === 'number' ? Math.abs(a - b) / Math.max(a, b) : null);
    const said = (a, b) => { const v = d(a, b); return v === null ? '' : v <= 0.2 ? ` (agrees, Δ ${Math.round(v * 100)} %)` : ` (**differs, Δ ${Math.round(v * 100)} %**)`; };
    lines.push('', 'the second client (lwsclient\'s own publisher, as many publishes as ab completed, right after it), medians:',
      '| workers | wspulse /s, ab | wspulse /s, second client | nchan /s, ab | nchan /s, second client | ratio, second client |',
      '|---:|---:|---:|---:|---:|---:|',
      ...rows.map((r) => `| ${r.workers} | ${f0(r.wspulse)} | ${r.wspulse2 === null ? '—' : f0(r.wspulse2) + said(r.wspulse, r.wspulse2)} | ${f0(r.nchan)} | `
        + `${r.nchan2 === null ? '—' : f0(r.nchan2) + said(r.nchan, r.nchan2)} | ${r.wspulse2 && r.nchan2 ? (r.wspulse2 / r.nchan2).toFixed(2) + '×' : '—'} |`));
  }
  if (rounds > 1) {
    lines.push('', `medians of ${rounds} rounds; every round, wspulse /s (nchan /s)${xcheck ? ', ab | second client' : ''}:`);
    const two = (a, b) => (xcheck && typeof b === 'number' ? `${f0(a)} | ${f0(b)}` : f0(a));
    for (const r of rows) lines.push(`- ${r.workers} worker${r.workers === 1 ? '' : 's'}: ${r.rounds.map((x) => `${two(x.wspulse, x.wspulse2)} (${two(x.nchan, x.nchan2)})`).join('; ')}`);
  }
  if (rows.length > 1) {
    const rates = rows.map((r) => r.wspulse);
    lines.push('', `spread of the wspulse rate over ${rows.map((r) => r.workers).join('/')} workers: `
      + `${(((Math.max(...rates) - Math.min(...rates)) / Math.max(...rates)) * 100).toFixed(0)} % of the highest`);
  }
  return { rows, raw, table: lines.join('\n') };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  run().then((r) => { console.log(r.table); }).catch((e) => { console.error(e); process.exit(1); });
}
