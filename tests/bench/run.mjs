#!/usr/bin/env node
// Benchmark runner (issue 7): starts each target on free loopback ports, drives the C load
// generator through the scenarios, prints one table with the ratio to nchan on every row.
//
//   node tests/bench/run.mjs [--loadgen PATH] [--out FILE.json]
//
// Environment:
//   BENCH_TARGETS    comma list, default "wspulse,nchan,ws" (a target that cannot start is reported);
//                    also wspulse-tls and nchan-tls: direct mode, the subscribers speak TLS to
//                    wspulsed itself / to nginx with `ssl` on nchan's listen (their ratios are
//                    to nchan-tls)
//   BENCH_SCENARIOS  comma list of fanout,scale,idle,latency,latency-busy,connscale,soak,
//                    nginx-debian,nginx,apache-debian,apache,pubrate (default: all); latency-busy
//                    is latency with a CPU-bound job (`yes`) beside; pubrate is the REST publish
//                    rate beside nchan's POST /pub with 1, 4 and 16 daemon workers
//                    (tests/bench/pubrate.mjs, its own table and BENCH_PUBRATE_* knobs)
//   BENCH_QUICK=1    smoke run of about 10 minutes here: smaller counts, shorter holds, fewer rounds
//   BENCH_SOAK_SECS, BENCH_SOAK_CLIENTS, BENCH_LAT_SECS, BENCH_LAT_ROUNDS, BENCH_IDLE_SECS,
//   BENCH_CONNSCALE
//                    override single figures (defaults are the issue's)
//   BENCH_LOADGEN    path of the loadgen binary (default: built next to this file or in $PWD)
//   BENCH_XCHECK=0   skip the second client that re-runs the fan-out, scale, latency and soak
//                    scenarios to cross-check loadgen's figures
//   BENCH_XCLIENT    which second client: lwsclient (default; tests/bench/lwsclient.c, built
//                    by make bench or here) or wsclient (tests/bench/wsclient.mjs, Node)
//   BENCH_LWSCLIENT  path of the lwsclient binary (default: built next to this file or in $PWD)
//   BENCH_LOADGEN_ARGS, BENCH_XCLIENT_ARGS
//                    extra arguments (split on spaces) for every loadgen / second-client run,
//                    e.g. BENCH_LOADGEN_ARGS='--coalesce-us 0' to see what the receiver's
//                    wake-ups cost a server
//   BENCH_WSCLIENT_THREADS  event-loop threads of the second client's subscribers (default 1)
//   BENCH_NGINX_SUBS, BENCH_APACHE_SUBS, BENCH_PROXY_MSGS
//                    sockets and broadcasts of the "behind nginx/Apache (recommended)" scenarios
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { envWithoutNginx, median, rotated } from './pubrate.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const argOf = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const env = process.env;
const quick = env.BENCH_QUICK === '1';
const num = (name, dflt, quickVal) => Number(env[name] ?? (quick ? quickVal : dflt));

// The issue's figures; BENCH_QUICK shrinks the durations and counts, never the shape.
const P = {
  fanout: { n: num('BENCH_FANOUT_SUBS', 1000, 1000), m: num('BENCH_FANOUT_MSGS', 5000, 200), k: 16 },
  scale: { n: num('BENCH_SCALE_SUBS', 15000, 15000), m: num('BENCH_SCALE_MSGS', 50, 10), k: 16 },
  idle: { n: num('BENCH_IDLE_SUBS', 15000, 15000), hold: num('BENCH_IDLE_SECS', 10, 2) },
  latency: { n: 1000, rate: 100, secs: num('BENCH_LAT_SECS', 10, 5), rounds: num('BENCH_LAT_ROUNDS', 5, 2) },
  connscale: { n: num('BENCH_CONNSCALE', 50000, 50000), m: 1 },
  soak: { n: num('BENCH_SOAK_CLIENTS', 5000, 1000), secs: num('BENCH_SOAK_SECS', 600, 20),
          frac: 0.1, rate: num('BENCH_SOAK_RATE', 20, 20) },
  // Issue 13: the shipped snippets in front, at Debian's defaults and at README's recommended
  // settings. The defaults scenarios open more sockets than the proxy can hold and report
  // how many it held and what a page request gets meanwhile.
  nginxDebian: { n: num('BENCH_NGINX_DEBIAN_SUBS', 2000, 2000), m: 1 },
  nginx: { n: num('BENCH_NGINX_SUBS', 15000, 15000), m: num('BENCH_PROXY_MSGS', 10, 2) },
  apacheDebian: { n: num('BENCH_APACHE_DEBIAN_SUBS', 200, 200), m: 1 },
  apache: { n: num('BENCH_APACHE_SUBS', 15000, 15000), m: num('BENCH_PROXY_MSGS', 10, 2) },
};
const PER_PROC = num('BENCH_PER_PROC', 19000, 19000); // RLIMIT_NOFILE is 20000 per process here
const targetsWanted = (env.BENCH_TARGETS || 'wspulse,nchan,ws').split(',').filter(Boolean);
const scenariosWanted = (env.BENCH_SCENARIOS
  || 'fanout,scale,idle,latency,latency-busy,connscale,soak,nginx-debian,nginx,apache-debian,apache,pubrate').split(',').filter(Boolean);
const outFile = argOf('--out') || env.BENCH_OUT || path.resolve('bench-results.json');

// A C client of tests/bench: --NAME, BENCH_<NAME>, built in $PWD or next to this file, or
// else built here into the temporary directory (the runner must work from a bare checkout
// too) with the flags of `libs` (pkg-config module names) and `extra` (linker flags).
function findClient(name, libs, extra) {
  const cands = [argOf(`--${name}`), env[`BENCH_${name.toUpperCase()}`], path.resolve(`tests/bench/${name}`), path.join(here, name)];
  for (const c of cands) if (c && fs.existsSync(c)) return c;
  const out = path.join(os.tmpdir(), `wsp-${name}-${process.getuid()}`);
  const flags = libs.length ? execFileSync('pkg-config', ['--cflags', '--libs', ...libs], { encoding: 'utf8' }).trim().split(/\s+/).filter(Boolean) : [];
  execFileSync('cc', ['-std=c11', '-O2', '-Wall', '-Wextra', '-o', out, path.join(here, `${name}.c`), ...flags, ...extra], { stdio: 'inherit' });
  return out;
}
const LOADGEN = findClient('loadgen', [], ['-lssl', '-lcrypto', '-lm']);

const XCLIENT = env.BENCH_XCLIENT || 'lwsclient';
if (!['lwsclient', 'wsclient'].includes(XCLIENT)) throw new Error(`BENCH_XCLIENT must be lwsclient or wsclient (got ${XCLIENT})`);
// The C second client (tests/bench/lwsclient.c, libwebsockets' client).
const LWSCLIENT = XCLIENT === 'lwsclient' && env.BENCH_XCHECK !== '0' ? findClient('lwsclient', ['libwebsockets'], ['-lpthread', '-lm']) : null;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const extraArgs = (name) => (env[name] || '').split(' ').filter(Boolean);

// Everything this runner starts, so an interrupted run leaves nothing behind: on SIGINT/SIGTERM
// the current target is stopped (its own stop(), which also stops PostgreSQL), then the rest
// is killed.
const spawned = new Set();
let currentTarget = null;
function track(child) {
  spawned.add(child);
  child.on('exit', () => spawned.delete(child));
  return child;
}
process.on('exit', () => { for (const c of spawned) try { c.kill('SIGKILL'); } catch { /* gone */ } });
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, async () => {
    log(`${sig}: stopping`);
    for (const c of spawned) if (c.spawnfile === LOADGEN || c.spawnfile === LWSCLIENT) try { c.kill('SIGKILL'); } catch { /* gone */ }
    try { if (currentTarget) await currentTarget.stop(); } catch { /* best effort */ }
    process.exit(130);
  });
}
const log = (...a) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...a);

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

async function waitPort(port, ms = 15000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const ok = await new Promise((r) => {
      const c = net.connect(port, '127.0.0.1', () => { c.destroy(); r(true); });
      c.on('error', () => r(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`port ${port} did not open`);
}

function childrenOf(pid) {
  const kids = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) kids.push(Number(d));
    } catch { /* gone */ }
  }
  return kids;
}

// Server CPU seconds (utime+stime) and VmRSS KiB, summed over pids.
function procRead(pids) {
  const tck = 100; // sysconf(_SC_CLK_TCK) on Linux
  let cpu = 0, rss = 0;
  for (const pid of pids) {
    try {
      const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      cpu += (Number(f[11]) + Number(f[12])) / tck;
      const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) rss += Number(m[1]);
    } catch { /* gone */ }
  }
  return { cpu, rss };
}

async function stopProc(child, ms = 5000) {
  if (!child || child.exitCode !== null || child.signalCode) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), ms);
  await done;
  clearTimeout(t);
}

// ------------------------------------------------------------------ targets
// start() resolves to { sub, pub, pubHeaders, wrap, soakSub, pids, note, stop() }.

const targets = {
  // tls: `ssl` on the subscribers' listen (a test certificate); publishes stay plain HTTP on a
  // second listen of the same nginx.
  async nchan(scenario, { tls = false } = {}) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsp-bench-nchan-'));
    const port = await freePort();
    const pubPort = tls ? await freePort() : port;
    const cert = tls ? (await wspulseStackLib()).makeTestCert(dir) : null;
    fs.writeFileSync(path.join(dir, 'nginx.conf'), `
load_module /usr/lib/nginx/modules/ngx_nchan_module.so;
worker_processes 1;
worker_rlimit_nofile 20000;
daemon off;
master_process on;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 20000; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  keepalive_requests 100000000;
  keepalive_timeout 600s;
  server {
    listen 127.0.0.1:${port}${tls ? ' ssl' : ''} backlog=4096;${tls ? `
    listen 127.0.0.1:${pubPort};
    ssl_certificate ${cert.certFile};
    ssl_certificate_key ${cert.keyFile};
    ssl_protocols TLSv1.2 TLSv1.3;` : ''}
    # Direct HTTP publish, WebSocket subscribers; no replay of buffered messages to newcomers.
    location = /pub { nchan_publisher; nchan_channel_id bench; }
    location = /sub { nchan_subscriber websocket; nchan_channel_id bench; nchan_subscriber_first_message newest; }
    location = /pubsub { nchan_pubsub websocket; nchan_channel_id bench; nchan_subscriber_first_message newest; }
  }
}
`);
    const child = track(spawn('nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')],
      { stdio: ['ignore', 'inherit', 'inherit'], env: envWithoutNginx() }));
    await waitPort(pubPort);
    let worker = [];
    for (let i = 0; i < 50 && worker.length === 0; i++) { worker = childrenOf(child.pid); if (!worker.length) await sleep(50); }
    const ws = tls ? 'wss' : 'ws';
    return {
      sub: `${ws}://127.0.0.1:${port}/sub`, soakSub: `${ws}://127.0.0.1:${port}/pubsub`,
      pub: `http://127.0.0.1:${pubPort}/pub`, pubHeaders: [], wrap: null,
      pids: [child.pid, ...worker],
      note: `nginx 1 worker + master, nchan HTTP publish${tls ? '; subscribers over TLS (ssl on the listen, TLS 1.2/1.3)' : ''}`,
      async stop() { await stopProc(child); fs.rmSync(dir, { recursive: true, force: true }); },
    };
  },

  async ws() {
    const nm = await ensureWs();
    const port = await freePort();
    const child = track(spawn(process.execPath, [path.join(nm, 'ws-server.mjs'), String(port)], { stdio: ['ignore', 'pipe', 'inherit'] }));
    await new Promise((resolve, reject) => {
      const rl = readline.createInterface({ input: child.stdout });
      rl.on('line', (l) => { if (l.startsWith('LISTENING')) resolve(); });
      child.on('exit', (c) => reject(new Error(`ws-server exited ${c}`)));
    });
    return {
      sub: `ws://127.0.0.1:${port}/sub`, soakSub: `ws://127.0.0.1:${port}/sub`,
      pub: `http://127.0.0.1:${port}/pub`, pubHeaders: [], wrap: null,
      pids: [child.pid], note: `node ${process.version} + ws, 1 process`,
      async stop() { await stopProc(child); },
    };
  },

  // The real stack, started by the integration tests' own library (PostgreSQL, wspulsed,
  // wspulse.fcgi, nginx). Subscribers connect to wspulsed directly (as nchan's subscribers
  // connect to nginx directly); publishes take the REST path: nginx → FastCGI → PostgreSQL
  // outbox + NOTIFY → wspulsed. CPU and RSS are wspulsed's (all its processes) only.
  async wspulse(scenario, { tls = false } = {}) {
    const stack = await wspulseStackLib();
    const workers = scenario === 'connscale' ? CONNSCALE_WORKERS : 1;
    const user = { name: 'bench', password: 'bench-password-1', roles: ['admin'] };
    const s = await stack.startStack({
      users: [user],
      tls,
      config: {
        namespace: BENCH_NS, log_level: 'warn', workers: String(workers),
        // The defaults guard a public server (1000 sockets per address); the load
        // generator is a handful of loopback addresses.
        max_connections_per_ip: '1000000',
      },
    });
    let pids = [s.daemon.pid];
    for (let i = 0; i < 100 && workers > 1 && pids.length < workers + 1; i++) {
      pids = [s.daemon.pid, ...childrenOf(s.daemon.pid)];
      if (pids.length < workers + 1) await sleep(50);
    }
    const t = {
      sub: `${tls ? 'wss' : 'ws'}://127.0.0.1:${s.daemonPort}${BENCH_NS}?uuid={uuid}`,
      pub: `${s.url}/api/1/websocket/publish`,
      pubHeaders: [`Authorization: Bearer ${s.token}`, 'Content-Type: application/json'],
      wrap: `{"namespace":"${BENCH_NS}","data":@MSG@}`,
      // nginx closes a keep-alive connection after keepalive_requests (1000) requests.
      pubPerConn: 1000,
      pids, note: `wspulsed ${workers} worker(s), publish via POST /api/1/websocket/publish (nginx → fcgi → PostgreSQL → daemon)${tls ? '; direct mode: subscribers speak TLS to wspulsed itself' : ''}`,
      stack: s,
      async stop() { await s.stop(); },
    };
    if (scenario === 'soak') {
      // Client traffic needs a namespace whose clients' messages are broadcast: the built-in
      // /api/1/ws/jpulse-ws-test echoes to every client of the namespace; it requires a login.
      const res = await fetch(`${s.url}/api/1/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: user.name, password: user.password }) });
      const cookie = (res.headers.get('set-cookie') || '').split(';')[0];
      if (!res.ok || !cookie) { await s.stop(); throw new Error(`login for the soak namespace failed: HTTP ${res.status}`); }
      t.soakSub = `${tls ? 'wss' : 'ws'}://127.0.0.1:${s.daemonPort}/api/1/ws/jpulse-ws-test?uuid={uuid}`;
      t.subHeaders = [`Cookie: ${cookie}`];
    }
    return t;
  },
};

targets['wspulse-tls'] = (scenario) => targets.wspulse(scenario, { tls: true });
targets['nchan-tls'] = (scenario) => targets.nchan(scenario, { tls: true });

const BENCH_NS = '/api/1/ws/bench';
const CONNSCALE_WORKERS = num('BENCH_CONNSCALE_WORKERS', 4, 4); // 20000 descriptors per process

// tests/integration/lib/stack.mjs, told where the build is (make bench sets BENCH_BUILDDIR).
async function wspulseStackLib() {
  const src = env.BENCH_SRCDIR || path.resolve(here, '../..');
  const build = env.BENCH_BUILDDIR || process.cwd();
  if (!fs.existsSync(path.join(build, 'src/wspulsed')))
    throw new Error(`no ${build}/src/wspulsed: build wspulse first (make bench does) or set BENCH_BUILDDIR`);
  env.WSPULSE_BUILDDIR ??= build;
  env.WSPULSE_SRCDIR ??= src;
  env.PG_BINDIR ??= fs.existsSync('/usr/lib/postgresql/15/bin') ? '/usr/lib/postgresql/15/bin' : '';
  return import(pathToFileURL(path.join(src, 'tests/integration/lib/stack.mjs')).href);
}

// The ws peer needs the npm package: use tests/bench/node_modules if present, else install it
// once into a cache directory from package-lock.json (npm ci), next to a copy of the server.
async function ensureWs() {
  if (fs.existsSync(path.join(here, 'node_modules', 'ws'))) return here;
  const dir = path.join(os.tmpdir(), `wsp-bench-node-${process.getuid()}`);
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ['package.json', 'package-lock.json', 'ws-server.mjs', 'wsclient.mjs']) fs.copyFileSync(path.join(here, f), path.join(dir, f));
  if (!fs.existsSync(path.join(dir, 'node_modules', 'ws'))) {
    log('installing npm ws into', dir);
    execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'inherit' });
  }
  return dir;
}

// ------------------------------------------------------------------ loadgen driver

// Runs loadgen, as several processes when n exceeds one process's descriptor limit. Process 0
// publishes; the others only subscribe. Each prints READY, waits for GO, prints its JSON, and
// keeps its sockets until told to exit, so the server's /proc figures cover the measured phase
// and nothing else. Returns the merged result.
// pubProc: the publishes come from a loadgen process of their own (no subscribers), the
// subscribers from the others with extra(1): in a bulk fan-out one event loop that both
// publishes and reads a million frames a second answers its publishes late, and the row
// then measures loadgen's publisher, not the server (BENCHMARKS.md).
async function loadgen(t, { n, extra = [], label, pubProc = false }) {
  const procs = Math.max(1, Math.ceil(n / PER_PROC));
  const per = Math.ceil(n / procs);
  const before = procRead(t.pids);
  const kids = [];
  const runs = Array.from({ length: procs }, (_, p) => ({ p, cnt: Math.min(per, n - p * per), ex: extra(pubProc ? 1 : p) }));
  // No subscriber in the publisher's process: nothing for --coalesce-us to gather.
  if (pubProc) runs.unshift({ p: 'pub', cnt: 0, ex: [...extra(0), '--coalesce-us', '0'] });
  for (const { p, cnt, ex } of runs) {
    const a = ['-n', String(cnt), '--wait-go', '--hist', '--label', `${label}#${p}`,
      '--src-base', `127.0.${p === 'pub' ? 99 : p + 1}.2`, '--src-count', '16', '--server-pid', t.pids.join(','),
      '--sub', t.sub, ...(t.subHeaders || []).flatMap((h) => ['--sub-header', h]),
      // A server out of descriptors leaves connections to time out one by one: give up early.
      '--max-fail', String(Math.max(500, Math.ceil(cnt / 10))), ...ex, ...extraArgs('BENCH_LOADGEN_ARGS')];
    const child = track(spawn(LOADGEN, a, { stdio: ['pipe', 'pipe', 'inherit'] }));
    const lines = [];
    let wake = null;
    readline.createInterface({ input: child.stdout }).on('line', (l) => { lines.push(l); if (wake) wake(); });
    const exited = new Promise((r) => child.on('exit', (code) => { r(code); if (wake) wake(); }));
    const next = async (pred) => {
      for (;;) {
        const i = lines.findIndex(pred);
        if (i >= 0) return lines.splice(i, 1)[0];
        if (child.exitCode !== null) throw new Error(`loadgen ${label}#${p} exited ${child.exitCode}`);
        await new Promise((r) => { wake = r; });
        wake = null;
      }
    };
    kids.push({ child, next, exited });
  }
  try {
    await Promise.all(kids.map((k) => k.next((l) => l.startsWith('READY'))));
    await sleep(1000);
    // A proxy in front (Apache) starts processes as sockets arrive: its pids are read now,
    // and its CPU is the runner's /proc window around the measured phase.
    const groups = t.groups ? Object.fromEntries(Object.entries(t.groups).map(([g, f]) => [g, f()])) : null;
    const pids = groups ? Object.values(groups).flat() : t.pids;
    const probe = t.probe ? await t.probe() : undefined;
    const connected = procRead(pids), connectedBy = groups && mapGroups(groups, procRead);
    for (const k of kids) k.child.stdin.write('GO\n');
    const results = await Promise.all(kids.map(async (k) => JSON.parse(await k.next((l) => l.startsWith('{')))));
    const after = procRead(pids), afterBy = groups && mapGroups(groups, procRead);
    for (const k of kids) k.child.stdin.end('EXIT\n');
    await Promise.all(kids.map((k) => k.exited));
    const r = merge(results, { before, connected, after, procs: kids.length, runnerWindow: !!groups });
    if (probe !== undefined) r.probe = probe;
    if (groups) {
      r.kib_per_conn = null;   // per group below: the proxy's processes appear while connecting
      r.groups = {};
      for (const g of Object.keys(groups)) {
        const cpu = afterBy[g].cpu - connectedBy[g].cpu;
        r.groups[g] = { pids: groups[g].length, cpu_s: cpu, cpu_us_per_delivery: r.received ? (cpu / r.received) * 1e6 : null,
          rss_kib: connectedBy[g].rss, kib_per_conn: r.open ? connectedBy[g].rss / r.open : null };
      }
    }
    return r;
  } finally {
    for (const k of kids) if (k.child.exitCode === null) k.child.kill('SIGKILL');
  }
}

function mapGroups(groups, f) {
  return Object.fromEntries(Object.entries(groups).map(([g, pids]) => [g, f(pids)]));
}

function merge(rs, { before, connected, after, procs, runnerWindow = false }) {
  const sum = (k) => rs.reduce((a, r) => a + (r[k] || 0), 0);
  const open = sum('open'), received = sum('received');
  const published = rs[0].published, sentWs = sum('sent_ws');
  const mode = rs[0].mode;
  const expected = mode === 'fanout' ? published * open : mode === 'soak' ? sentWs * open : 0;
  // A percentile of the processes' histograms added up (read: hist_us; arrival: arr_hist_us).
  const pctOf = (field) => {
    const hist = new Map();
    for (const r of rs) for (const [us, c] of r[field] || []) hist.set(us, (hist.get(us) || 0) + c);
    const keys = [...hist.keys()].sort((a, b) => a - b);
    const total = keys.reduce((a, k) => a + hist.get(k), 0);
    return (q) => {
      if (!total) return null;
      const want = Math.max(1, Math.ceil(q * total));
      let acc = 0;
      for (const k of keys) { acc += hist.get(k); if (acc >= want) return k / 1000; }
      return null;
    };
  };
  const pct = pctOf('hist_us'), arrPct = pctOf('arr_hist_us');
  const span = Math.max(...rs.map((r) => r.span_s));
  // One process: its own /proc window is the tightest. Several: the runner's, around all of them.
  const cpu = procs === 1 && !runnerWindow ? rs[0].server_cpu_s : after.cpu - connected.cpu;
  const kibConn = procs === 1 && !runnerWindow ? rs[0].kib_per_conn : open ? (connected.rss - before.rss) / open : null;
  return {
    mode, procs, subs: sum('subs'), open, failed: sum('failed'), retried: sum('retried'),
    connect_s: Math.max(...rs.map((r) => r.connect_s || 0)), published, publish_errors: rs[0].publish_errors,
    publish_s: rs[0].publish_s, publishes_per_s: rs[0].publish_s > 0 ? published / rs[0].publish_s : null,
    sent_ws: sentWs, expected, received, span_s: span, deliveries_per_s: span > 0 ? received / span : 0,
    lat_p50_ms: pct(0.5), lat_p99_ms: pct(0.99), lat_max_ms: Math.max(...rs.map((r) => r.lat_max_ms ?? 0)) || null,
    arr_p50_ms: arrPct(0.5), arr_p99_ms: arrPct(0.99), arr_max_ms: Math.max(...rs.map((r) => r.arr_max_ms ?? 0)) || null,
    server_cpu_s: cpu, cpu_us_per_delivery: received ? (cpu / received) * 1e6 : null,
    rss_before_kib: procs === 1 ? rs[0].rss_before_kib : before.rss,
    rss_conn_kib: procs === 1 ? rs[0].rss_conn_kib : connected.rss,
    rss_end_kib: procs === 1 ? rs[0].rss_end_kib : after.rss, kib_per_conn: kibConn,
    rss_warm_kib: rs[0].rss_warm_kib, rss_drift_pct: rs[0].rss_drift_pct,
    disconnects: sum('disconnects'), bad_frames: sum('bad_frames'),
  };
}

// ------------------------------------------------------------------ scenarios
// bulk: a burst fan-out. Its publishes come from a loadgen process of their own (loadgen's
// pubProc) and lwsclient reads it with its own frame reader (xcheck): both clients would
// otherwise measure themselves (BENCHMARKS.md, "Bulk fan-out with both clients agreeing").
// rounds (latency): run every target that many times, in turns (the order rotated each round),
// and report each figure's median over the rounds, with every round's p50 and p99 below the
// table: on a shared two-core machine one run of each is one sample of a moving tail.
// busy: a CPU-bound job (`yes`, one core's worth) runs beside the target and both clients.

const scenarios = {
  fanout: {
    title: `fan-out ${P.fanout.n}×${P.fanout.m}, K=${P.fanout.k}`,
    bulk: true,
    run: (t, sc) => loadgen(t, { n: P.fanout.n, label: 'fanout', pubProc: sc.bulk,
      extra: (p) => p === 0 ? pubArgs(t, ['-m', String(P.fanout.m), '-k', String(P.fanout.k)]) : ['--no-publish', '-m', String(P.fanout.m)] }),
    xcheck: { n: P.fanout.n, args: ['-m', String(P.fanout.m), '-k', String(P.fanout.k)] },
    rows: [['CPU µs/delivery', 'cpu_us_per_delivery', 2], ['deliveries/s', 'deliveries_per_s', 0],
           ['latency p99 ms', 'lat_p99_ms', 1], ['delivered', 'delivered']],
  },
  scale: {
    title: `fan-out at scale ${P.scale.n}×${P.scale.m}, K=${P.scale.k}`,
    bulk: true,
    run: (t, sc) => loadgen(t, { n: P.scale.n, label: 'scale', pubProc: sc.bulk,
      extra: (p) => p === 0 ? pubArgs(t, ['-m', String(P.scale.m), '-k', String(P.scale.k)]) : ['--no-publish', '-m', String(P.scale.m)] }),
    xcheck: { n: P.scale.n, args: ['-m', String(P.scale.m), '-k', String(P.scale.k)] },
    rows: [['CPU µs/delivery', 'cpu_us_per_delivery', 2], ['deliveries/s', 'deliveries_per_s', 0],
           ['latency p99 ms', 'lat_p99_ms', 1], ['delivered', 'delivered']],
  },
  idle: {
    title: `idle memory, ${P.idle.n} subscribers`,
    run: (t) => loadgen(t, { n: P.idle.n, label: 'idle', extra: () => ['--idle', String(P.idle.hold), '--settle', '2'] }),
    rows: [['RSS KiB/conn', 'kib_per_conn', 2], ['connections open', 'open', 0], ['disconnects', 'disconnects', 0]],
  },
  latency: latencyScenario(false),
  'latency-busy': latencyScenario(true),
  // All sockets at once, as after a daemon restart: each loadgen process keeps 256 connects
  // in flight (--conc), so the storm goes at the pace the server handshakes; a failed connect
  // is retried like jPulse.ws does (5 s, 10 s, 15 s ± 20 %), and the delivered row counts
  // the retries, the connects that failed for good and the sockets closed after opening.
  connscale: {
    title: `connection scale, ${P.connscale.n} sockets, 1 broadcast`,
    only: ['wspulse', 'wspulse-tls'],
    run: (t) => loadgen(t, { n: P.connscale.n, label: 'connscale',
      extra: (p) => ['--retry', '3', ...(p === 0 ? pubArgs(t, ['-m', '1', '-k', '1']) : ['--no-publish', '-m', '1'])] }),
    rows: [['sockets open', 'open', 0], ['delivered', 'delivered'], ['connect s (all sockets)', 'connect_s', 1],
           ['RSS KiB/conn', 'kib_per_conn', 2]],
  },
  'nginx-debian': proxied('nginx', 'debian', P.nginxDebian,
    `behind nginx at Debian's defaults (worker_connections 768), ${P.nginxDebian.n} sockets opened`),
  nginx: proxied('nginx', 'recommended', P.nginx,
    `behind nginx (recommended), ${P.nginx.n} sockets × ${P.nginx.m} broadcasts`),
  'apache-debian': proxied('apache', 'debian', P.apacheDebian,
    `behind Apache at Debian's defaults (MaxRequestWorkers 150), ${P.apacheDebian.n} sockets opened`),
  apache: proxied('apache', 'recommended', P.apache,
    `behind Apache (recommended), ${P.apache.n} sockets × ${P.apache.m} broadcasts`),
  soak: {
    title: `soak ${P.soak.secs}s, ${P.soak.n} clients, ${P.soak.rate} msg/s from ${P.soak.frac * 100}%`,
    run: (t) => loadgen(t, { n: P.soak.n, label: 'soak',
      extra: () => ['--soak', String(P.soak.secs), '--soak-frac', String(P.soak.frac), '--soak-rate', String(P.soak.rate)] }),
    xcheck: { n: P.soak.n, soak: true,
      args: ['--soak', String(P.soak.secs), '--soak-frac', String(P.soak.frac), '--soak-rate', String(P.soak.rate)] },
    rows: [['RSS drift % after warm-up', 'rss_drift_pct', 2], ['RSS at end KiB', 'rss_end_kib', 0],
           ['unexpected disconnects', 'disconnects', 0], ['latency p99 ms', 'lat_p99_ms', 1],
           ['CPU µs/delivery', 'cpu_us_per_delivery', 2], ['delivered', 'delivered']],
  },
};

// Issue 18, part 1: a steady stream, quiet or with a CPU-bound job beside both servers.
function latencyScenario(busy) {
  const a = ['-m', String(P.latency.rate * P.latency.secs), '-k', '16', '--rate', String(P.latency.rate)];
  return {
    title: `latency, ${P.latency.rate} publishes/s to ${P.latency.n} subs (${P.latency.rounds} × ${P.latency.secs}s`
      + `${busy ? ', a CPU-bound job beside' : ''}; medians)`,
    rounds: P.latency.rounds, busy,
    run: (t) => loadgen(t, { n: P.latency.n, label: 'latency', extra: () => pubArgs(t, a) }),
    // The second client reads with its own frame reader here too, for the arrival stamps
    // (lws's client does its own reads), at once after each wake-up, as loadgen does.
    xcheck: { n: P.latency.n, args: a, raw: true },
    rows: [['latency p50 ms', 'lat_p50_ms', 2], ['latency p99 ms', 'lat_p99_ms', 2], ['latency max ms', 'lat_max_ms', 1],
           ['arrival p50 ms', 'arr_p50_ms', 2], ['arrival p99 ms', 'arr_p99_ms', 2],
           ['publishes/s achieved', 'publishes_per_s', 1], ['CPU µs/delivery', 'cpu_us_per_delivery', 2], ['delivered', 'delivered']],
  };
}

// ------------------------------------------------------------------ proxies in front (issue 13)
//
// The shipped snippets (nginx/wspulse.conf, apache/wspulse.conf) in front of the wspulse stack,
// the subscribers connecting through the proxy as browsers do. Two settings each:
// 'debian' — the values of Debian 12's stock nginx.conf / mpm_event.conf; 'recommended' — the
// values README's "Capacity" section and nginx/wspulse-site.conf give. Every process on the
// delivery path is measured: the proxy's (master + workers / parent + children) and wspulsed's.

const FRONT = {
  nginx: {
    debian: { workerConnections: 768, rlimit: null },
    recommended: { workerConnections: 32768, rlimit: 65536 },
  },
  apache: {
    // StartServers MinSpareThreads MaxSpareThreads ThreadLimit ThreadsPerChild MaxRequestWorkers
    debian: { lines: 'StartServers 2\nMinSpareThreads 25\nMaxSpareThreads 75\nThreadLimit 64\nThreadsPerChild 25\nMaxRequestWorkers 150' },
    recommended: { lines: 'StartServers 2\nServerLimit 80\nMinSpareThreads 1024\nMaxSpareThreads 2048\nThreadLimit 256\nThreadsPerChild 256\nMaxRequestWorkers 16384' },
  },
};

async function frontNginx(s, preset) {
  const f = FRONT.nginx[preset];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsp-bench-front-'));
  const port = await freePort();
  const src = env.WSPULSE_SRCDIR;
  for (const x of ['fastcgi_params', 'mime.types']) fs.copyFileSync(`/etc/nginx/${x}`, path.join(dir, x));
  // Debian's nginx.conf (worker_processes auto, the events block), paths moved into dir.
  fs.writeFileSync(path.join(dir, 'nginx.conf'), `${process.getuid() === 0 ? 'user root root;' : ''}
worker_processes auto;
${f.rlimit ? `worker_rlimit_nofile ${f.rlimit};` : ''}
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections ${f.workerConnections}; }
http {
  sendfile on;
  tcp_nopush on;
  include mime.types;
  default_type application/octet-stream;
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  upstream wspulse_daemon { server 127.0.0.1:${s.daemonPort} max_fails=0; }
  upstream wspulse_fcgi { server 127.0.0.1:${s.fcgiPort} max_fails=0; keepalive 16; }
  map $host $wspulse_www { default ${path.join(src, 'www')}; }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    root ${path.join(src, 'www')};
    include ${path.join(src, 'nginx/wspulse.conf')};
  }
}
`);
  const child = track(spawn(env.NGINX && env.NGINX !== 'no' ? env.NGINX : 'nginx',
    ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')],
    { stdio: ['ignore', 'inherit', 'inherit'], env: envWithoutNginx() }));
  await waitPort(port);
  let workers = [];
  for (let i = 0; i < 100 && workers.length < os.availableParallelism(); i++) { workers = childrenOf(child.pid); await sleep(50); }
  return {
    url: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}`, note: `nginx ${workers.length} workers, worker_connections ${f.workerConnections}`,
    pids: () => [child.pid, ...childrenOf(child.pid)],
    log: () => { try { return fs.readFileSync(path.join(dir, 'error.log'), 'utf8'); } catch { return ''; } },
    async stop() { await stopProc(child); fs.rmSync(dir, { recursive: true, force: true }); },
  };
}

async function frontApache(s, preset) {
  const f = FRONT.apache[preset];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsp-bench-front-'));
  fs.chmodSync(dir, 0o755);
  const port = await freePort();
  const src = env.WSPULSE_SRCDIR, build = env.WSPULSE_BUILDDIR;
  const mods = ['mpm_event', 'authz_core', 'dir', 'mime', 'alias', 'proxy', 'proxy_http', 'proxy_fcgi', 'proxy_wstunnel'];
  fs.writeFileSync(path.join(dir, 'apache2.conf'), `ServerRoot "${dir}"
${mods.map((m) => `LoadModule ${m}_module /usr/lib/apache2/modules/mod_${m}.so`).join('\n')}
${process.getuid() === 0 ? 'User www-data\nGroup www-data' : ''}
Listen 127.0.0.1:${port}
ListenBacklog 4096
ServerName 127.0.0.1
PidFile "${dir}/apache2.pid"
ErrorLog "${dir}/error.log"
LogLevel warn
Mutex file:${dir} default
DefaultRuntimeDir "${dir}"
TypesConfig /etc/mime.types
Timeout 300
KeepAlive On
MaxConnectionsPerChild 0
${f.lines}
Define WSPULSE_DAEMON 127.0.0.1:${s.daemonPort}
Define WSPULSE_FCGI 127.0.0.1:${s.fcgiPort}
Define WSPULSE_WWW ${path.join(src, 'www')}
DocumentRoot "${path.join(src, 'www')}"
<Directory "${path.join(src, 'www')}">
    Require all granted
</Directory>
Include "${path.join(build, 'apache/wspulse.conf')}"
`);
  const child = track(spawn('/usr/sbin/apache2', ['-f', path.join(dir, 'apache2.conf'), '-DFOREGROUND'], { stdio: ['ignore', 'inherit', 'inherit'] }));
  await waitPort(port);
  return {
    url: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}`, note: `Apache event MPM: ${f.lines.replace(/\n/g, ', ')}`,
    pids: () => [child.pid, ...childrenOf(child.pid)],
    log: () => { try { return fs.readFileSync(path.join(dir, 'error.log'), 'utf8'); } catch { return ''; } },
    async stop() { await stopProc(child, 10000); fs.rmSync(dir, { recursive: true, force: true }); },
  };
}

// A page request while the sockets are held: what every other visitor of the site gets.
async function probePage(url) {
  const t0 = Date.now();
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(10000) });
    await r.text();
    return `HTTP ${r.status} in ${Date.now() - t0} ms`;
  } catch (e) {
    return `${e.cause?.code || e.name} after ${Date.now() - t0} ms`;
  }
}

function proxied(kind, preset, p, title) {
  return {
    title, only: ['wspulse'],
    async run(t) {
      const front = await (kind === 'nginx' ? frontNginx : frontApache)(t.stack, preset);
      log(`${title}: ${front.note}`);
      try {
        const sub = `${front.ws}${BENCH_NS}?uuid={uuid}`;
        const daemonPids = t.pids;
        const r = await loadgen({ ...t, sub, groups: { [kind]: front.pids, wspulsed: () => daemonPids },
          probe: () => probePage(`${front.url}/jpulse-ws.js`) }, { n: p.n, label: `${kind}-${preset}`,
          extra: (q) => q === 0 ? pubArgs(t, ['-m', String(p.m), '-k', '16']) : ['--no-publish', '-m', String(p.m)] });
        r.front = front.note;
        r.cpu_us_front = r.groups[kind].cpu_us_per_delivery;
        r.cpu_us_daemon = r.groups.wspulsed.cpu_us_per_delivery;
        r.kib_front = r.groups[kind].kib_per_conn;
        r.front_procs = r.groups[kind].pids;
        const errs = front.log().split('\n').filter((l) => /\[(alert|crit|emerg|error)\]|AH\d+/.test(l));
        r.front_errors = errs.length;
        if (errs.length) r.front_error_sample = errs.slice(-3);
        return r;
      } finally { await front.stop(); }
    },
    // At Debian's defaults the figure is where it breaks; one broadcast is too little to time.
    rows: [['sockets held', 'open', 0], ['delivered', 'delivered'], ['page GET while held', 'probe'],
           ...(preset === 'debian' ? [] : [['CPU µs/delivery, all on the path', 'cpu_us_per_delivery', 2],
             [`CPU µs/delivery, ${kind}`, 'cpu_us_front', 2], ['CPU µs/delivery, wspulsed', 'cpu_us_daemon', 2]]),
           [`RSS KiB/socket, ${kind} (all its processes ÷ sockets)`, 'kib_front', 1], [`${kind} processes`, 'front_procs', 0]],
  };
}

// ------------------------------------------------------------------ the second client (issue 18)
//
// The second client shares no code with loadgen and runs the same scenario on the same server
// instance right after loadgen has closed its sockets; the table shows its figures under
// loadgen's and whether the two agree within XCHECK_TOL. BENCH_XCLIENT picks it:
//   lwsclient (default)  tests/bench/lwsclient.c: libwebsockets' client for the subscribers, its
//                        own blocking HTTP/1.1 publisher thread, its own stamp and percentiles;
//                        in the bulk fan-out scenarios its own epoll frame reader (--engine raw)
//   wsclient             tests/bench/wsclient.mjs: npm ws subscribers, Node's http client; its one
//                        JavaScript thread saturates at 100 000 frames/s on this machine, so
//                        its latency rows carry its own queue (BENCHMARKS.md)
// Both take the same command line and print the same JSON line.
const XCHECK_KEYS = ['deliveries_per_s', 'lat_p50_ms', 'lat_p99_ms', 'lat_max_ms', 'arr_p50_ms', 'arr_p99_ms', 'publishes_per_s',
  'cpu_us_per_delivery'];
const XCHECK_TOL = 0.2;
const xcheckWanted = env.BENCH_XCHECK !== '0';

async function xcheck(t, spec, bulk = false) {
  const common = ['-n', String(spec.n), '--src-base', '127.0.100.2', '--src-count', '16',
    '--server-pid', t.pids.join(','), '--sub', spec.soak ? t.soakSub : t.sub,
    '--threads', String(num('BENCH_WSCLIENT_THREADS', 1, 1)),
    ...(t.subHeaders || []).flatMap((h) => ['--sub-header', h]), ...spec.args, ...extraArgs('BENCH_XCLIENT_ARGS')];
  if (!spec.soak) {
    common.push('--pub', t.pub);
    for (const h of t.pubHeaders) common.push('--pub-header', h);
    if (t.wrap) common.push('--wrap', t.wrap);
  }
  // The bulk fan-out rows drain bursts faster than libwebsockets' client parses frames
  // (~1 M/s here): lwsclient reads them with its own engine there (plain ws:// only).
  if (XCLIENT === 'lwsclient' && (bulk || spec.raw) && !spec.soak && /^ws:/.test(t.sub)) {
    common.push('--engine', 'raw');
    if (spec.coalesceUs !== undefined) common.push('--coalesce-us', String(spec.coalesceUs));
  }
  const [cmd, a] = XCLIENT === 'lwsclient' ? [LWSCLIENT, common]
    : [process.execPath, [path.join(await ensureWs(), 'wsclient.mjs'), ...common]];
  const child = track(spawn(cmd, a, { stdio: ['ignore', 'pipe', 'inherit'] }));
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  const code = await new Promise((r) => child.on('exit', r));
  const line = out.split('\n').find((l) => l.startsWith('{'));
  if (code !== 0 || !line) throw new Error(`${XCLIENT} exited ${code}`);
  return JSON.parse(line);
}

// How far apart two clients' figures are, as a fraction of the larger one.
function disagreement(a, b) {
  if (typeof a !== 'number' || typeof b !== 'number') return null;
  const m = Math.max(Math.abs(a), Math.abs(b));
  return m === 0 ? 0 : Math.abs(a - b) / m;
}

// K publishes in flight are K connections, as the second client has them: a proxy takes
// one connection's pipelined requests one at a time, so one pipelined connection would put
// one publish at a time into a proxied publish API (BENCHMARKS.md).
function pubArgs(t, extra) {
  const k = extra.indexOf('-k');
  const a = ['--pub', t.pub, ...extra, ...(k >= 0 ? ['--pub-conns', String(Math.min(64, Number(extra[k + 1])))] : [])];
  for (const h of t.pubHeaders) a.push('--pub-header', h);
  if (t.wrap) a.push('--wrap', t.wrap);
  if (t.pubPerConn) a.push('--pub-per-conn', String(t.pubPerConn));
  return a;
}

// ------------------------------------------------------------------ main

const fmt = (v, d) => v === null || v === undefined || Number.isNaN(v) ? '—'
  : d === 0 ? Math.round(v).toLocaleString('en-US') : Number(v).toFixed(d);

// One target through one scenario: start it, loadgen, the second client, stop it.
async function runOne(sname, sc, tname, what, notes) {
  let t = null, busy = null;
  try {
    log(`${sc.title} — ${tname}${what}: starting`);
    t = currentTarget = await targets[tname](sname);
    notes[tname] = t.note;
    if (sc.busy) busy = track(spawn('sh', ['-c', 'exec yes > /dev/null'], { stdio: 'ignore' }));
    const load0 = os.loadavg()[0];
    const r = await sc.run(sname === 'soak' ? { ...t, sub: t.soakSub } : t, sc);
    if (sc.xcheck && xcheckWanted) {
      log(`${sc.title} — ${tname}${what}: second client (${XCLIENT})`);
      try {
        r.xcheck = await xcheck(t, sc.xcheck, sc.bulk);
      } catch (e) {
        r.xcheck = { error: String(e.message || e) };
      }
    }
    // The machine is shared: keep the 1-minute load average around each run with its figures.
    r.loadavg = [load0, os.loadavg()[0]];
    log(`${sc.title} — ${tname}${what}: ${JSON.stringify(r)}`);
    return r;
  } catch (e) {
    log(`${sc.title} — ${tname}${what}: FAILED ${e.message || e}`);
    return { error: String(e.message || e) };
  } finally {
    if (busy) { busy.kill('SIGKILL'); await new Promise((res) => (busy.exitCode !== null || busy.signalCode ? res() : busy.on('exit', res))); }
    if (t) await t.stop();
    currentTarget = null;
  }
}

// Several rounds of one target: each number its median over the rounds that ran (an error in
// any round is the result's error, so nothing is hidden), the rounds kept in `rounds`.
function medianOf(rs) {
  const bad = rs.find((r) => r.error);
  if (bad) return { error: `${rs.filter((r) => r.error).length} of ${rs.length} rounds failed: ${bad.error}`, rounds: rs };
  const pick = (objs) => {
    const out = {};
    for (const k of Object.keys(objs[0])) {
      const vs = objs.map((o) => o[k]);
      // Counts add up over the rounds (every delivery of every round is in "delivered").
      if (['expected', 'received', 'failed', 'retried', 'disconnects', 'publish_errors', 'published'].includes(k)) out[k] = vs.reduce((a, v) => a + (v || 0), 0);
      else if (typeof vs[0] === 'number') out[k] = median(vs);
      else out[k] = vs[0];
    }
    return out;
  };
  const r = pick(rs.map(({ xcheck, rounds, ...rest }) => rest));
  const xs = rs.map((x) => x.xcheck).filter(Boolean);
  if (xs.length) r.xcheck = xs.find((x) => x.error) ? { error: xs.find((x) => x.error).error } : pick(xs);
  r.rounds = rs;
  return r;
}

async function main() {
  log(`loadgen ${LOADGEN}; targets ${targetsWanted.join(',')}; scenarios ${scenariosWanted.join(',')}${quick ? ' (BENCH_QUICK)' : ''}`);
  const results = {}; // scenario -> target -> result | {error}
  const notes = {};
  let pubrate = null;
  for (const sname of scenariosWanted) {
    if (sname === 'pubrate') {
      // ab against both servers, its own stacks and table (tests/bench/pubrate.mjs).
      log('REST publish rate beside nchan (pubrate): starting');
      try {
        pubrate = await (await import('./pubrate.mjs')).run();
      } catch (e) {
        pubrate = { error: String(e.message || e) };
        log(`pubrate: FAILED ${e.message || e}`);
      }
      continue;
    }
    const sc = scenarios[sname];
    if (!sc) throw new Error(`unknown scenario ${sname}`);
    results[sname] = {};
    const wanted = targetsWanted.filter((tname) => !sc.only || sc.only.includes(tname));
    const rounds = Math.max(1, sc.rounds || 1);
    const perRound = Object.fromEntries(wanted.map((tname) => [tname, []]));
    for (let round = 0; round < rounds; round++) {
      // Each round in turn, the order rotated, so no target always runs first.
      for (const tname of rotated(wanted, round)) {
        const r = await runOne(sname, sc, tname, rounds > 1 ? ` (round ${round + 1} of ${rounds})` : '', notes);
        perRound[tname].push(r);
      }
    }
    for (const tname of wanted) results[sname][tname] = rounds > 1 ? medianOf(perRound[tname]) : perRound[tname][0];
  }
  fs.writeFileSync(outFile, JSON.stringify({ date: new Date().toISOString(), quick, params: P, notes, results,
    ...(pubrate ? { pubrate: pubrate.rows || pubrate } : {}) }, null, 2));
  log(`raw results in ${outFile}`);
  printTable(results);
  if (pubrate) console.log(`\nREST publish rate, ab -k -c 16 (POST /api/1/websocket/publish vs nchan POST /pub):\n${pubrate.table || `error: ${pubrate.error}`}`);
}

function printTable(results) {
  const cols = targetsWanted;
  const lines = [];
  lines.push(`| scenario | figure | ${cols.join(' | ')} |`);
  lines.push(`|---|---|${cols.map(() => '---:').join('|')}|`);
  for (const [sname, byTarget] of Object.entries(results)) {
    const sc = scenarios[sname];
    sc.rows.forEach(([label, key, dec], i) => {
      const cells = cols.map((c) => {
        const r = byTarget[c];
        const base = c.endsWith('-tls') ? byTarget['nchan-tls'] : byTarget.nchan;
        if (!r) return 'n/a';
        if (r.error) return i === 0 ? `error: ${r.error.slice(0, 60)}` : '';
        // Every socket that did not make it, and every connect that needed a second try.
        if (key === 'delivered') return `${fmt(r.received, 0)} / ${fmt(r.expected, 0)}`
          + (r.failed ? `, ${r.failed} conn failed` : '') + (r.retried ? `, ${r.retried} connects retried` : '')
          + (r.disconnects ? `, ${r.disconnects} closed after opening` : '')
          + (r.publish_errors ? `, ${r.publish_errors} publish errors` : '');
        const v = r[key];
        if (typeof v === 'string') return v;
        let s = fmt(v, dec);
        if (base && !base.error && typeof v === 'number' && typeof base[key] === 'number' && base[key] !== 0)
          s += ` (${(v / base[key]).toFixed(2)}×)`;
        return s;
      });
      lines.push(`| ${i === 0 ? sc.title : ''} | ${label} | ${cells.join(' | ')} |`);
      if (!XCHECK_KEYS.includes(key) || !sc.xcheck || !xcheckWanted) return;
      const xcells = cols.map((c) => {
        const r = byTarget[c];
        if (!r || r.error) return '';
        const x = r.xcheck;
        if (!x) return 'n/a';
        if (x.error) return `error: ${x.error.slice(0, 60)}`;
        const d = disagreement(r[key], x[key]);
        return `${fmt(x[key], dec)}`
          + (d === null ? '' : d <= XCHECK_TOL ? ` (agrees, Δ ${Math.round(d * 100)} %)` : ` (**differs, Δ ${Math.round(d * 100)} %**)`);
      });
      lines.push(`|  | ${label}, second client | ${xcells.join(' | ')} |`);
    });
  }
  for (const [sname, byTarget] of Object.entries(results)) lines.push(...roundLines(scenarios[sname], byTarget));
  const loads = Object.values(results).flatMap((bt) => Object.values(bt))
    .flatMap((r) => (r.rounds || [r])).filter((r) => r.loadavg).flatMap((r) => r.loadavg);
  if (loads.length) lines.push('', `1-minute load average around the runs: ${Math.min(...loads).toFixed(2)} – ${Math.max(...loads).toFixed(2)} (2 cores; loadgen + server account for about 2)`);
  console.log(lines.join('\n'));
}

// Below the table, for a scenario run in rounds: every round's p50 / p99 with both clients, and
// issue 18's part-1 target (wspulse's p50 ≤ nchan's + 3 ms and its p99 ≤ nchan's), judged in
// each round (the two ran a minute apart) and on the medians.
function roundLines(sc, byTarget) {
  const rounded = Object.entries(byTarget).filter(([, r]) => r.rounds);
  if (!sc.rounds || !rounded.length) return [];
  const two = (v) => (typeof v === 'number' ? v.toFixed(1) : '—');
  const pair = (x, k50, k99) => `${two(x[k50])} / ${two(x[k99])}`;
  const both = (x, k50, k99) => `${pair(x, k50, k99)} | ${x.xcheck && !x.xcheck.error ? pair(x.xcheck, k50, k99) : '—'}`;
  const lines = ['', `${sc.title}, every round: p50 / p99 ms, loadgen | second client; read, then arrival`];
  for (const [tname, r] of rounded)
    lines.push(`- ${tname}: ${r.rounds.map((x) => x.error ? 'error'
      : `${both(x, 'lat_p50_ms', 'lat_p99_ms')}; arrival ${both(x, 'arr_p50_ms', 'arr_p99_ms')}`).join(' — ')}`);
  const w = byTarget.wspulse, n = byTarget.nchan;
  if (!w?.rounds || !n?.rounds) return lines;
  const R = Math.min(w.rounds.length, n.rounds.length);
  const yes = (b) => (b ? 'met' : '**not met**');
  const second = w.xcheck && n.xcheck;   // absent with BENCH_XCHECK=0: not run, not "not met"
  // Judged on the read (the client's clock when it had the frame) and on the arrival (the
  // kernel's stamp when the frame reached the subscriber's socket).
  for (const [what, k50, k99] of [['read', 'lat_p50_ms', 'lat_p99_ms'], ['arrival', 'arr_p50_ms', 'arr_p99_ms']]) {
    const meets = (a, b) => a && b && !a.error && !b.error && typeof a[k50] === 'number' && typeof b[k50] === 'number'
      && a[k50] <= b[k50] + 3 && a[k99] <= b[k99];
    const count = (f) => w.rounds.filter((x, i) => meets(f(x), f(n.rounds[i]))).length;
    lines.push(`- ${what}: wspulse p50 ≤ nchan's + 3 ms and p99 ≤ nchan's: loadgen ${count((x) => x)} of ${R} rounds`
      + `${second ? `, second client ${count((x) => x.xcheck)} of ${R}` : ''}; on the medians: loadgen ${yes(meets(w, n))}`
      + `${second ? `, second client ${yes(meets(w.xcheck, n.xcheck))}` : ' (second client not run)'}`);
  }
  return lines;
}

main().catch((e) => { console.error(e); process.exit(1); });
