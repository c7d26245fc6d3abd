// torture-lws.test.mjs - the torture cases libwebsockets 4.1.6 fails (issue 8).
//
// The cases of the Autobahn|Testsuite list (which cannot run here), plus the
// daemon's own limits, sent with a raw-socket client (lib/rawws.mjs) straight
// to wspulsed.  Every case asserts the exact close code (RFC 6455 section
// 7.4.1: 1002 protocol error, 1007 invalid payload data, 1009 message too
// big) or HTTP status, and after every case a normal client still gets its
// welcome and a clean close.
//
// These fail with Debian 12's libwebsockets 4.1.6 and cannot be fixed from
// wspulsed's callbacks: lws accepts unmasked client frames (no check of the
// MASK bit on the server side), drops the TCP connection without a close
// frame on a control frame over 125 bytes ("illegal_ctl_length"), and on a
// close frame whose reason is invalid UTF-8.  Out of TESTS (make
// check-torture runs them) until wspulsed carries a frame pre-check or lws
// is upgraded; the rest of the suite is torture.test.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startStack, sleep, slow } from './lib/stack.mjs';
import { OP, frame, closePayload, connect, openRaw } from './lib/rawws.mjs';

const NS = '/api/1/ws/hello-todo';
const MAX_FRAME = 4096;          // max_frame_bytes: the hard cap (close 1009)
const MAX_MESSAGE = 1024;        // max_message_bytes: error envelope 413
const HANDSHAKE_TIMEOUT = 2;     // seconds
const PER_IP = 6;                // max_connections_per_ip

let s;
before(async () => {
  s = await startStack({
    nginx: false,
    config: {
      max_frame_bytes: MAX_FRAME,
      max_message_bytes: MAX_MESSAGE,
      handshake_timeout: HANDSHAKE_TIMEOUT,
      max_connections_per_ip: PER_IP,
      rate_limit: 1000,
    },
  });
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

test('unmasked client frame: close 1002', async () => {
  await expectClose([frame(OP.TEXT, '{"type":"ping"}', { mask: false })], 1002, { what: 'unmasked text' });
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
