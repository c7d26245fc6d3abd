// direct-tls.test.mjs - direct mode: wspulsed speaks TLS on `listen` itself
// (tls_cert_file, tls_key_file; src/daemon/tls.c), here with `workers = 2`
// and a test CA made with the openssl command.
//
// Bad certificate/key files are start-up errors naming the file (and
// --check-config says the same); TLS 1.2+ with forward-secret AEAD ciphers
// only; a plain-HTTP request or a failed handshake on the TLS port is a warn
// line and the daemon carries on; SIGHUP re-reads the certificate in every
// worker without closing open sockets.  The protocol torture suite over TLS
// is torture-tls.test.mjs; the browser over wss:// is browser-direct.test.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { startStack, makeTestCert, writeConfig, run, bin, tmpdir, waitFor, sleep, slow } from './lib/stack.mjs';
import { OP, frame, closePayload, openRaw } from './lib/rawws.mjs';

const NS = '/api/1/ws/hello-emoji';
let s;

before(async () => {
  s = await startStack({ tls: true, nginx: false, fcgi: false, config: { workers: 2 } });
});
after(async () => { await s?.stop(); });

/** A TLS handshake with the daemon: resolves { version, cipher, fingerprint } or rejects. */
function handshake(opts = {}) {
  return new Promise((resolve, reject) => {
    const sock = tls.connect({ port: s.daemonPort, host: '127.0.0.1', servername: 'localhost', ca: s.tls.ca, ...opts }, () => {
      const r = { version: sock.getProtocol(), cipher: sock.getCipher().name, fingerprint: sock.getPeerCertificate().fingerprint256 };
      sock.end();   // not destroy(): that could drop our Finished before it is sent
      resolve(r);
    });
    sock.on('error', reject);
  });
}

/** A WebSocket over TLS that got its welcome; rejects otherwise. */
const openTls = (tlsOpts = {}) => openRaw(s.daemonPort, NS, { tls: { ca: s.tls.ca, ...tlsOpts } });

/** Ping through the framework ({type:'ping'} -> pong envelope) on an open socket. */
async function alive(c) {
  c.sendJson({ type: 'ping' });
  const m = await c.nextMessage((x) => x.data?.type === 'pong', 5000 * slow);
  return m.success === true;
}

test('bad certificate or key: one start-up error naming the file, exit 1; --check-config reports the same', async () => {
  const dir = tmpdir('wsp-badtls-');
  const other = makeTestCert(dir, { tag: 'other-' });
  fs.writeFileSync(path.join(dir, 'garbage.pem'), 'this is not a certificate\n');
  const cases = [
    [{ tls_cert_file: path.join(dir, 'missing.pem') }, /tls_cert_file .*missing\.pem: No such file or directory/],
    [{ tls_key_file: path.join(dir, 'missing-key.pem') }, /tls_key_file .*missing-key\.pem: No such file or directory/],
    [{ tls_cert_file: path.join(dir, 'garbage.pem') }, /tls_cert_file .*garbage\.pem: no PEM certificate/],
    [{ tls_key_file: path.join(dir, 'garbage.pem') }, /tls_key_file .*garbage\.pem: no unencrypted PEM private key/],
    [{ tls_key_file: other.keyFile }, /tls_key_file .*other-key\.pem does not match the certificate in tls_cert_file .*cert\.pem/],
    [{ tls_key_file: '' }, /tls_cert_file is set but tls_key_file is not/],
  ];
  try {
    for (const [override, re] of cases) {
      const conf = writeConfig(dir, { ...s.settings, workers: 1, ...override });
      const chk = run(bin.daemon, ['-c', conf, '--check-config']);
      assert.equal(chk.status, 1, `--check-config with ${JSON.stringify(override)}: ${chk.stdout}${chk.stderr}`);
      assert.match(chk.stderr, re);
      const r = run(bin.daemon, ['-c', conf], { timeout: 10000 * slow });
      assert.equal(r.status, 1, `start with ${JSON.stringify(override)}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  // The good files pass --check-config, and it prints the TLS keys.
  const ok = run(bin.daemon, ['-c', s.config, '--check-config']);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, new RegExp(`tls_cert_file = ${s.tls.certFile}`));
});

test('workers = 2 over TLS: every socket gets its welcome through TLS, both workers accept; /health over TLS', async () => {
  const before = s.log('wspulsed.log').length;
  const cs = [];
  try {
    for (let i = 0; i < 24; i++) cs.push(await openTls());
    for (const c of cs) assert.ok(await alive(c));
  } finally {
    for (const c of cs) c.end();
  }
  const pids = new Set([...s.log('wspulsed.log').slice(before)
    .matchAll(/wspulsed\[(\d+)\] DEBUG \[\/api\/1\/ws\/hello-emoji\] client \S+ connected/g)].map((m) => m[1]));
  assert.equal(pids.size, 2, 'both workers accepted TLS connections');
  const h = await s.health();
  assert.equal(h.status, 200);
  assert.equal(h.json.data.status, 'ok');
});

test('TLS 1.2+ only, forward-secret AEAD ciphers; plain HTTP and failed handshakes are warn lines, the daemon carries on', async () => {
  const t13 = await handshake();
  assert.equal(t13.version, 'TLSv1.3');
  const t12 = await handshake({ maxVersion: 'TLSv1.2' });
  assert.equal(t12.version, 'TLSv1.2');
  assert.match(t12.cipher, /^ECDHE-(ECDSA|RSA)-(AES\d+-GCM-SHA\d+|CHACHA20-POLY1305)$/);
  // TLS 1.1 and 1.0: refused by the server even when the client offers them.
  await assert.rejects(handshake({ minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }));
  // A TLS 1.2 client offering only a static-RSA CBC suite: no shared cipher.
  await assert.rejects(handshake({ maxVersion: 'TLSv1.2', ciphers: 'AES128-SHA' }));
  // A client that does not trust the certificate: Node hangs up, OpenSSL's
  // s_client sends an "unknown CA" alert.
  await assert.rejects(handshake({ ca: undefined }));
  const stranger = makeTestCert(s.dir, { tag: 'stranger-' });
  run('openssl', ['s_client', '-connect', `127.0.0.1:${s.daemonPort}`, '-servername', 'localhost', '-verify_return_error',
    '-CAfile', stranger.caFile], { input: '', timeout: 10000 });
  // Plain HTTP on the TLS port.
  await assert.rejects(fetch(`http://127.0.0.1:${s.daemonPort}/health`));
  await waitFor(() => /WARN connection from 127\.0\.0\.1: plain HTTP on the TLS port/.test(s.log('wspulsed.log')) &&
    /unknown ca/.test(s.log('wspulsed.log')), 5000, 'the plain-HTTP and unknown-CA warn lines');
  const log = s.log('wspulsed.log');
  assert.match(log, /WARN connection from 127\.0\.0\.1: TLS handshake failed: (unsupported protocol|wrong version number)/);
  assert.match(log, /WARN connection from 127\.0\.0\.1: TLS handshake failed: no shared cipher/);
  assert.match(log, /WARN connection from 127\.0\.0\.1: TLS handshake failed: tlsv1 alert unknown ca/);
  // One line per failure: the accept path does not add a refusal of its own.
  assert.doesNotMatch(log, /could not adopt/);
  // And it carries on.
  const c = await openTls();
  assert.ok(await alive(c));
  c.end();
  // A burst is rate-limited: at most 10 lines a second, the rest counted.
  const burst = [];
  for (let i = 0; i < 40; i++) burst.push(fetch(`http://127.0.0.1:${s.daemonPort}/x`).catch(() => {}));
  await Promise.all(burst);
  await sleep(1500);
  const lines = s.log('wspulsed.log').split('\n').filter((l) => l.includes('plain HTTP on the TLS port'));
  assert.ok(lines.length < 40, `${lines.length} warn lines for 41 plain requests`);
  assert.ok((await s.health()).status === 200);
});

test('SIGHUP re-reads the certificate: open sockets survive, every worker\'s new handshakes see the new one; a bad key keeps the old', async () => {
  const old = (await handshake()).fingerprint;
  const open = [];
  for (let i = 0; i < 8; i++) open.push(await openTls());
  try {
    // A renewal: a new key pair from the same CA, written over the files.
    const renewed = makeTestCert(s.dir, { tag: 'renewed-', ca: s.tls });
    assert.notEqual(renewed.fingerprint, old);
    fs.copyFileSync(renewed.certFile, s.tls.certFile);
    fs.copyFileSync(renewed.keyFile, s.tls.keyFile);
    s.daemon.kill('SIGHUP');
    await waitFor(() => s.log('wspulsed.log').split('\n').filter((l) => l.includes('reload: TLS certificate re-read')).length >= 2,
      5000 * slow, 'both workers to re-read the certificate');
    for (const c of open) assert.ok(await alive(c), 'a socket opened before the reload still works');
    const seen = new Set();
    for (let i = 0; i < 24; i++) seen.add((await handshake()).fingerprint);
    assert.deepEqual([...seen], [renewed.fingerprint], 'every new handshake, on either worker, gets the new certificate');
    // A bad renewal (the key of another certificate): the old one stays.
    const other = makeTestCert(s.dir, { tag: 'other-', ca: s.tls });
    fs.copyFileSync(other.keyFile, s.tls.keyFile);
    s.daemon.kill('SIGHUP');
    await waitFor(() => /ERROR reload: tls_cert_file: tls_key_file .* does not match the certificate in tls_cert_file .*; the old one stays/.test(s.log('wspulsed.log')),
      5000 * slow, 'the failed reload to be logged');
    for (let i = 0; i < 6; i++) assert.equal((await handshake()).fingerprint, renewed.fingerprint);
    for (const c of open) assert.ok(await alive(c));
    fs.copyFileSync(renewed.keyFile, s.tls.keyFile);
  } finally {
    for (const c of open) { c.send(frame(OP.CLOSE, closePayload(1000))); c.end(); }
  }
});
