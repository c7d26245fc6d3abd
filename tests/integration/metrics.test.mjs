// metrics.test.mjs - GET /api/1/websocket/metrics (wspulse.fcgi): Prometheus text for
// every daemon and worker on the database, valid per `promtool check
// metrics` (Debian's prometheus package), with the values the operator
// needs moving as things happen: sockets per namespace, refused handshakes
// by reason, messages in/out/dropped, send-queue bytes, outbox lag,
// PostgreSQL reconnects, catch-up replays, per-worker up, and an outbox lag
// while a daemon is behind.  Access: an address in metrics_allow (default
// loopback) or the metrics token.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startStack, openWs, fcgiRequest, waitFor, within, sleep, slow as SLOW } from './lib/stack.mjs';
import { upgradeStatus, rawWs } from './lib/rawclient.mjs';

let s;
const metricsToken = 'metrics-token-' + 'x'.repeat(20);

before(async () => {
  s = await startStack({ nginx: false, config: { stats_interval: 1, workers: 2, log_file: '' } });
  const tokenFile = path.join(s.dir, 'metrics-token');
  fs.writeFileSync(tokenFile, metricsToken + '\n', { mode: 0o600 });
  // wspulse.fcgi reads the token file at start: restart it with the key.
  fs.appendFileSync(s.config, `metrics_token_file = ${tokenFile}\n`);
  s.fcgi.kill('SIGTERM');
  await s.fcgi.exited;
  await s.startFcgi();
});
after(async () => { await s?.stop(); });

function scrape({ addr = '127.0.0.1', token } = {}) {
  const params = { REQUEST_METHOD: 'GET', REQUEST_URI: '/api/1/websocket/metrics', SCRIPT_NAME: '/api/1/websocket/metrics',
    QUERY_STRING: '', REMOTE_ADDR: addr, SERVER_PROTOCOL: 'HTTP/1.1' };
  if (token) params.HTTP_AUTHORIZATION = `Bearer ${token}`;
  return fcgiRequest({ port: s.fcgiPort }, params);
}

/** The samples of a scrape: { 'name{labels}': value }. */
function samples(text) {
  const out = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out[line.slice(0, i)] = Number(line.slice(i + 1));
  }
  return out;
}
const sum = (smp, re) => Object.entries(smp).filter(([k]) => re.test(k)).reduce((a, [, v]) => a + v, 0);

test('the text is valid Prometheus exposition format (promtool check metrics)', async () => {
  await waitFor(async () => sum(samples((await scrape()).body), /^wspulse_daemon_up\{/) === 2, 10000 * SLOW, 'both workers up');
  const r = await scrape();
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  const p = spawnSync('promtool', ['check', 'metrics'], { input: r.body, encoding: 'utf8' });
  assert.equal(p.status, 0, `promtool: ${p.stdout}${p.stderr}\n${r.body}`);
  // promtool's linter can fail: a counter without _total is reported.
  const bad = spawnSync('promtool', ['check', 'metrics'], { input: '# HELP x_count a counter\n# TYPE x_count counter\nx_count 1\n', encoding: 'utf8' });
  assert.notEqual(bad.status, 0, 'promtool rejects a badly named counter');
});

test('access: loopback by default, other addresses need the metrics token; a wrong token is 401', async () => {
  assert.equal((await scrape({ addr: '::1' })).status, 200);
  const far = await scrape({ addr: '203.0.113.5' });
  assert.equal(far.status, 403);
  assert.match(far.body, /metrics_allow/);
  assert.equal((await scrape({ addr: '203.0.113.5', token: metricsToken })).status, 200);
  assert.equal((await scrape({ addr: '127.0.0.1', token: 'wrong-token-wrong-token' })).status, 401);
  // The publish API token is not a metrics token.
  assert.equal((await scrape({ addr: '203.0.113.5', token: s.token })).status, 401);
});

test('values follow what happens: sockets, refusals, messages, outbox lag, catch-ups, reconnects, up', async () => {
  const base = `ws://127.0.0.1:${s.daemonPort}/api/1/ws`;
  const before = samples((await scrape()).body);
  const clients = [];
  for (let i = 0; i < 6; i++) {
    const c = await within(openWs(`${base}/hello-emoji`), 5000 * SLOW, 'a socket');
    await c.next((m) => m.data?.type === 'connected', 5000 * SLOW);
    clients.push(c);
  }
  for (let i = 0; i < 3; i++) assert.equal(await upgradeStatus(`${base}/no-such-namespace`), 404);
  assert.equal(await upgradeStatus(`${base}/hello-emoji`, { Origin: 'http://evil.test' }), 403);
  // A connection token that does not verify: 401, counted as not logged in (its log line
  // says what failed; the count does not depend on that text).
  assert.equal(await upgradeStatus(`${base}/hello-emoji?token=not.a.token`), 401);
  for (const c of clients) c.send(JSON.stringify({ type: 'emoji-select', emoji: '🙂' }));
  // A catch-up of a client (?since=) on the history namespace.
  const since = await within(openWs(`${base}/hello-todo?since=0`), 5000 * SLOW, 'a catch-up socket');
  await since.next((m) => m.data?.type === 'connected', 5000 * SLOW);
  // A REST broadcast: the outbox's newest id moves, and the daemons catch up.
  const body = JSON.stringify({ namespace: '/api/1/ws/hello-todo', data: { type: 'note', n: 1 } });
  const ok = await fcgiRequest({ port: s.fcgiPort }, { REQUEST_METHOD: 'POST', REQUEST_URI: '/api/1/websocket/publish',
    SCRIPT_NAME: '/api/1/websocket/publish', QUERY_STRING: '', REMOTE_ADDR: '127.0.0.1', CONTENT_TYPE: 'application/json',
    HTTP_AUTHORIZATION: `Bearer ${s.token}`, CONTENT_LENGTH: String(Buffer.byteLength(body)) }, body);
  assert.equal(ok.status, 200, ok.body);
  const id = JSON.parse(ok.body).data.id;
  await since.next((m) => m.data?.type === 'note', 5000 * SLOW);

  let now;
  await waitFor(async () => {
    now = samples((await scrape()).body);
    return sum(now, /^wspulse_sockets\{.*namespace="\/api\/1\/ws\/hello-emoji"\}/) === 6 &&
      now.wspulse_outbox_newest_id === id && sum(now, /^wspulse_outbox_delivered_id\{/) === 2 * id &&
      sum(now, /^wspulse_messages_received_total\{/) - sum(before, /^wspulse_messages_received_total\{/) >= 6;
  }, 10000 * SLOW, 'the scrape to show the sockets, the messages and the delivered outbox row');
  assert.equal(sum(now, /^wspulse_handshakes_refused_total\{.*reason="unknown_namespace"\}/) -
    sum(before, /^wspulse_handshakes_refused_total\{.*reason="unknown_namespace"\}/), 3);
  assert.equal(sum(now, /^wspulse_handshakes_refused_total\{.*reason="origin_not_allowed"\}/) -
    sum(before, /^wspulse_handshakes_refused_total\{.*reason="origin_not_allowed"\}/), 1);
  assert.equal(sum(now, /^wspulse_handshakes_refused_total\{.*reason="not_logged_in"\}/) -
    sum(before, /^wspulse_handshakes_refused_total\{.*reason="not_logged_in"\}/), 1);
  assert.equal(sum(now, /^wspulse_handshakes_refused_total\{.*reason="other"\}/) -
    sum(before, /^wspulse_handshakes_refused_total\{.*reason="other"\}/), 0);
  // Every emoji-select is broadcast to the 6 sockets (and presence updates): out >> in.
  assert.ok(sum(now, /^wspulse_messages_sent_total\{/) - sum(before, /^wspulse_messages_sent_total\{/) >= 36);
  assert.equal(sum(now, /^wspulse_outbox_lag\{/), 0);
  assert.equal(sum(now, /^wspulse_catchup_replays_total\{.*kind="client"\}/) - sum(before, /^wspulse_catchup_replays_total\{.*kind="client"\}/), 1);
  assert.ok(sum(now, /^wspulse_send_queue_bytes\{/) >= 0);
  assert.equal(sum(now, /^wspulse_postgres_reconnects_total\{/), 0);

  // PostgreSQL restarts: every worker reconnects and replays the outbox.
  s.pg.stopServer();
  await sleep(500);
  s.pg.start();
  await waitFor(async () => {
    now = samples((await scrape()).body);
    // A replay at start and one after the reconnect, per worker.
    return sum(now, /^wspulse_postgres_reconnects_total\{/) === 2 && sum(now, /^wspulse_daemon_up\{/) === 2 &&
      sum(now, /^wspulse_catchup_replays_total\{.*kind="outbox"\}/) === 4;
  }, 30000 * SLOW, 'both workers to count a reconnect and its outbox replay');
  for (const c of [...clients, since]) c.close();

  // A daemon that is gone: up 0 once its row is older than 3 stats_interval.
  s.daemon.kill('SIGKILL');
  await waitFor(async () => sum(samples((await scrape()).body), /^wspulse_daemon_up\{/) === 0, 15000 * SLOW, 'up 0 for the dead workers');
  await s.startDaemon();
});

test('outbox lag: rows committed while the daemon cannot take them count per worker until delivered', async () => {
  await waitFor(async () => sum(samples((await scrape()).body), /^wspulse_daemon_up\{/) === 2, 15000 * SLOW, 'both workers up');
  // With workers, the supervisor alone LISTENs and hands each outbox row to
  // its workers (reader.h): stopped, it hands them none, while the workers
  // go on writing their stats rows - their delivered id stays behind.
  s.daemon.kill('SIGSTOP');
  let now;
  try {
    for (let i = 0; i < 3; i++)
      await s.pg.psqlAsync(`INSERT INTO wsp_outbox (namespace, payload) VALUES ('/api/1/ws/hello-todo', '{"type":"note","lag":${i}}')`);
    await waitFor(async () => {
      now = samples((await scrape()).body);
      return sum(now, /^wspulse_outbox_lag\{/) === 6;
    }, 10000 * SLOW, 'an outbox lag of 3 on each worker');
    assert.equal(sum(now, /^wspulse_daemon_up\{/), 2);
    for (const [k, v] of Object.entries(now).filter(([k]) => k.startsWith('wspulse_outbox_delivered_id{')))
      assert.equal(now.wspulse_outbox_newest_id - v, 3, k);
  } finally { s.daemon.kill('SIGCONT'); }
  await waitFor(async () => {
    now = samples((await scrape()).body);
    return sum(now, /^wspulse_outbox_lag\{/) === 0 && sum(now, /^wspulse_daemon_up\{/) === 2;
  }, 10000 * SLOW, 'the lag back to 0 once the daemon delivers');
});

test('send-queue bytes: a client that stops reading holds bytes in its queue; when it overflows, the client and its messages count as dropped', async () => {
  const emoji = /namespace="\/api\/1\/ws\/hello-emoji"/;
  const before = samples((await scrape()).body);
  const slow = await rawWs(`ws://127.0.0.1:${s.daemonPort}/api/1/ws/hello-emoji`, { read: false, timeout: 5000 * SLOW });
  assert.equal(slow.status, 101);
  // Bursts of 6 x 60 KB (360 KB, well under send_queue_max_bytes' 1 MB):
  // the kernel's buffers take the first ones; once they are full the rest
  // waits in the send queue.  After each burst, the first scrape whose rows
  // say both workers have handled the newest outbox row shows the queue as
  // it was after that burst.
  const burst = (n) => s.pg.psqlAsync(`INSERT INTO wsp_outbox (namespace, payload) SELECT '/api/1/ws/hello-emoji',
    json_build_object('type','blob','n',g,'pad',repeat('x', 60000))::text FROM generate_series(1, ${n}) g`);
  const handled = async () => {
    let smp;
    await waitFor(async () => {
      smp = samples((await scrape()).body);
      const d = Object.entries(smp).filter(([k]) => k.startsWith('wspulse_outbox_delivered_id{')).map(([, v]) => v);
      return d.length === 2 && d.every((v) => v === smp.wspulse_outbox_newest_id);
    }, 10000 * SLOW, 'both workers to handle the burst');
    return smp;
  };
  let held = 0, bursts = 0;
  for (; bursts < 100 && held === 0; bursts++) {
    await burst(6);
    held = sum(await handled(), /^wspulse_send_queue_bytes\{/);
  }
  assert.ok(held > 0 && held <= 1048576, `send-queue bytes ${held} after ${bursts} bursts`);
  // 1.2 MB more: the queue overflows, the client is closed 1008.
  await burst(20);
  let now;
  await waitFor(async () => {
    now = samples((await scrape()).body);
    return sum(now, /^wspulse_clients_dropped_total\{/) - sum(before, /^wspulse_clients_dropped_total\{/) === 1;
  }, 15000 * SLOW, 'the slow client dropped');
  assert.equal(sum(now, new RegExp(`^wspulse_clients_dropped_total\\{.*${emoji.source}`)) -
    sum(before, new RegExp(`^wspulse_clients_dropped_total\\{.*${emoji.source}`)), 1);
  assert.ok(sum(now, /^wspulse_messages_dropped_total\{/) - sum(before, /^wspulse_messages_dropped_total\{/) >= 1);
  assert.equal(sum(now, /^wspulse_send_queue_bytes\{/), 0, 'nothing queued once the slow client is gone');
  slow.sock.destroy();
});
