// wsclient.mjs — the benchmarks' second load client (issue 18): it shares no code with
// loadgen.c, so a figure both clients agree on is the server's, not a client artefact.
//
// WebSocket subscribers are npm `ws` clients; publishes are Node's own http.request on a
// keep-alive agent with at most K sockets (one request in flight per socket, never pipelined,
// as independent publishers would send them). A message is {"wsc":<µs since the epoch>,"q":<seq>,
// "pad":"…"}; a received text frame that contains "wsc": (plain or JSON-escaped) is a delivery
// and its latency is the receive time minus that stamp, taken on the same clock.
//
//   node wsclient.mjs --sub URL [--pub URL] [options]      (prints one JSON line on stdout)
//
//   --sub URL            ws:// URL of the subscribers; {uuid} becomes a per-socket id
//   --sub-header 'H: v'  extra handshake header (repeatable)
//   --pub URL            http:// URL to POST messages to (fan-out mode)
//   --pub-header 'H: v'  extra publish header (repeatable)
//   --wrap TEMPLATE      publish body template, @MSG@ is replaced by the message JSON
//   -n N                 subscribers           -m M   messages to publish
//   -k K                 publishes in flight at most (K keep-alive connections)
//   --rate R             publish at R/s (open loop, still at most K in flight)
//   --soak S --soak-frac F --soak-rate R
//                        soak mode: for S s, F of the subscribers send messages through their
//                        WebSocket at R/s in total; every delivery is timed the same way
//   --server-pid P[,P]   server processes whose utime+stime is read around the measured phase
//   --src-base A.B.C.D --src-count N   local addresses to spread the sockets over
//   --threads T          spread the subscribers over T worker threads, each with its own event
//                        loop (default 1).  More threads take a burst of 1 000 frames in parallel
//                        on a machine with cores to spare; on this 2-core one they took the CPU
//                        the server needed (BENCHMARKS.md, issue 18)
import http from 'node:http';
import fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';

const argv = isMainThread ? process.argv.slice(2) : [];
const o = isMainThread ? { n: 100, m: 100, k: 16, rate: 0, size: 100, subHeaders: [], pubHeaders: [], pids: [],
  srcBase: '127.0.0.2', srcCount: 16, quiet: 5, timeout: 600, soak: 0, soakFrac: 0.1, soakRate: 20, conc: 200,
  threads: 1 } : workerData.o;
for (let i = 0; i < argv.length; i++) {
  const a = argv[i], v = () => argv[++i];
  switch (a) {
  case '--sub': o.sub = v(); break;
  case '--sub-header': o.subHeaders.push(v()); break;
  case '--pub': o.pub = v(); break;
  case '--pub-header': o.pubHeaders.push(v()); break;
  case '--wrap': o.wrap = v(); break;
  case '-n': o.n = Number(v()); break;
  case '-m': o.m = Number(v()); break;
  case '-k': o.k = Number(v()); break;
  case '--rate': o.rate = Number(v()); break;
  case '--size': o.size = Number(v()); break;
  case '--soak': o.soak = Number(v()); break;
  case '--soak-frac': o.soakFrac = Number(v()); break;
  case '--soak-rate': o.soakRate = Number(v()); break;
  case '--server-pid': o.pids = v().split(',').map(Number); break;
  case '--src-base': o.srcBase = v(); break;
  case '--src-count': o.srcCount = Number(v()); break;
  case '--quiet': o.quiet = Number(v()); break;
  case '--timeout': o.timeout = Number(v()); break;
  case '--threads': o.threads = Math.max(1, Number(v())); break;
  default: console.error(`wsclient: unknown argument ${a}`); process.exit(2);
  }
}
if (isMainThread && (!o.sub || (!o.soak && !o.pub))) { console.error('wsclient: needs --sub and --pub (or --soak)'); process.exit(2); }

const nowUs = () => (performance.timeOrigin + performance.now()) * 1000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const hdrs = (list) => Object.fromEntries(list.map((h) => { const i = h.indexOf(':'); return [h.slice(0, i).trim(), h.slice(i + 1).trim()]; }));

function cpuOf(pids) {
  let s = 0;
  for (const p of pids) {
    try {
      const st = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      s += (Number(f[11]) + Number(f[12])) / 100;
    } catch { /* gone */ }
  }
  return s;
}

// Latencies in µs, kept whole (a few million doubles at most) and sorted once at the end.
// The stamp is found in the frame's bytes (no string made of every frame).
let lat = new Float64Array(1 << 20), nlat = 0, firstAt = 0, lastAt = 0;
const KEY = Buffer.from('wsc');
function stampOf(b) {
  const i = b.indexOf(KEY);
  if (i < 0) return -1;
  let j = i + 3, v = 0;
  while (j < b.length && (b[j] < 0x30 || b[j] > 0x39)) { if (j > i + 6) return -1; j++; }   // '":' or '\\":'
  const d = j;
  while (j < b.length && b[j] >= 0x30 && b[j] <= 0x39) v = v * 10 + (b[j++] - 0x30);
  return j > d ? v : -1;
}
function onFrame(data, isBinary) {
  if (isBinary) return;
  const t = nowUs();
  const st = stampOf(Buffer.isBuffer(data) ? data : Buffer.from(data));
  if (st < 0) return;
  if (nlat === lat.length) { const b = new Float64Array(lat.length * 2); b.set(lat); lat = b; }
  lat[nlat++] = t - st;
  if (!firstAt || t < firstAt) firstAt = t;
  if (t > lastAt) lastAt = t;
  if (counter) Atomics.add(counter, 0, 1);
}
let counter = null;   // shared with the main thread: deliveries so far

let seq = 0;
function message() {
  const head = `{"wsc":${Math.round(nowUs())},"q":${seq++},"pad":"`;
  return `${head}${'x'.repeat(Math.max(0, o.size - head.length - 2))}"}`;
}

// Subscribers, at most o.conc handshakes at a time (per thread).
const [b0, b1, b2, b3] = o.srcBase.split('.').map(Number);
const socks = [];
let failed = 0, disconnects = 0, measuring = false;
function openOne(i) {
  return new Promise((resolve) => {
    const url = o.sub.replace('{uuid}', randomUUID());
    const ws = new WebSocket(url, { headers: hdrs(o.subHeaders), perMessageDeflate: false, rejectUnauthorized: false,
      skipUTF8Validation: true, localAddress: `${b0}.${b1}.${b2}.${b3 + (i % o.srcCount)}`, handshakeTimeout: 10000 });
    ws.on('open', () => { socks.push(ws); resolve(); });
    ws.on('message', onFrame);
    ws.on('error', () => { });
    ws.on('close', () => { if (measuring) disconnects++; resolve(); });
    ws.on('unexpected-response', (req, res) => { failed++; res.resume(); resolve(); });
  });
}
async function openAll(from, count) {
  let next = from;
  await Promise.all(Array.from({ length: Math.min(o.conc, count) }, async () => {
    while (next < from + count) await openOne(next++);
  }));
}

// A worker thread: open its share, report, take part in the measured phase, hand over its
// latencies at the end.  (The soak's senders are the main thread's own sockets.)
if (!isMainThread) {
  const inbox = [];
  let waiter = null;
  parentPort.on('message', (m) => { if (waiter) { const w = waiter; waiter = null; w(m); } else inbox.push(m); });
  const recv = () => (inbox.length ? Promise.resolve(inbox.shift()) : new Promise((r) => { waiter = r; }));
  counter = new Int32Array(workerData.counter);
  await openAll(workerData.from, workerData.count);
  parentPort.postMessage({ open: socks.length });
  await recv();   // start
  measuring = true;
  await recv();   // stop
  measuring = false;
  const l = lat.slice(0, nlat);
  parentPort.postMessage({ lat: l, firstAt, lastAt, disconnects }, [l.buffer]);
  for (const s of socks) s.terminate();
  await recv();   // exit
  process.exit(0);
}

// The main thread keeps the soak's senders (and with --threads 1 every socket); the others
// go to the worker threads.
const workers = [];
const shared = new SharedArrayBuffer(4);
counter = new Int32Array(shared);
const nThreads = o.soak ? 1 : Math.min(o.threads, o.n);
const t0c = Date.now();
{
  const per = Math.floor(o.n / nThreads), ready = [];
  for (let w = 1; w < nThreads; w++) {
    const count = w === nThreads - 1 ? o.n - per * (nThreads - 1) : per;
    const wk = new Worker(new URL(import.meta.url), { workerData: { o, from: per * w, count, counter: shared } });
    workers.push(wk);
    ready.push(new Promise((r) => wk.once('message', r)));
  }
  await openAll(0, per);
  const opened = await Promise.all(ready);
  failed = o.n - socks.length - opened.reduce((a, x) => a + x.open, 0);
}
const nOpen = o.n - failed;
const connectS = (Date.now() - t0c) / 1000;
await sleep(1000);

// The measured phase.
measuring = true;
for (const wk of workers) wk.postMessage('start');
const cpu0 = cpuOf(o.pids);
const tStart = nowUs();
let published = 0, pubErrors = 0, pubDoneAt = 0, sentWs = 0;

if (o.soak) {
  const senders = socks.filter((_, i) => i % Math.max(1, Math.round(1 / o.soakFrac)) === 0);
  const t0 = performance.now();
  while (performance.now() - t0 < o.soak * 1000) {
    const due = Math.floor(((performance.now() - t0) / 1000) * o.soakRate);
    while (sentWs < due) {
      const s = senders[sentWs % senders.length];
      if (s.readyState === WebSocket.OPEN) s.send(message());
      sentWs++;
    }
    await sleep(Math.max(1, Math.min(50, 1000 / o.soakRate)));
  }
} else {
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.k });
  const u = new URL(o.pub);
  const headers = hdrs(o.pubHeaders);
  let inflight = 0, wake = null;
  const post = () => new Promise((resolve) => {
    const msg = message();
    const body = o.wrap ? o.wrap.replace('@MSG@', msg) : msg;
    inflight++;
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: 'POST', agent,
      headers: { ...headers, 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => { if (res.statusCode >= 200 && res.statusCode < 300) published++; else pubErrors++; done(); });
    });
    let fin = false;
    const done = () => { if (fin) return; fin = true; inflight--; resolve(); if (wake) { const w = wake; wake = null; w(); } };
    req.on('error', () => { pubErrors++; done(); });
    req.end(body);
  });
  const pending = [];
  for (let i = 0; i < o.m; i++) {
    while (inflight >= o.k) await new Promise((r) => { wake = r; });
    if (o.rate > 0) {
      const due = tStart / 1000 + (i * 1000) / o.rate - (performance.timeOrigin + performance.now());
      if (due > 0) await sleep(due);
    }
    pending.push(post());
  }
  await Promise.all(pending);
  pubDoneAt = nowUs();
  agent.destroy();
}

// Wait for every delivery, or until nothing arrives for o.quiet seconds.
const want = () => (o.soak ? sentWs : published) * nOpen;
const got = () => Atomics.load(counter, 0);
const endAt = performance.now() + o.timeout * 1000;
for (let last = got(), lastChange = performance.now(); got() < want() && performance.now() < endAt;) {
  await sleep(20);
  if (got() !== last) { last = got(); lastChange = performance.now(); }
  else if (performance.now() - lastChange > o.quiet * 1000) break;
}
const cpu = cpuOf(o.pids) - cpu0;
measuring = false;
// Every thread's latencies, merged (not percentiles averaged).
const parts = await Promise.all(workers.map((wk) => new Promise((r) => { wk.once('message', r); wk.postMessage('stop'); })));
for (const p of parts) {
  if (nlat + p.lat.length > lat.length) { const b = new Float64Array(nlat + p.lat.length); b.set(lat.subarray(0, nlat)); lat = b; }
  lat.set(p.lat, nlat);
  nlat += p.lat.length;
  if (p.firstAt && (!firstAt || p.firstAt < firstAt)) firstAt = p.firstAt;
  if (p.lastAt > lastAt) lastAt = p.lastAt;
  disconnects += p.disconnects;
}

const l = lat.subarray(0, nlat).sort();
const pct = (q) => (nlat ? l[Math.min(nlat - 1, Math.max(0, Math.ceil(q * nlat) - 1))] / 1000 : null);
const span = ((lastAt || nowUs()) - tStart) / 1e6;
const pubSpan = pubDoneAt ? (pubDoneAt - tStart) / 1e6 : 0;
process.stdout.write(`${JSON.stringify({
  client: 'wsclient', threads: nThreads, open: nOpen, failed, connect_s: connectS, published, publish_errors: pubErrors,
  publishes_per_s: pubSpan > 0 ? published / pubSpan : null, sent_ws: sentWs,
  expected: want(), received: nlat, span_s: span, deliveries_per_s: span > 0 ? nlat / span : 0,
  lat_p50_ms: pct(0.5), lat_p99_ms: pct(0.99), lat_max_ms: nlat ? l[nlat - 1] / 1000 : null,
  server_cpu_s: cpu, cpu_us_per_delivery: nlat && o.pids.length ? (cpu / nlat) * 1e6 : null, disconnects,
})}\n`);
for (const s of socks) s.terminate();
for (const wk of workers) wk.postMessage('exit');
process.exit(0);
