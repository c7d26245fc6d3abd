// torture-suite.mjs - the WebSocket protocol torture suite (issue 8, item 1),
// shared by torture.test.mjs (a plain port) and torture-tls.test.mjs (a TLS
// port: direct mode, where the frame pre-check reads the decrypted bytes
// from an interposed SSL_read(), src/daemon/rxhook.c).
//
// The cases of the Autobahn|Testsuite list (which cannot run here), plus the
// daemon's own limits, sent with a raw-socket client (lib/rawws.mjs) straight
// to wspulsed.  Every case asserts the exact close code (RFC 6455 section
// 7.4.1: 1002 protocol error, 1007 invalid payload data, 1009 message too
// big) or HTTP status, and after every case a normal client still gets its
// welcome and a clean close.
//
// Some of these libwebsockets 4.1.6 gets wrong by itself (it accepts
// unmasked client frames and drops the TCP connection without a close frame
// on an over-long control frame, a close reason that is not UTF-8 or a
// length with its top bit set): wspulsed answers those from its frame
// pre-check (src/daemon/frameguard.c, wired in by rxhook.c) before lws
// parses the bytes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, sleep, slow } from './stack.mjs';
import { OP, frame, closePayload, connect, openRaw, rawSocket, rawDefaults } from './rawws.mjs';

const NS = '/api/1/ws/hello-todo';
const MAX_FRAME = 4096;          // max_frame_bytes: the hard cap (close 1009)
const MAX_MESSAGE = 1024;        // max_message_bytes: error envelope 413
const HANDSHAKE_TIMEOUT = 2;     // seconds
const PER_IP = 6;                // max_connections_per_ip

export function tortureSuite({ tls = false } = {}) {
let s;
before(async () => {
  s = await startStack({
    nginx: false,
    tls,
    config: {
      max_frame_bytes: MAX_FRAME,
      max_message_bytes: MAX_MESSAGE,
      handshake_timeout: HANDSHAKE_TIMEOUT,
      max_connections_per_ip: PER_IP,
      rate_limit: 1000,
    },
  });
  rawDefaults.tls = tls ? { ca: s.tls.ca } : null;
});
after(async () => { await s?.stop(); });

/** A normal client still connects, gets its welcome and closes cleanly. */
async function assertHealthy() {
  const c = await openRaw(s.daemonPort, `${NS}?uuid=00000000-0000-4000-8000-000000000001`);
  c.send(frame(OP.CLOSE, closePayload(1000)));
  const r = await c.waitClose(5000 * slow);
  assert.equal(r.code, 1000, 'a normal client closes with 1000');
  c.end();
}

/** Open a socket, send the frames, expect the server to close with `code`. */
async function expectClose(frames, code, { what = '', wait = 12000, gap = 0 } = {}) {
  const c = await openRaw(s.daemonPort, NS);
  let r, closed = false;
  c.closed.then(() => { closed = true; });
  try {
    for (const f of frames) {
      if (closed) break;
      c.send(f);
      if (gap) await sleep(gap);
    }
    r = await c.waitClose(wait * slow);
  } finally {
    c.end(); // a socket the server failed to close must not hold a per-address slot
  }
  assert.equal(r.code, code, `${what}: expected close ${code}, got ${r.code}${r.closeFrame ? '' : ' (TCP closed without a close frame)'}`);
  await assertHealthy();
  return r;
}

test('baseline: a raw client gets the welcome envelope and a clean close', async () => {
  await assertHealthy();
});

test('an upgrade request over 16 KB is answered 431 and closed (over TLS too: the pre-check reads the decrypted bytes)', async () => {
  const c = await connect(s.daemonPort, NS, { headers: { 'X-Pad-1': 'p'.repeat(7000), 'X-Pad-2': 'q'.repeat(7000), 'X-Pad-3': 'r'.repeat(4000) }, timeout: 5000 * slow });
  assert.equal(c.status, 431);
  c.end();
  await assertHealthy();
});

for (const rsv of [4, 2, 1]) {
  test(`reserved bit RSV${rsv === 4 ? 1 : rsv === 2 ? 2 : 3} set with no extension: close 1002`, async () => {
    await expectClose([frame(OP.TEXT, '{"a":1}', { rsv })], 1002, { what: `rsv=${rsv}` });
  });
}

for (const op of [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
  test(`reserved opcode 0x${op.toString(16)}: close 1002`, async () => {
    await expectClose([frame(op, 'x')], 1002, { what: `opcode ${op}` });
  });
}

test('unmasked client frame: close 1002, logged once at warn', async () => {
  const r = await expectClose([frame(OP.TEXT, '{"type":"ping"}', { mask: false })], 1002, { what: 'unmasked text' });
  assert.equal(r.reason, 'unmasked client frame');
  const lines = s.log('wspulsed.log').split('\n').filter((l) => l.includes('unmasked client frame, closing 1002'));
  assert.equal(lines.length, 1, 'one warn line');
  assert.match(lines[0], /warn/i);
});

test('an unmasked frame after valid frames in the same write: close 1002', async () => {
  await expectClose([Buffer.concat([
    frame(OP.TEXT, '{"type":"ping"}'),
    frame(OP.PING, 'x'),
    frame(OP.TEXT, '{"type":"ping"}', { mask: false }),
  ])], 1002, { what: 'unmasked after valid' });
});

test('ping with a 126-byte payload (over 125): close 1002', async () => {
  await expectClose([frame(OP.PING, Buffer.alloc(126, 0x61))], 1002, { what: 'long ping' });
});

test('close frame with a 126-byte payload: close 1002', async () => {
  await expectClose([frame(OP.CLOSE, closePayload(1000, 'x'.repeat(124)))], 1002, { what: 'long close' });
});

test('close reason with invalid UTF-8: close 1007', async () => {
  await expectClose([frame(OP.CLOSE, closePayload(1000, Buffer.from([0xff, 0xfe])))], 1007, { what: 'bad reason' });
});

test('close reason with invalid UTF-8 split across writes: close 1007', async () => {
  // An overlong "/" (C0 AF) with the frame cut between its two bytes.
  const f = frame(OP.CLOSE, closePayload(1000, Buffer.from([0x61, 0xc0, 0xaf])));
  await expectClose([f.subarray(0, f.length - 1), f.subarray(f.length - 1)], 1007, { what: 'split bad reason', gap: 50 });
});

test('a frame length with its top bit set (2^63): close 1002', async () => {
  await expectClose([frame(OP.TEXT, Buffer.alloc(16, 0x20), { lengthOverride: 2n ** 63n })], 1002, { what: 'length top bit' });
});

test('a frame sent along with the upgrade request (before the 101): close 1002', async () => {
  const c = await connect(s.daemonPort, NS, { early: frame(OP.TEXT, '{"type":"ping"}') });
  let r;
  try {
    assert.equal(c.status, 101);
    r = await c.waitClose(12000 * slow);
  } finally {
    c.end();
  }
  assert.equal(r.code, 1002, `expected close 1002, got ${r.code}${r.closeFrame ? '' : ' (TCP closed without a close frame)'}`);
  await assertHealthy();
});

test('fragmented control frame (ping with FIN=0): close 1002', async () => {
  await expectClose([frame(OP.PING, 'a', { fin: false }), frame(OP.CONT, 'b')], 1002, { what: 'fragmented ping' });
});

test('a ping of exactly 125 bytes is answered with a pong of the same payload', async () => {
  const c = await openRaw(s.daemonPort, NS);
  const payload = Buffer.alloc(125, 0x62);
  c.send(frame(OP.PING, payload));
  const deadline = Date.now() + 3000 * slow;
  while (!c.frames.some((f) => f.opcode === OP.PONG) && Date.now() < deadline) await sleep(20);
  const pong = c.frames.find((f) => f.opcode === OP.PONG);
  assert.ok(pong, 'pong received');
  assert.deepEqual(pong.payload, payload);
  c.end();
  await assertHealthy();
});

const BAD_UTF8 = {
  'lone 0xFF': Buffer.from([0x7b, 0xff, 0x7d]),
  'overlong NUL (C0 80)': Buffer.from([0x22, 0xc0, 0x80, 0x22]),
  'UTF-16 surrogate (ED A0 80)': Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]),
  'above U+10FFFF (F4 90 80 80)': Buffer.from([0x22, 0xf4, 0x90, 0x80, 0x80, 0x22]),
  'truncated at the end (E2 82)': Buffer.from([0x22, 0x61, 0xe2, 0x82]),
};
for (const [name, bytes] of Object.entries(BAD_UTF8)) {
  test(`invalid UTF-8 in a text frame (${name}): close 1007`, async () => {
    await expectClose([frame(OP.TEXT, bytes)], 1007, { what: name });
  });
}

test('invalid UTF-8 split across fragments: close 1007', async () => {
  // "κ" is CE BA: the first fragment ends after CE, the second goes on with
  // a byte that is not a continuation byte.
  await expectClose([
    frame(OP.TEXT, Buffer.from([0x22, 0xce]), { fin: false }),
    frame(OP.CONT, Buffer.from([0x41, 0x22]), { fin: true }),
  ], 1007, { what: 'split invalid' });
});

test('valid UTF-8 split mid-character across fragments is one message (no close)', async () => {
  const c = await openRaw(s.daemonPort, NS);
  const text = Buffer.from('{"type":"ping","t":"κόσμε"}');
  const cut = text.indexOf(0xce) + 1; // inside the first two-byte character
  c.send(frame(OP.TEXT, text.subarray(0, cut), { fin: false }));
  c.send(frame(OP.CONT, text.subarray(cut, cut + 3), { fin: false }));
  c.send(frame(OP.CONT, text.subarray(cut + 3), { fin: true }));
  c.send(frame(OP.CLOSE, closePayload(1000)));
  const r = await c.waitClose(5000 * slow);
  assert.equal(r.code, 1000, 'the message was accepted and the close echoed');
  c.end();
});

for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535]) {
  test(`close frame with invalid code ${code}: close 1002`, async () => {
    await expectClose([frame(OP.CLOSE, closePayload(code))], 1002, { what: `code ${code}` });
  });
}

test('close frame with a 1-byte payload: close 1002', async () => {
  await expectClose([frame(OP.CLOSE, Buffer.from([0x03]))], 1002, { what: '1-byte close' });
});

for (const code of [1000, 1001, 1003, 3000, 4999]) {
  test(`close frame with valid code ${code} is echoed`, async () => {
    await expectClose([frame(OP.CLOSE, closePayload(code, 'bye'))], code, { what: `code ${code}` });
  });
}

test('close frame without a code is answered (1005: no code)', async () => {
  await expectClose([frame(OP.CLOSE)], 1005, { what: 'empty close' });
});

test(`one frame over the hard cap (max_frame_bytes=${MAX_FRAME}): close 1009`, async () => {
  const big = Buffer.alloc(MAX_FRAME + 1, 0x20);
  await expectClose([frame(OP.TEXT, big)], 1009, { what: 'big frame' });
});

test('a frame announcing 2^62 bytes: close 1009 at its first bytes', async () => {
  // The header and the start of the payload; the rest never comes.
  const head = frame(OP.TEXT, Buffer.alloc(64, 0x20), { lengthOverride: 2 ** 62 });
  await expectClose([head], 1009, { what: 'huge length' });
});

test('a fragmented message whose total passes the hard cap: close 1009', async () => {
  // One fragment at a time, as a client streams it: the close comes after
  // the third (4500 > 4096 bytes) and nothing is sent once it has.
  const part = Buffer.alloc(1500, 0x20);
  await expectClose([
    frame(OP.TEXT, part, { fin: false }),
    frame(OP.CONT, part, { fin: false }),
    frame(OP.CONT, part, { fin: false }),
    frame(OP.CONT, part, { fin: true }),
  ], 1009, { what: 'fragmented big', gap: 100 });
});

test(`a message over max_message_bytes (${MAX_MESSAGE}) but under the cap: error 413, socket stays open`, async () => {
  const c = await openRaw(s.daemonPort, NS);
  c.sendJson({ type: 'x', pad: 'y'.repeat(MAX_MESSAGE + 10) });
  const m = await c.nextMessage((m) => m.success === false, 5000 * slow);
  assert.equal(m.code, 413);
  assert.equal(m.username, '');
  c.send(frame(OP.CLOSE, closePayload(1000)));
  assert.equal((await c.waitClose(5000 * slow)).code, 1000, 'still open after the refusal');
  c.end();
});

test('continuation frame with nothing to continue: close 1002', async () => {
  await expectClose([frame(OP.CONT, 'x', { fin: true })], 1002, { what: 'lone continuation' });
});

test('a new text frame inside a fragmented message (interleaved): close 1002', async () => {
  await expectClose([
    frame(OP.TEXT, '{"a":', { fin: false }),
    frame(OP.TEXT, '{"b":2}', { fin: true }),
  ], 1002, { what: 'interleaved text' });
});

test('a binary frame inside a fragmented text message: close 1002', async () => {
  await expectClose([
    frame(OP.TEXT, '{"a":', { fin: false }),
    frame(OP.BINARY, 'zz', { fin: false }),
  ], 1002, { what: 'interleaved binary' });
});

test('a ping between fragments is answered and the message completes', async () => {
  const c = await openRaw(s.daemonPort, NS);
  c.send(frame(OP.TEXT, '{"type":', { fin: false }));
  c.send(frame(OP.PING, 'mid'));
  c.send(frame(OP.CONT, '"ping"}', { fin: true }));
  const deadline = Date.now() + 3000 * slow;
  while (!c.frames.some((f) => f.opcode === OP.PONG) && Date.now() < deadline) await sleep(20);
  assert.ok(c.frames.some((f) => f.opcode === OP.PONG && f.payload.toString() === 'mid'), 'pong for the interleaved ping');
  c.send(frame(OP.CLOSE, closePayload(1000)));
  assert.equal((await c.waitClose(5000 * slow)).code, 1000);
  c.end();
});

test(`a handshake that never finishes (slowloris) is closed after handshake_timeout (${HANDSHAKE_TIMEOUT} s)`, async () => {
  const sock = await rawSocket(s.daemonPort);
  const started = Date.now();
  const ended = new Promise((r) => sock.on('close', r));
  sock.on('error', () => {});
  // One header line a second, never the blank line that ends the request.
  sock.write(`GET ${NS} HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
  const drip = setInterval(() => { if (!sock.destroyed) sock.write(`X-Drip-${Date.now()}: 1\r\n`); }, 1000);
  const limit = (HANDSHAKE_TIMEOUT + 3) * 1000 * slow;
  const t = setTimeout(() => sock.destroy(new Error('still open')), limit);
  await ended;
  clearInterval(drip);
  clearTimeout(t);
  const took = Date.now() - started;
  assert.ok(took < limit, `closed after ${took} ms, limit ${limit} ms`);
  assert.ok(took >= (HANDSHAKE_TIMEOUT - 1) * 1000, `closed after ${took} ms, not before the timeout`);
  await assertHealthy();
});

test(`a connection that sends nothing at all${tls ? ' after the TLS handshake' : ''} is closed after handshake_timeout`, async () => {
  const sock = await rawSocket(s.daemonPort);
  sock.on('error', () => {});
  const started = Date.now();
  const limit = (HANDSHAKE_TIMEOUT + 3) * 1000 * slow;
  const closed = await Promise.race([new Promise((r) => sock.on('close', () => r(true))), sleep(limit).then(() => false)]);
  sock.destroy();
  assert.ok(closed, `idle connection still open after ${Date.now() - started} ms`);
  await assertHealthy();
});

test(`a flood from one address: connection ${PER_IP + 1} is refused with 429, the others work`, async () => {
  const open = [];
  // Earlier cases' sockets are gone once the daemon has counted them out.
  await sleep(500);
  try {
    for (let i = 0; i < PER_IP; i++) open.push(await openRaw(s.daemonPort, NS));
    const extra = await connect(s.daemonPort, NS);
    extra.end();
    assert.equal(extra.status, 429, `the connection over max_connections_per_ip got ${extra.status}`);
    // Every socket under the cap is still alive.
    for (const c of open) {
      c.send(frame(OP.PING, 'alive'));
    }
    await sleep(300);
    for (const c of open) assert.ok(c.frames.some((f) => f.opcode === OP.PONG), 'socket under the cap answers');
  } finally {
    for (const c of open) c.end();
  }
  // Closed sockets free their slots.
  await sleep(300);
  await assertHealthy();
});

test('the daemon is still healthy after the whole suite', async () => {
  const res = await s.health();
  assert.equal(res.status, 200);
  await assertHealthy();
});

test('a ping in the same write before a bad frame gets no pong after the close frame', async () => {
  // lws must not see the frames in front of the bad one: it would answer
  // the ping after our close frame (RFC 6455 5.5.1: nothing after Close).
  const c = await openRaw(s.daemonPort, NS);
  try {
    c.send(Buffer.concat([frame(OP.PING, 'abc'), frame(OP.TEXT, '{"a":1}', { mask: false })]));
    const r = await c.waitClose(5000 * slow);
    assert.equal(r.code, 1002, 'the unmasked frame fails the connection');
    await sleep(300);
    const ops = c.frames.map((f) => f.opcode);
    assert.deepEqual(ops.slice(ops.indexOf(OP.CLOSE)), [OP.CLOSE], `frames from the server: ${ops}`);
  } finally {
    c.end();
  }
  await assertHealthy();
});
}
