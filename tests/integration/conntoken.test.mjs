// conntoken.test.mjs - connection tokens (JWT HS256 signed by the site with
// token_secret_file): a token user is a user like any other (username
// stamped, roles checked, counted in activeUsers), every refusal reason is
// 401/403 with the reason only in the log, the token never reaches
// wspulsed's log or the shipped nginx and Apache log formats, an open socket is closed
// with 4408 at exp, and a token sent to a daemon without token_secret_file
// is refused, not ignored.  Real PostgreSQL, wspulsed, wspulse.fcgi, nginx;
// tokens minted with Node's crypto and with README's openssl shell lines.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startStack, startApache, http, openWs, run, bin, sleep, srcdir, tmpdir, writeConfig, waitFor } from './lib/stack.mjs';
import { rawWs } from './lib/rawclient.mjs';
import { createRequire } from 'node:module';

const KEY = crypto.randomBytes(32).toString('hex');   // as `openssl rand -hex 32` writes it
let s, keydir, keyfile;
const now = () => Math.floor(Date.now() / 1000);
const b64u = (x) => Buffer.from(x).toString('base64url');

/** A JWT: header {alg, typ} unless given, signed HS256 with key. */
function mint(claims, { key = KEY, header = { alg: 'HS256', typ: 'JWT' }, sig } = {}) {
  const h = b64u(JSON.stringify(header)), p = b64u(JSON.stringify(claims));
  const mac = sig ?? crypto.createHmac('sha256', key).update(`${h}.${p}`).digest('base64url');
  return `${h}.${p}.${mac}`;
}
const claims = (extra = {}) => ({ sub: 'alice', exp: now() + 300, ...extra });

before(async () => {
  keydir = tmpdir('wsp-tok-');
  keyfile = path.join(keydir, 'token-secret');
  fs.writeFileSync(keyfile, KEY + '\n', { mode: 0o600 });
  s = await startStack({
    config: {
      token_secret_file: keyfile, stats_interval: 1,
      namespace: ['/api/1/ws/open', '/api/1/ws/private auth=on', '/api/1/ws/editors auth=on roles=editor', '/api/1/ws/rooms/a', '/api/1/ws/rooms/b', '/api/1/ws/hist auth=on history=on'],
    },
  });
});
after(async () => { await s?.stop(); fs.rmSync(keydir, { recursive: true, force: true }); });

test('a token user is a user like any other: username stamped, roles checked, counted in activeUsers', async () => {
  const ws = await openWs(`${s.wsUrl}/api/1/ws/editors?token=${mint(claims({ roles: ['viewer', 'editor'] }))}`);
  const hello = await ws.next((m) => m.data?.type === 'connected');
  assert.equal(hello.data.username, 'alice');
  ws.sendJson({ type: 'ping' });
  assert.equal((await ws.next((m) => m.data?.type === 'pong')).data.username, 'alice');
  // A site user name need not be a wspulse one: spaces and non-ASCII are fine.
  const ws2 = await openWs(`${s.wsUrl}/api/1/ws/private?token=${mint(claims({ sub: 'Zoë Müller' }))}`);
  assert.equal((await ws2.next((m) => m.data?.type === 'connected')).data.username, 'Zoë Müller');
  // activeUsers of the summed stats (the API token may read them now).
  await waitFor(async () => {
    const r = await http(s.url, 'GET', '/api/1/websocket/stats', { headers: { Authorization: `Bearer ${s.token}` } });
    const ns = r.json?.data?.namespaces?.find((n) => n.path === '/api/1/ws/editors');
    return ns && ns.activeUsers === 1 && ns.clientCount === 1;
  }, 8000, 'activeUsers 1 on /api/1/ws/editors');
  ws.close();
  ws2.close();
});

test('Authorization: Bearer on the upgrade (non-browser clients), straight to the daemon', async () => {
  const c = await rawWs(`ws://127.0.0.1:${s.daemonPort}/api/1/ws/private`, { headers: { Authorization: `Bearer ${mint(claims({ sub: 'robot' }))}` } });
  assert.equal(c.status, 101);
  const m = await c.next((x) => x.data?.type === 'connected');
  assert.equal(m.data.username, 'robot');
  c.destroy();
  const bad = await rawWs(`ws://127.0.0.1:${s.daemonPort}/api/1/ws/private`, { headers: { Authorization: `Bearer ${mint(claims(), { key: 'another key, long enough to be a key' })}` } });
  assert.equal(bad.status, 401);
  bad.destroy();
});

test('the ns claim: exact paths and prefixes ending in /', async () => {
  const tok = mint(claims({ ns: ['/api/1/ws/open', '/api/1/ws/rooms/'] }));
  for (const [p, want] of [['/api/1/ws/open', 101], ['/api/1/ws/rooms/a', 101], ['/api/1/ws/rooms/b', 101], ['/api/1/ws/private', 403]]) {
    const c = await rawWs(`${s.wsUrl}${p}?token=${tok}`);
    assert.equal(c.status, want, p);
    c.destroy();
  }
});

test('every refusal: 401 for a bad token (the log says which, the answer does not), 403 for ns and roles', async () => {
  const unsigned = mint(claims(), { header: { alg: 'none', typ: 'JWT' }, sig: '' });
  const cases = [
    ['bad signature', mint(claims(), { key: 'not-the-key-not-the-key-not-the-key' }), '/api/1/ws/open', 401, /token: bad signature/],
    ['alg none, unsigned', unsigned, '/api/1/ws/open', 401, /token: alg "none" refused/],
    ['alg none, signed', mint(claims(), { header: { alg: 'none' } }), '/api/1/ws/open', 401, /token: alg "none" refused/],
    ['alg HS384', mint(claims(), { header: { alg: 'HS384' } }), '/api/1/ws/open', 401, /token: alg "HS384" refused/],
    ['alg RS256', mint(claims(), { header: { alg: 'RS256' } }), '/api/1/ws/open', 401, /token: alg "RS256" refused/],
    ['expired', mint(claims({ exp: now() - 5 })), '/api/1/ws/open', 401, /token: expired \d+ s ago/],
    ['nbf in the future', mint(claims({ nbf: now() + 120 })), '/api/1/ws/open', 401, /token: not valid before/],
    ['iat in the future', mint(claims({ iat: now() + 120 })), '/api/1/ws/open', 401, /token: issued in the future/],
    ['no exp', mint({ sub: 'alice' }), '/api/1/ws/open', 401, /token: exp missing/],
    ['no sub', mint({ exp: now() + 60 }), '/api/1/ws/open', 401, /token: sub missing/],
    ['malformed', 'not-a-jwt', '/api/1/ws/open', 401, /token: malformed/],
    ['empty', '', '/api/1/ws/open', 401, /token: empty/],
    ['another namespace', mint(claims({ ns: ['/api/1/ws/open'] })), '/api/1/ws/private', 403, /namespace not in its ns claim/],
    ['role mismatch', mint(claims({ roles: ['viewer'] })), '/api/1/ws/editors', 403, /403 role missing/],
    ['no roles for a role namespace', mint(claims()), '/api/1/ws/editors', 403, /403 role missing/],
  ];
  for (const [what, tok, ns, status, logRe] of cases) {
    const c = await rawWs(`${s.wsUrl}${ns}?token=${encodeURIComponent(tok)}`);
    assert.equal(c.status, status, what);
    c.destroy();
    assert.doesNotMatch(c.body || '', /signature|expired|alg|nbf|exp|claim|sub/i, `${what}: the answer names no reason`);
    await waitFor(() => logRe.test(s.log('wspulsed.log')), 3000, `log line for ${what}`);
    await sleep(150);   // refusals are logged at most 10 a second
  }
  // The same token with a wrong key that passes everything else: accepted with the right key.
  const ok = await rawWs(`${s.wsUrl}/api/1/ws/editors?token=${mint(claims({ roles: ['editor'] }))}`);
  assert.equal(ok.status, 101);
  ok.destroy();
});

test('the token never reaches wspulsed\'s log nor the shipped nginx access-log format', async () => {
  const tok = mint(claims({ sub: 'logcheck' }));
  const ws = await openWs(`${s.wsUrl}/api/1/ws/open?token=${tok}`);
  await ws.next((m) => m.data?.type === 'connected');
  ws.close();
  const bad = await rawWs(`${s.wsUrl}/api/1/ws/open?token=${tok}x`);
  bad.destroy();
  await sleep(300);
  const sigPart = tok.split('.')[2], payloadPart = tok.split('.')[1];
  const access = fs.readFileSync(path.join(s.dir, 'nginx-access.log'), 'utf8');
  assert.match(access, /"GET \/api\/1\/ws\/open HTTP\/1\.1" 101/);
  for (const [name, text] of [['wspulsed.log', s.log('wspulsed.log')], ['nginx-access.log', access], ['nginx-error.log', s.log('nginx-error.log')]]) {
    assert.ok(!text.includes(sigPart) && !text.includes(payloadPart), `${name} holds the token`);
    assert.doesNotMatch(text, /eyJ[A-Za-z0-9_-]{10,}/, `${name} holds a JWT`);
  }
});

test('through Apache (the shipped apache/wspulse.conf and its wspulse LogFormat): the token connects and never reaches the access log', async () => {
  const a = await startApache(s);
  try {
    const tok = mint(claims({ sub: 'apache-user' }));
    const ws = await openWs(`${a.wsUrl}/api/1/ws/private?token=${tok}`);
    assert.equal((await ws.next((m) => m.data?.type === 'connected')).data.username, 'apache-user');
    ws.close();
    const bad = await rawWs(`${a.wsUrl}/api/1/ws/private?token=${tok}x`);
    assert.equal(bad.status, 401);
    bad.destroy();
    const access = () => { try { return fs.readFileSync(path.join(a.dir, 'access.log'), 'utf8'); } catch { return ''; } };
    // Apache logs a tunnelled upgrade when it ends: wait for both lines.
    await waitFor(() => /\/api\/1\/ws\/private\S* HTTP\/1\.1" 401 /.test(access()) && /\/api\/1\/ws\/private\S* HTTP\/1\.1" 101 /.test(access()),
      5000, 'the two upgrades in the access log');
    for (const [name, text] of [['apache access.log', access()], ['apache error.log', a.log()]]) {
      assert.ok(!text.includes(tok.split('.')[2]) && !text.includes(tok.split('.')[1]), `${name} holds the token`);
      assert.doesNotMatch(text, /eyJ[A-Za-z0-9_-]{10,}/, `${name} holds a JWT`);
    }
    assert.match(access(), /"GET \/api\/1\/ws\/private HTTP\/1\.1" 101 /);
  } finally { await a.stop(); }
});

test('a socket is closed with 4408 "token expired" at exp', async () => {
  const exp = now() + 2;
  const ws = await openWs(`${s.wsUrl}/api/1/ws/open?token=${mint(claims({ sub: 'shortlived', exp }))}`);
  await ws.next((m) => m.data?.type === 'connected');
  const closed = await Promise.race([ws.closed, sleep(6000).then(() => null)]);
  assert.ok(closed, 'closed within 4 s of exp');
  assert.equal(closed.code, 4408);
  assert.equal(closed.reason, 'token expired');
  assert.ok(Date.now() / 1000 >= exp, 'not before exp');
  assert.match(s.log('wspulsed.log'), /closed 1 socket with 4408: token expired/);
});

test('the real jPulse.ws client renews an expiring token: a fresh one, at once, never disconnected, history caught up', async () => {
  const jws = createRequire(import.meta.url)(path.join(srcdir, 'www/jpulse-ws.js'));
  const pub = (n) => http(s.url, 'POST', '/api/1/websocket/publish', { headers: { Authorization: `Bearer ${s.token}` }, body: { namespace: '/api/1/ws/hist', data: { type: 'n', n } } });
  let calls = 0;
  const statuses = [];
  const got = [];
  // The renewal's token function first publishes message 2 - committed while
  // no socket of this client is open - so only the reconnect's ?since=
  // catch-up can bring it.
  const h = jws.connect(`${s.wsUrl}/api/1/ws/hist`, {
    uuidStorage: 'memory', pingInterval: 0,
    token: async () => {
      if (++calls === 2) assert.equal((await pub(2)).status, 200);
      return mint(claims({ sub: 'renewer', exp: now() + 2 }));
    },
  }).onStatusChange((st) => statuses.push(st)).onMessage((d) => { if (d) got.push(d); });
  try {
    await waitFor(() => h.isConnected(), 5000, 'connected');
    assert.equal((await pub(1)).status, 200);
    await waitFor(() => got.some((d) => d.type === 'n' && d.n === 1), 3000, 'message 1');
    // The server closes with 4408 at exp; the client asks for a new token at once.
    await waitFor(() => h.getCloseReason()?.code === 4408, 5000, 'the 4408 close');
    await waitFor(() => calls >= 2 && h.isConnected(), 3000, 'renewed');
    await waitFor(() => got.some((d) => d.type === 'n' && d.n === 2), 3000, 'message 2, published between the two sockets, caught up');
    assert.equal((await pub(3)).status, 200);
    await waitFor(() => got.some((d) => d.type === 'n' && d.n === 3), 3000, 'message 3');
    assert.deepEqual(statuses, ['connected'], 'no reconnecting, no disconnected');
    assert.deepEqual(got.filter((d) => d.type === 'n').map((d) => d.n), [1, 2, 3], 'each once, in order, no duplicate after the catch-up');
    assert.equal(got.filter((d) => d.type === 'connected').length, 2);
    assert.ok(got.every((d) => d.type !== 'connected' || d.username === 'renewer'));
  } finally { h.disconnect(); }
});

test('README\'s openssl lines mint a token the daemon accepts', async () => {
  const readme = fs.readFileSync(path.join(srcdir, 'README.md'), 'utf8');
  const block = readme.match(/```sh\n(b64url\(\)[^`]*?openssl dgst[^`]*?)```/);
  assert.ok(block, 'README has the minting snippet');
  const r = run('sh', ['-c', block[1].replaceAll('var/token-secret', keyfile)]);
  assert.equal(r.status, 0, r.stderr);
  const tok = r.stdout.trim().split('\n').pop();
  assert.match(tok, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
  const ws = await openWs(`${s.wsUrl}/api/1/ws/private?token=${tok}`);
  assert.equal((await ws.next((m) => m.data?.type === 'connected')).data.username, 'alice');
  ws.close();
});

test('a token sent to a daemon without token_secret_file is refused (401), not ignored', async () => {
  const s2 = await startStack({ pg: s.pg, nginx: false, fcgi: false, config: { namespace: ['/api/1/ws/open'] } });
  try {
    const base = `ws://127.0.0.1:${s2.daemonPort}/api/1/ws/open`;
    let c = await rawWs(base);
    assert.equal(c.status, 101, 'without a token the namespace is open');
    c.destroy();
    c = await rawWs(`${base}?token=${mint(claims())}`);
    assert.equal(c.status, 401);
    c.destroy();
    c = await rawWs(base, { headers: { Authorization: `Bearer ${mint(claims())}` } });
    assert.equal(c.status, 401);
    c.destroy();
    await waitFor(() => /upgrade refused: 401 connection token given, but token_secret_file is not set/.test(s2.log('wspulsed.log')), 3000, 'log line');
  } finally { await s2.stop(); }
});

test('token_secret_file readable by others (secret_file\'s rules), or too short, stops the daemon at start-up naming the file', () => {
  const dir = tmpdir('wsp-tokbad-');
  try {
    const secret = path.join(dir, 'secret');
    run(bin.admin, ['gen-secret', secret]);
    const key = path.join(dir, 'tk');
    fs.writeFileSync(key, KEY + '\n', { mode: 0o644 });
    fs.chmodSync(key, 0o644);
    const conf = writeConfig(dir, { database: s.pg.conninfo, secret_file: secret, token_secret_file: key, listen: '127.0.0.1:1' });
    let r = run(bin.daemon, ['-c', conf], { timeout: 10000 });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, new RegExp(`token secret file ${key} has mode 0644`));
    fs.chmodSync(key, 0o600);
    fs.writeFileSync(key, 'short\n');
    r = run(bin.daemon, ['-c', conf], { timeout: 10000 });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /token secret file .* need 32 to 1024 bytes/);
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});

test('SIGHUP re-reads token_secret_file: the new key signs from then on, the old one is refused, an open socket stays', async () => {
  const base = `${s.wsUrl}/api/1/ws/private`;
  const open = await openWs(`${base}?token=${mint(claims({ sub: 'kept' }))}`);
  await open.next((m) => m.data?.type === 'connected');
  const NEW = crypto.randomBytes(32).toString('hex');
  const reloaded = () => (s.log('wspulsed.log').match(/reload: connection-token key from .* is new/g) || []).length;
  try {
    fs.writeFileSync(keyfile, NEW + '\n', { mode: 0o600 });
    s.daemon.kill('SIGHUP');
    await waitFor(() => reloaded() === 1, 5000, 'the reload log line');
    let c = await rawWs(`${base}?token=${mint(claims(), { key: NEW })}`);
    assert.equal(c.status, 101);
    c.destroy();
    c = await rawWs(`${base}?token=${mint(claims())}`);
    assert.equal(c.status, 401);
    c.destroy();
    // A key file that no longer checks keeps the running key.
    fs.writeFileSync(keyfile, 'short\n');
    s.daemon.kill('SIGHUP');
    await waitFor(() => /reload: token_secret_file: .*need 32 to 1024 bytes.*the old one stays/.test(s.log('wspulsed.log')), 5000, 'the refusal');
    c = await rawWs(`${base}?token=${mint(claims(), { key: NEW })}`);
    assert.equal(c.status, 101);
    c.destroy();
    open.sendJson({ type: 'ping' });
    assert.equal((await open.next((m) => m.data?.type === 'pong')).data.username, 'kept');
  } finally {
    open.close();
    fs.writeFileSync(keyfile, KEY + '\n', { mode: 0o600 });
    s.daemon.kill('SIGHUP');
    await waitFor(() => reloaded() === 2, 5000, 'the key put back');
  }
});
