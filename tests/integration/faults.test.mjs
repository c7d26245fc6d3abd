// faults.test.mjs - issue 8, item 5: the stack under broken surroundings.
// Here: kill -9 of the daemon during a broadcast run, nginx reloaded under
// load, and a log on a full disk.  PostgreSQL down during a REST call is
// fcgi-run.test.mjs ("PostgreSQL down: 503 JSON and nothing written");
// PostgreSQL down when the daemon starts is daemon-bus.test.mjs ("a
// database that is down at start-up").
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startStack, http, login, fcgiRequest, start, stop, waitFor, freePort, writeConfig, sleep, slow, underValgrind, bin, sanitizerReport } from './lib/stack.mjs';
import { openRaw, frame, closePayload, OP } from './lib/rawws.mjs';
import fs from 'node:fs';
import nodeHttp from 'node:http';

let s;
before(async () => {
  s = await startStack({
    users: [{ name: 'dora', password: 'dora-password-1' }],
    config: { namespace: '/api/1/ws/fault-history history=on' },
  });
});
after(async () => { await s?.stop(); });

/**
 * A client of a history namespace that reconnects like jPulse.ws does: on
 * any close it comes back (every 200 ms until the daemon answers) with
 * ?since=<highest outbox id it has seen>.  Collects the ids and seq numbers.
 */
function historyClient(port, ns, uuid) {
  const c = { ids: [], seqs: [], reconnects: 0, stopped: false };
  const loop = async () => {
    let since = -1;
    while (!c.stopped) {
      let conn;
      try {
        conn = await openRaw(port, `${ns}?uuid=${uuid}${since >= 0 ? `&since=${since}` : ''}`, { timeout: 2000 });
      } catch { await sleep(200); continue; }
      c.conn = conn;
      let closed = false;
      conn.closed.then(() => { closed = true; });
      while (!closed && !c.stopped) {
        for (const m of conn.messages.splice(0)) {
          if (m.data?.type !== 'seq') continue;
          c.ids.push(m.id);
          c.seqs.push(m.data.n);
          since = Math.max(since, m.id);
        }
        await sleep(20);
      }
      conn.end();
      if (c.stopped) break;
      c.reconnects++;
    }
  };
  c.done = loop();
  return c;
}

test('kill -9 of the daemon during a broadcast run: clients reconnect and no committed broadcast is lost', async () => {
  const NS = '/api/1/ws/fault-history';
  const clients = [1, 2, 3].map((i) => historyClient(s.daemonPort, NS, `00000000-0000-4000-8000-00000000000${i}`));
  await waitFor(() => clients.every((c) => c.conn), 10000 * slow, 'history clients connected');
  const TOTAL = 60;
  const published = [];
  for (let n = 1; n <= TOTAL; n++) {
    // REST keeps committing while the daemon is dead: the outbox holds it.
    const r = await http(s.url, 'POST', '/api/1/websocket/publish', {
      headers: { Authorization: `Bearer ${s.token}` },
      body: { namespace: NS, data: { type: 'seq', n } },
    });
    assert.equal(r.status, 200, `publish ${n}: ${r.status} ${r.text}`);
    published.push(r.json.data.id);
    if (n === 20) {
      const { sig } = await s.stopDaemon('SIGKILL');
      assert.equal(sig, 'SIGKILL');
    }
    if (n === 40) await s.startDaemon();
    await sleep(15);
  }
  await waitFor(() => clients.every((c) => new Set(c.seqs).size === TOTAL), 15000 * slow, 'every client has every broadcast');
  for (const c of clients) {
    c.stopped = true;
    c.conn?.end();
  }
  await Promise.all(clients.map((c) => c.done));
  for (const [i, c] of clients.entries()) {
    assert.ok(c.reconnects >= 1, `client ${i + 1} reconnected`);
    assert.deepEqual([...c.seqs].sort((a, b) => a - b), Array.from({ length: TOTAL }, (_, k) => k + 1), `client ${i + 1}: each broadcast exactly once`);
    assert.deepEqual([...c.ids].sort((a, b) => a - b), [...published].sort((a, b) => a - b), `client ${i + 1}: the outbox ids`);
  }
});

test('nginx reload under load: no request fails, an open WebSocket survives, new ones connect', async () => {
  const ws = await openRaw(s.httpPort, '/api/1/ws/hello-todo');
  let ok = 0;
  const failures = [];
  let running = true;
  // A new connection per request: a reload closes idle keep-alive
  // connections, and a client reusing one races that close (browsers retry
  // such requests); what must never happen is a refused or failed request.
  const get = (p) => new Promise((resolve, reject) => {
    const req = nodeHttp.get({ host: '127.0.0.1', port: s.httpPort, path: p, agent: false, headers: { Connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
  });
  const worker = async (p) => {
    while (running) {
      try {
        const status = await get(p);
        if (status === 200) ok++; else failures.push(`${p}: ${status}`);
      } catch (e) { failures.push(`${p}: ${e.code || e.message}`); }
    }
  };
  const workers = ['/api/1/health', '/index.html', '/api/1/helloTodo', '/jpulse-ws.js'].map(worker);
  for (let i = 0; i < 3; i++) {
    await sleep(700);
    process.kill(s.nginx.pid, 'SIGHUP');
  }
  await sleep(1000);
  running = false;
  await Promise.all(workers);
  assert.deepEqual(failures, [], 'every request during the reloads succeeded');
  assert.ok(ok > 20, `only ${ok} requests completed`);
  // The socket opened before the reloads is still open (an old worker keeps
  // it until it closes) ...
  let closedEarly = false;
  ws.closed.then(() => { closedEarly = true; });
  await sleep(100);
  assert.equal(closedEarly, false, 'the WebSocket opened before the reload is still open');
  ws.send(frame(OP.CLOSE, closePayload(1000)));
  assert.equal((await ws.waitClose(5000 * slow)).code, 1000);
  ws.end();
  // ... and new ones go through the new workers.
  const again = await openRaw(s.httpPort, '/api/1/ws/hello-todo');
  again.end();
});

test('a full disk for the log (log_file = /dev/full): both programs keep serving', async () => {
  const fcgiPort = await freePort();
  const daemonPort = await freePort();
  const sub = path.join(s.dir, 'full-disk');
  fs.mkdirSync(sub, { recursive: true });
  const conf = writeConfig(sub, {
    ...s.settings,
    listen: `127.0.0.1:${daemonPort}`,
    fcgi_listen: `127.0.0.1:${fcgiPort}`,
    log_file: '/dev/full',
    log_level: 'debug',
  });
  const outs = { fcgi: path.join(sub, 'wspulse.fcgi.out'), daemon: path.join(sub, 'wspulsed.out') };
  const fcgi = start(...underValgrind(bin.fcgi, ['-c', conf]), { log: outs.fcgi });
  const daemon = start(...underValgrind(bin.daemon, ['-c', conf]), { log: outs.daemon });
  try {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${daemonPort}/health`)).ok, 10000 * slow, 'wspulsed on a full disk');
    const cgi = (uri, extra = {}) => ({ REQUEST_METHOD: 'GET', REQUEST_URI: uri, SCRIPT_NAME: uri, QUERY_STRING: '',
      SERVER_PROTOCOL: 'HTTP/1.1', REMOTE_ADDR: '192.0.2.30', SERVER_NAME: 'localhost', SERVER_PORT: '80', ...extra });
    await waitFor(async () => (await fcgiRequest({ port: fcgiPort }, cgi('/api/1/health'))).status === 200, 10000 * slow, 'wspulse.fcgi on a full disk');
    // Requests that log (debug, a failed login is a warning) still work.
    for (let i = 0; i < 20; i++) {
      const body = JSON.stringify({ username: 'dora', password: i % 2 ? 'wrong-password' : 'dora-password-1' });
      const r = await fcgiRequest({ port: fcgiPort }, cgi('/api/1/auth/login', { REQUEST_METHOD: 'POST', CONTENT_TYPE: 'application/json', CONTENT_LENGTH: String(body.length) }), body);
      assert.equal(r.status, i % 2 ? 401 : 200, r.body);
    }
    for (let i = 0; i < 5; i++) {
      const c = await openRaw(daemonPort, '/api/1/ws/hello-todo');
      c.sendJson({ type: 'ping' });
      c.send(frame(OP.CLOSE, closePayload(1000)));
      assert.equal((await c.waitClose(5000 * slow)).code, 1000);
      c.end();
    }
    // A SIGHUP (logrotate) on a full disk does not take them down either.
    daemon.kill('SIGHUP');
    fcgi.kill('SIGHUP');
    await sleep(300);
    assert.ok((await fetch(`http://127.0.0.1:${daemonPort}/health`)).ok);
    assert.equal((await fcgiRequest({ port: fcgiPort }, cgi('/api/1/health'))).status, 200);
    assert.equal(daemon.exitCode, null, 'wspulsed still running');
    assert.equal(fcgi.exitCode, null, 'wspulse.fcgi still running');
  } finally {
    await Promise.all([stop(fcgi, 'SIGTERM', 5000 * slow), stop(daemon, 'SIGTERM', 5000 * slow)]);
  }
  for (const [who, f] of Object.entries(outs)) {
    const report = sanitizerReport(fs.readFileSync(f, 'utf8'));
    assert.equal(report, null, `${who}: ${report}`);
  }
});
