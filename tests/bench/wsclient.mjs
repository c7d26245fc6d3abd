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
import http from 'node:http';
import fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

const argv = process.argv.slice(2);
const o = { n: 100, m: 100, k: 16, rate: 0, size: 100, subHeaders: [], pubHeaders: [], pids: [],
  srcBase: '127.0.0.2', srcCount: 16, quiet: 5, timeout: 600, soak: 0, soakFrac: 0.1, soakRate: 20, conc: 200 };
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
  default: console.error(`wsclient: unknown argument ${a}`); process.exit(2);
  }
}
if (!o.sub || (!o.soak && !o.pub)) { console.error('wsclient: needs --sub and --pub (or --soak)'); process.exit(2); }

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
let lat = new Float64Array(1 << 20), nlat = 0, firstAt = 0, lastAt = 0;
const STAMP = /\\?"wsc\\?":(\d+)/;
function onFrame(data, isBinary) {
  if (isBinary) return;
  const t = nowUs();
  const m = STAMP.exec(typeof data === 'string' ? data : data.toString('latin1'));
  if (!m) return;
  if (nlat === lat.length) { const b = new Float64Array(lat.length * 2); b.set(lat); lat = b; }
  lat[nlat++] = t - Number(m[1]);
  if (!firstAt) firstAt = t;
  lastAt = t;
}

let seq = 0;
function message() {
  const head = `{"wsc":${Math.round(nowUs())},"q":${seq++},"pad":"`;
  return `${head}${'x'.repeat(Math.max(0, o.size - head.length - 2))}"}`;
}

// Subscribers, at most o.conc handshakes at a time.
const [b0, b1, b2, b3] = o.srcBase.split('.').map(Number);
const socks = [];
let failed = 0, disconnects = 0, measuring = false;
function openOne(i) {
  return new Promise((resolve) => {
    const url = o.sub.replace('{uuid}', randomUUID());
    const ws = new WebSocket(url, { headers: hdrs(o.subHeaders), perMessageDeflate: false, rejectUnauthorized: false,
      localAddress: `${b0}.${b1}.${b2}.${b3 + (i % o.srcCount)}`, handshakeTimeout: 10000 });
    ws.on('open', () => { socks.push(ws); resolve(); });
    ws.on('message', onFrame);
    ws.on('error', () => { });
    ws.on('close', () => { if (measuring) disconnects++; resolve(); });
    ws.on('unexpected-response', (req, res) => { failed++; res.resume(); resolve(); });
  });
}
let next = 0;
const t0c = Date.now();
await Promise.all(Array.from({ length: Math.min(o.conc, o.n) }, async () => {
  while (next < o.n) await openOne(next++);
}));
failed = o.n - socks.length;
const connectS = (Date.now() - t0c) / 1000;
await sleep(1000);

// The measured phase.
measuring = true;
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
const want = () => (o.soak ? sentWs : published) * socks.length;
const endAt = performance.now() + o.timeout * 1000;
for (let last = nlat, lastChange = performance.now(); nlat < want() && performance.now() < endAt;) {
  await sleep(20);
  if (nlat !== last) { last = nlat; lastChange = performance.now(); }
  else if (performance.now() - lastChange > o.quiet * 1000) break;
}
const cpu = cpuOf(o.pids) - cpu0;
measuring = false;

const l = lat.subarray(0, nlat).sort();
const pct = (q) => (nlat ? l[Math.min(nlat - 1, Math.max(0, Math.ceil(q * nlat) - 1))] / 1000 : null);
const span = ((lastAt || nowUs()) - tStart) / 1e6;
const pubSpan = pubDoneAt ? (pubDoneAt - tStart) / 1e6 : 0;
process.stdout.write(`${JSON.stringify({
  client: 'wsclient', open: socks.length, failed, connect_s: connectS, published, publish_errors: pubErrors,
  publishes_per_s: pubSpan > 0 ? published / pubSpan : null, sent_ws: sentWs,
  expected: want(), received: nlat, span_s: span, deliveries_per_s: span > 0 ? nlat / span : 0,
  lat_p50_ms: pct(0.5), lat_p99_ms: pct(0.99), lat_max_ms: nlat ? l[nlat - 1] / 1000 : null,
  server_cpu_s: cpu, cpu_us_per_delivery: nlat && o.pids.length ? (cpu / nlat) * 1e6 : null, disconnects,
})}\n`);
for (const s of socks) s.terminate();
process.exit(0);
