// writepath.test.mjs - the daemon's write path (issue 18, part 1), on a plain
// and on a TLS port (direct mode): a message pushed to an empty queue is
// written at the end of the loop iteration instead of after a POLLOUT round
// trip (src/daemon/client.c), so these check the orderings that must hold
// whichever way a frame leaves: the data a client should get comes before
// the close frame, nothing comes after it (no pong, no broadcast), and a
// steady stream to a reader that stopped still ends at the send-queue bound.
// A plain port writes a loop iteration's frames through io_uring (uring.h),
// one with io_uring = off one send() per socket, TLS through lws: every test
// runs on all three, and a frame larger than a stopped reader's socket takes
// (a partial send: io_uring's, or lws_write's that lws holds the rest of)
// must still arrive whole, before the next; each port's debug line says
// when it happened.
// Raw frames (lib/rawws.mjs) so that every frame's order is seen.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startStack, sleep, waitFor, slow, valgrind, builddir } from './lib/stack.mjs';
import { OP, frame, closePayload, connect, openRaw } from './lib/rawws.mjs';

const NS = '/api/1/ws/test-module';
const QUEUE_BYTES = 1048576;      // send_queue_max_bytes (the default)
const QUEUE_MSGS = 400;           // send_queue_max_messages
const stacks = {};

before(async () => {
  const config = {
    modules: path.join(builddir, 'tests/modules/.libs/test-module.so'),
    rate_limit: 100000, max_message_bytes: 65536, max_frame_bytes: 65536,
    send_queue_max_bytes: QUEUE_BYTES, send_queue_max_messages: QUEUE_MSGS,
    max_connections_per_ip: 100,
    // A reader that stopped answers no ping either: under valgrind filling
    // its buffers outlasts 30 + 5 s, and a "no pong" drop would come first.
    ping_interval: 3600,
  };
  // Each port on a database of its own: sharing one, every 60 KB message of one
  // port's test also reached the others' daemons as outbox rows, and a daemon that
  // was behind (valgrind, ASan) pushed its backlog of them into the NEXT test's
  // clients at once, over the 1 MiB bound: that test's sender was closed 1008.
  stacks.plain = await startStack({ nginx: false, fcgi: false, config: { ...config, daemon_id: 'plain' } });
  stacks.tls = await startStack({ nginx: false, fcgi: false, tls: true, config: { ...config, daemon_id: 'tls' } });
  stacks.nouring = await startStack({ nginx: false, fcgi: false, config: { ...config, daemon_id: 'nouring', io_uring: 'off' } });
});
after(async () => {
  for (const s of Object.values(stacks)) await s?.stop();
});

const opts = (s) => ({ tls: s.tls ? { ca: s.tls.ca } : null, timeout: 5000 * slow });
const open = (s) => openRaw(s.daemonPort, NS, opts(s));
const textOf = (f) => { try { return JSON.parse(f.payload.toString()); } catch { return null; } };
/** The frames after the welcome, as {op, data?, code?}.  A namespace
 * broadcast (the 'big' stream, the 'echo's) reaches every client of the
 * port's namespace: tests that count their own messages pick them by type
 * (ownText). */
function frames(c) {
  return c.frames.map((f) => f.opcode === OP.CLOSE
    ? { op: 'close', code: f.payload.length >= 2 ? f.payload.readUInt16BE(0) : 1005 }
    : f.opcode === OP.TEXT ? { op: 'text', data: textOf(f)?.data } : { op: f.opcode === OP.PONG ? 'pong' : `op${f.opcode}` })
    .filter((f) => f.data?.type !== 'connected');
}
const ownText = (fr, type) => fr.filter((f) => f.op === 'text' && f.data?.type === type);
function assertCloseLast(fr, code, what) {
  const i = fr.findIndex((f) => f.op === 'close');
  assert.ok(i >= 0, `${what}: a close frame`);
  assert.equal(fr[i].code, code, `${what}: close code`);
  assert.deepEqual(fr.slice(i + 1), [], `${what}: nothing after the close frame`);
}

test('the plain port writes through io_uring, the other two do not', () => {
  const said = (k) => /writes through io_uring/.test(stacks[k].log('wspulsed.log'));
  assert.ok(said('plain'), 'plain: io_uring in use');
  assert.ok(!said('nouring'), 'io_uring = off: one send() per socket');
  assert.doesNotMatch(stacks.plain.log('wspulsed.log'), /io_uring (unavailable|failed)/);
});

for (const kind of ['plain', 'tls', 'nouring']) {
  test(`${kind}: a frame larger than a stopped reader's socket takes arrives whole, then the next`, async () => {
    const s = stacks[kind];
    // 60 KB messages, one at a time, to a reader that stopped, until one
    // is more than its socket takes (loopback's buffers take a few MB, as
    // many as TCP's autotuning gave this socket): that send takes part of
    // the frame, and the rest must leave before anything else of this
    // socket.  The plain port's partial send is io_uring's; the others'
    // is lws_write's, which holds the rest.  Each port's debug line says
    // when it happened, so no port guesses its socket's size from another's.
    const SIZE = 60000, MAX = 200;
    const slowC = await open(s), sender = await open(s);
    const logBefore = s.log('wspulsed.log').length;
    const line = kind === 'plain'
      ? /the socket took (\d+) of a (\d+)-byte frame, lws sends the rest/
      : /the socket did not take all of a (\d+)-byte write, lws holds the rest/;
    const partial = () => line.exec(s.log('wspulsed.log').slice(logBefore));
    const base = 1000 + Math.floor(Math.random() * 1e6) * 100;
    const mine = (c) => c.frames.filter((f) => f.opcode === OP.TEXT).map(textOf)
      .filter((m) => m?.data?.type === 'big' && m.data.seq >= base && m.data.seq <= base + MAX);
    // The sender reads every message back before it sends the next; if one
    // does not come, say where it stopped and what both sockets saw.
    const echo = (seq, size) => {
      sender.sendJson({ type: 'big', size, seq });
      return sender.nextMessage((m) => m.data?.type === 'big' && m.data.seq === seq, 10000 * slow).catch((e) => {
        const closed = (c) => c.frames.filter((f) => f.opcode === OP.CLOSE).map((f) => f.payload.toString('latin1'));
        throw new Error(`${e.message}: message ${seq - base}; sender's last: ${JSON.stringify(sender.messages.slice(-2).map((x) => x.data?.type))}, `
          + `closes: sender ${JSON.stringify(closed(sender))}, reader ${JSON.stringify(closed(slowC))}; log tail: `
          + s.log('wspulsed.log').slice(logBefore).split('\n').filter((l) => !/ DEBUG /.test(l)).slice(-5).join(' | '));
      });
    };
    slowC.sock.pause();
    let n = 0;
    while (n < MAX && !partial()) {
      await echo(base + n, SIZE);
      n++;
    }
    // The case this test is for happened: a send took part of a frame.
    const m = partial();
    assert.ok(m, `a partial send (after ${n} messages)`);
    if (kind === 'plain')
      assert.ok(Number(m[1]) < Number(m[2]), 'io_uring sent less than the frame');
    console.log(`# ${kind}: a stopped reader's socket took ${n - 1} frames of 60 KB and part of the next`);
    await echo(base + MAX, 10);
    await sleep(100);
    slowC.sock.resume();
    await waitFor(() => mine(slowC).length === n + 1, 10000 * slow, 'every message at the reader that stopped').catch((e) => {
      throw new Error(`${e.message}: it got ${mine(slowC).length} of ${n + 1}`
        + `${slowC.frames.some((f) => f.opcode === OP.CLOSE) ? ', and a close frame' : ''}`);
    });
    const want = [...Array.from({ length: n }, (_, i) => [base + i, SIZE]), [base + MAX, 10]];
    assert.deepEqual(mine(slowC).map((m) => [m.data.seq, m.data.pad.length]), want, 'all of them, whole, in order');
    assert.ok(mine(slowC).every((m) => /^x*$/.test(m.data.pad)), 'every frame intact');
    assert.ok(!slowC.frames.some((f) => f.opcode === OP.CLOSE), 'the reader stays connected');
    slowC.end(); sender.end();
  });

  test(`${kind}: a close frame never precedes queued data (module sends a burst, then closes)`, async () => {
    const s = stacks[kind];
    // A reader that keeps up: the burst goes out as it is pushed.
    let c = await open(s);
    c.sendJson({ type: 'burst-close', n: 50, size: 100 });
    await c.waitClose(5000 * slow);
    let fr = frames(c);
    assert.deepEqual(ownText(fr, 'burst').map((f) => f.data.seq), Array.from({ length: 50 }, (_, i) => i + 1));
    assertCloseLast(fr, 4050, 'fast reader');
    c.end();
    // A reader that stops for a moment: 200 x 4 KB is more than the socket
    // buffers take at once, so most of the burst is still queued in the
    // daemon when the close is asked for; it must all arrive, then the close.
    c = await open(s);
    c.sendJson({ type: 'burst-close', n: 200, size: 4000 });
    c.sock.pause();
    await sleep(150);
    c.sock.resume();
    await c.waitClose(5000 * slow);
    fr = frames(c);
    const seqs = ownText(fr, 'burst').map((f) => f.data.seq);
    assert.equal(seqs.length, 200, `every message of the burst before the close (got ${seqs.length})`);
    assert.deepEqual(seqs, Array.from({ length: 200 }, (_, i) => i + 1));
    assertCloseLast(fr, 4200, 'paused reader');
    c.end();
  });

  test(`${kind}: a pong never overtakes a close`, async () => {
    const s = stacks[kind];
    // The close is asked for first: neither the application pong nor lws's
    // protocol pong may follow the close frame, and the application ping,
    // read after the close was decided, gets no pong at all.
    let c = await open(s);
    c.send(Buffer.concat([frame(OP.TEXT, Buffer.from(JSON.stringify({ type: 'close-me' }))),
      frame(OP.TEXT, Buffer.from(JSON.stringify({ type: 'ping' }))), frame(OP.PING, Buffer.from('abc'))]));
    await c.waitClose(5000 * slow);
    let fr = frames(c);
    assert.deepEqual(ownText(fr, 'pong'), [], 'no application pong after the close was decided');
    assertCloseLast(fr, 4000, 'close, then pings');
    c.end();
    // The ping first: its pong is queued data the client gets before the close.
    c = await open(s);
    c.send(Buffer.concat([frame(OP.TEXT, Buffer.from(JSON.stringify({ type: 'ping' }))),
      frame(OP.TEXT, Buffer.from(JSON.stringify({ type: 'close-me' })))]));
    await c.waitClose(5000 * slow);
    fr = frames(c);
    assert.deepEqual(ownText(fr, 'pong').map((f) => f.data.type), ['pong']);
    assertCloseLast(fr, 4000, 'ping, then close');
    c.end();
  });

  test(`${kind}: nothing follows the close frame lws sends itself (invalid UTF-8 -> 1007) while broadcasts flow`, async () => {
    const s = stacks[kind];
    const a = await open(s), b = await open(s);
    // a does not answer the close: lws waits for the acknowledgement with
    // the socket open, while b's broadcasts keep reaching a's queue.
    a.send = () => {};
    let stop = false, n = 0;
    const pump = (async () => {
      while (!stop) { b.sendJson({ type: 'echo', n: ++n }); await sleep(2); }
    })();
    await b.nextMessage((m) => m.data?.type === 'echo', 5000 * slow);
    a.sock.write(frame(OP.TEXT, Buffer.from([0x7b, 0xff, 0xfe, 0x7d])));
    await waitFor(() => frames(a).some((f) => f.op === 'close'), 5000 * slow, 'the 1007 close frame');
    await sleep(500);
    stop = true;
    await pump;
    const fr = frames(a);
    assert.ok(fr.some((f) => f.op === 'text' && f.data.type === 'echo'), 'broadcasts reached a before its close');
    assertCloseLast(fr, 1007, 'lws closed it');
    a.end(); b.end();
  });

  test(`${kind}: a steady stream to a reader that stopped ends at the send-queue bound (1008), memory bounded`, async () => {
    const s = stacks[kind];
    const rss = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${s.daemon.pid}/status`, 'utf8'))[1]);
    const id = `00000000-0000-4000-8000-00000000000${kind === 'tls' ? 2 : 1}`;
    const slowC = await openRaw(s.daemonPort, `${NS}?uuid=${id}`, opts(s)), fast = await open(s);
    slowC.sock.pause();
    const before = rss();
    const logBefore = s.log('wspulsed.log').length;
    // 60 KB messages (over the NOTIFY limit: the module's broadcast goes
    // through the outbox, delivered locally at once) fill the kernel's
    // buffers of the stopped socket within a second, even under valgrind.
    // At most 8 ahead of what the reading client has, so a slow daemon
    // (valgrind) is never buried under a backlog of requests, and the
    // READING client's queue stays far under the 1 MiB bound (17 x 60 KB):
    // under ASan at load 10+ an open-loop pump had the daemon read dozens
    // of requests in one wake-up and close the reading client 1008 ("the
    // daemon is behind") before the stopped one's queue filled.
    let stop = false, n = 0;
    const got = () => fast.messages.filter((m) => m.data?.type === 'big').length;
    const pump = (async () => {
      while (!stop) {
        if (n - got() < 8) fast.sendJson({ type: 'big', size: 60000, seq: ++n });
        await sleep(5);
      }
    })();
    const full = () => new RegExp(`client ${id} .*send queue full \\((\\d+) messages, (\\d+) bytes; .*\\), closing 1008`, 'i')
      .exec(s.log('wspulsed.log').slice(logBefore));
    try {
      await waitFor(() => full(), 30000 * slow, 'the slow reader closed at its queue bound');
    } finally {
      stop = true;
      await pump;
    }
    const [, msgs, bytes] = full();
    assert.ok(Number(msgs) <= QUEUE_MSGS && Number(bytes) <= QUEUE_BYTES, `queue within its bounds (${msgs} messages, ${bytes} bytes)`);
    // Kernel buffers are not in RSS; the daemon's own growth is the queue
    // (at most 1 MiB) and what lws holds of one write.  (Not under ASan,
    // whose quarantine keeps every freed block, nor valgrind: there the
    // bound is the 1008 above.)
    const grown = rss() - before;
    const asan = fs.readFileSync(`/proc/${s.daemon.pid}/maps`, 'utf8').includes('libasan');
    if (!asan && !valgrind)
      assert.ok(grown < 16384, `wspulsed grew ${grown} KiB while streaming ${n} messages to a reader that stopped`);
    slowC.sock.resume();
    const r = await slowC.waitClose(10000 * slow);
    assert.ok(r.code === 1008 || r.code === 1006, `the slow reader is closed (${r.code})`);
    // The reading client got every message in order.
    await waitFor(() => got() === n, 10000 * slow, 'the reading client to get the stream');
    const seqs = fast.messages.filter((m) => m.data?.type === 'big').map((m) => m.data.seq);
    assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), 'in order');
    slowC.end(); fast.end();
  });
}
