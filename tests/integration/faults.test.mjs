// faults.test.mjs - issue 8, item 5: the stack under broken surroundings.
// Here: nginx reloaded under load, and a log on a full disk.  PostgreSQL
// down during a REST call is fcgi-run.test.mjs ("PostgreSQL down: 503 JSON
// and nothing written"); PostgreSQL down at daemon start and kill -9 of the
// daemon mid-broadcast are in faults-ws.test.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startStack, http, login, fcgiRequest, start, stop, waitFor, freePort, writeConfig, sleep, slow, underValgrind, bin, sanitizerReport } from './lib/stack.mjs';
import { openRaw, frame, closePayload, OP } from './lib/rawws.mjs';
import fs from 'node:fs';
import nodeHttp from 'node:http';

let s;
before(async () => {
  s = await startStack({ users: [{ name: 'dora', password: 'dora-password-1' }] });
});
after(async () => { await s?.stop(); });

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
    // A SIGHUP (logrotate) on a full disk does not take wspulse.fcgi down
    // (the daemon's SIGHUP is in faults-ws.test.mjs).
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
