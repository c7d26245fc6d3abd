// fcgi-keepconn.test.mjs - wspulse.fcgi and kept FastCGI connections
// (fcgi/connpool.h): one connection carries request after request when the
// web server asks to keep it (FCGI_KEEP_CONN), idle connections and peers
// that say nothing hold no worker thread, a connection that breaks the
// protocol is closed while the rest carry on, the shipped nginx snippet
// keeps its connections open, and FCGI_WEB_SERVER_ADDRS is honoured.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { startStack, http, bin, start, stop, waitFor, freePort, slow, sleep, fcgiConnection } from './lib/stack.mjs';

const THREADS = 2;
let s;
before(async () => {
  s = await startStack({ config: { fcgi_threads: String(THREADS), namespace: '/api/1/ws/kc' } });
});
after(async () => { await s?.stop(); });

const cgi = (uri, extra = {}) => ({ REQUEST_METHOD: 'GET', REQUEST_URI: uri, SCRIPT_NAME: uri, QUERY_STRING: '',
  REMOTE_ADDR: '127.0.0.1', SERVER_PROTOCOL: 'HTTP/1.1', ...extra });

// One FastCGI connection, as a web server holds it (stack.mjs); a body is sent as JSON.
async function connection(port, { host = '127.0.0.1', localAddress } = {}) {
  const c = await fcgiConnection({ port, host, localAddress });
  const request = c.request;
  c.request = (params, body = '', opts) => request({ ...params, ...(body ? { CONTENT_TYPE: 'application/json', CONTENT_LENGTH: String(Buffer.byteLength(body)) } : {}) }, body, opts);
  return c;
}

const within = (p, ms, what) => Promise.race([p, sleep(ms).then(() => { throw new Error(`${what}: no answer within ${ms} ms`); })]);

test('a kept connection carries request after request, and is closed when the web server does not ask to keep it', async () => {
  const c = await connection(s.fcgiPort);
  for (let i = 0; i < 5; i++) {
    const r = await within(c.request(cgi('/api/1/health')), 5000 * slow, `request ${i + 1} on one connection`);
    assert.equal(r.status, 200, r.body);
    assert.equal(JSON.parse(r.body).success, true);
  }
  // A publish on the same connection: bodies are read whole, the next request starts clean.
  const body = JSON.stringify({ namespace: '/api/1/ws/kc', data: { n: 1 } });
  const p = await within(c.request(cgi('/api/1/websocket/publish', { REQUEST_METHOD: 'POST', HTTP_AUTHORIZATION: `Bearer ${s.token}` }), body), 5000 * slow, 'a publish');
  assert.equal(p.status, 200, p.body);
  const last = await within(c.request(cgi('/api/1/health'), '', { keep: false }), 5000 * slow, 'the last request');
  assert.equal(last.status, 200);
  assert.equal(await within(c.ended, 5000 * slow, 'the close'), true, 'closed after a request without FCGI_KEEP_CONN');
});

test(`idle kept connections and silent peers hold no thread (${THREADS} threads, ${4 * THREADS} idle connections)`, async () => {
  const idle = [];
  try {
    // Kept connections, each after one request, then silent; and peers that never say anything.
    for (let i = 0; i < 2 * THREADS; i++) {
      const c = await connection(s.fcgiPort);
      assert.equal((await within(c.request(cgi('/api/1/health')), 5000 * slow, 'a first request')).status, 200);
      idle.push(c);
    }
    for (let i = 0; i < 2 * THREADS; i++) idle.push(await connection(s.fcgiPort));
    await sleep(200);
    // Through nginx and straight: answered at once, however many connections sit idle.
    for (let i = 0; i < 3; i++) {
      const t0 = Date.now();
      const r = await within(http(s.url, 'GET', '/api/1/health'), 3000 * slow, 'a request through nginx');
      assert.equal(r.status, 200);
      const c = await connection(s.fcgiPort);
      assert.equal((await within(c.request(cgi('/api/1/health'), '', { keep: false }), 3000 * slow, 'a new connection')).status, 200);
      c.close();
      assert.ok(Date.now() - t0 < 2000 * slow, `answered in ${Date.now() - t0} ms`);
    }
    // And the idle kept ones still work afterwards.
    for (const c of idle.slice(0, 2 * THREADS))
      assert.equal((await within(c.request(cgi('/api/1/health')), 5000 * slow, 'an idle connection woken')).status, 200);
  } finally {
    for (const c of idle) c.close();
  }
});

test('a connection that breaks the protocol is closed; the others carry on', async () => {
  const good = await connection(s.fcgiPort);
  assert.equal((await good.request(cgi('/api/1/health'))).status, 200);
  const bad = await connection(s.fcgiPort);
  bad.sock.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
  assert.equal(await within(bad.ended, 5000 * slow, 'the bad connection closed'), true);
  const half = await connection(s.fcgiPort);
  half.sock.end(); // end of file before any request
  assert.equal(await within(half.ended, 5000 * slow, 'the empty connection closed'), true);
  assert.equal((await within(good.request(cgi('/api/1/health')), 5000 * slow, 'the good connection')).status, 200);
  good.close();
  assert.equal(s.fcgi.exitCode, null, 'wspulse.fcgi still running');
});

test('through the shipped nginx snippet: connections are kept, and many concurrent publishers on two threads all get answers', async () => {
  const body = { namespace: '/api/1/ws/kc', data: { n: 2 } };
  const before = Number(s.pg.psql("SELECT count(*) FROM wsp_outbox WHERE namespace = '/api/1/ws/kc'"));
  const N = 8, EACH = 25;
  await within(Promise.all(Array.from({ length: N }, async () => {
    for (let i = 0; i < EACH; i++) {
      const r = await http(s.url, 'POST', '/api/1/websocket/publish', { body, headers: { Authorization: `Bearer ${s.token}` } });
      assert.equal(r.status, 200, r.text);
    }
  })), 30000 * slow, `${N} × ${EACH} publishes`);
  assert.equal(Number(s.pg.psql("SELECT count(*) FROM wsp_outbox WHERE namespace = '/api/1/ws/kc'")) - before, N * EACH);
  // nginx keeps its connections to wspulse.fcgi (fastcgi_keep_conn + keepalive): after the
  // requests, some are still established; without keep-alive each would be closed after its request.
  const est = execFileSync('ss', ['-Htn', 'state', 'established', `( sport = :${s.fcgiPort} )`], { encoding: 'utf8' })
    .split('\n').filter(Boolean).length;
  assert.ok(est >= 1 && est <= 16, `${est} kept connections from nginx`);
});

test('FCGI_WEB_SERVER_ADDRS: a peer not in the list is refused with a log line, one in it is served', async () => {
  const port = await freePort();
  const log = path.join(s.dir, 'fcgi-addrs.log');
  const child = start(bin.fcgi, ['-c', s.config, '--listen', `:${port}`], { log, env: { ...process.env, FCGI_WEB_SERVER_ADDRS: '127.0.0.1' } });
  try {
    await waitFor(() => new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => { c.destroy(); resolve(true); });
      c.on('error', () => resolve(false));
    }), 10000 * slow, 'the second wspulse.fcgi');
    const ok = await connection(port);
    assert.equal((await within(ok.request(cgi('/api/1/health'), '', { keep: false }), 5000 * slow, 'from 127.0.0.1')).status, 200);
    const other = await connection(port, { localAddress: '127.0.0.2' });
    other.request(cgi('/api/1/health')).catch(() => {});
    assert.equal(await within(other.ended, 5000 * slow, 'the refused peer closed'), true);
    await waitFor(() => /connection from 127\.0\.0\.2 refused/.test(s.log('fcgi-addrs.log')), 5000 * slow, 'the refusal logged');
  } finally {
    await stop(child);
  }
});

test('FCGI_WEB_SERVER_ADDRS on a dual-stack socket (spawn-fcgi -a ::): IPv4 peers are checked as IPv4, IPv6 ones against listed IPv6 addresses', async () => {
  // libfcgi checks IPv4 peers only and lets every other one in: on this
  // socket every peer is IPv6 (IPv4 ones as ::ffff:a.b.c.d), so the list
  // was no barrier at all.
  const run = async (list, probe, fn) => {
    const port = await freePort(), log = path.join(s.dir, `fcgi-addrs6-${port}.log`);
    const child = start('spawn-fcgi', ['-n', '-a', '::', '-p', String(port), '--', bin.fcgi, '-c', s.config],
      { log, env: { ...process.env, FCGI_WEB_SERVER_ADDRS: list } });
    try {
      await waitFor(() => new Promise((resolve) => {
        // From an address in the list: a refused probe would take the
        // refusal log line of its second (at most one a second).
        const c = net.connect(port, probe, () => { c.destroy(); resolve(true); });
        c.on('error', () => resolve(false));
      }), 10000 * slow, 'wspulse.fcgi under spawn-fcgi -a ::');
      await fn(port, () => s.log(path.basename(log)));
    } finally {
      await stop(child);
    }
  };
  const served = async (port, host, localAddress) => {
    const c = await connection(port, { host, localAddress });
    assert.equal((await within(c.request(cgi('/api/1/health'), '', { keep: false }), 5000 * slow, `from ${localAddress || host}`)).status, 200);
  };
  const refused = async (port, host, localAddress, logText, re) => {
    const c = await connection(port, { host, localAddress });
    c.request(cgi('/api/1/health')).catch(() => {});
    assert.equal(await within(c.ended, 5000 * slow, `the refused peer ${localAddress || host} closed`), true);
    await waitFor(() => re.test(logText()), 5000 * slow, `the refusal of ${localAddress || host} logged`);
  };
  await run('127.0.0.1', '127.0.0.1', async (port, logText) => {
    await served(port, '127.0.0.1');
    await refused(port, '127.0.0.1', '127.0.0.2', logText, /connection from 127\.0\.0\.2 refused/);
    await sleep(1100);   // the next second's refusal line
    await refused(port, '::1', undefined, logText, /connection from ::1 refused/);
  });
  await run('127.0.0.2, ::1', '::1', async (port, logText) => {
    await served(port, '::1');
    await served(port, '127.0.0.1', '127.0.0.2');
    await refused(port, '127.0.0.1', undefined, logText, /connection from 127\.0\.0\.1 refused/);
  });
  // Blanks separate as commas do, and an entry written IPv4-mapped is its
  // IPv4 address, as such a peer is checked (it used to match nothing, and
  // three blank-separated entries overran a list sized by its commas).
  await run('127.0.0.4 ::ffff:127.0.0.3\t::1', '::1', async (port, logText) => {
    await served(port, '::1');
    await served(port, '127.0.0.1', '127.0.0.3');
    await served(port, '127.0.0.1', '127.0.0.4');
    await refused(port, '127.0.0.1', undefined, logText, /connection from 127\.0\.0\.1 refused/);
  });
});
