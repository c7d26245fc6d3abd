// rawws.mjs - a raw-socket WebSocket client for the protocol torture tests.
//
// Deliberately NOT a WebSocket library: node:net, a hand-written HTTP/1.1
// upgrade, and frames built byte by byte, so a test can send exactly the
// malformed thing it means to (unmasked frames, reserved bits, bad opcodes,
// oversized control frames, broken UTF-8, interleaved fragments, a handshake
// that never ends).  Incoming frames are parsed strictly enough to read the
// server's close code.
import crypto from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';

/**
 * Defaults for every connection: `tls` (null: plain TCP; an object: TLS,
 * passed to tls.connect, e.g. { ca }) - a suite sets it once to run the
 * same cases over TLS (direct mode).
 */
export const rawDefaults = { tls: null };

/**
 * A TCP (or, with tlsOpts / rawDefaults.tls, TLS) connection to
 * host:port.  Resolves once it can carry bytes (after the TLS handshake).
 */
export function rawSocket(port, host = '127.0.0.1', tlsOpts = rawDefaults.tls) {
  return new Promise((resolve, reject) => {
    const sock = tlsOpts ? tls.connect({ port, host, servername: 'localhost', ...tlsOpts }) : net.connect(port, host);
    sock.once(tlsOpts ? 'secureConnect' : 'connect', () => { sock.off('error', reject); resolve(sock); });
    sock.once('error', reject);
  });
}

export const OP = { CONT: 0x0, TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xa };

/**
 * Build one frame.  opts: fin (true), rsv (0..7, the RSV1-3 bits), mask
 * (true: a client frame as RFC 6455 requires), maskKey (4 bytes),
 * lengthOverride (put this in the length field instead of the real one).
 */
export function frame(opcode, payload = Buffer.alloc(0), opts = {}) {
  const { fin = true, rsv = 0, mask = true } = opts;
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const len = opts.lengthOverride ?? data.length; // a number, or a BigInt above 2^53
  const head = [((fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0xf))];
  const m = mask ? 0x80 : 0;
  let ext = Buffer.alloc(0);
  if (len < 126) head.push(m | len);
  else if (len < 65536) { head.push(m | 126); ext = Buffer.alloc(2); ext.writeUInt16BE(len); }
  else { head.push(m | 127); ext = Buffer.alloc(8); ext.writeBigUInt64BE(BigInt(len)); }
  if (!mask) return Buffer.concat([Buffer.from(head), ext, data]);
  const key = opts.maskKey || crypto.randomBytes(4);
  const body = Buffer.from(data);
  for (let i = 0; i < body.length; i++) body[i] ^= key[i & 3];
  return Buffer.concat([Buffer.from(head), ext, key, body]);
}

/** A close frame's payload: 2-byte code (omitted when code is null) + reason. */
export function closePayload(code, reason = '') {
  const r = Buffer.isBuffer(reason) ? reason : Buffer.from(reason);
  if (code === null || code === undefined) return r;
  const b = Buffer.alloc(2);
  b.writeUInt16BE(code);
  return Buffer.concat([b, r]);
}

/**
 * Open a TCP connection and send the HTTP upgrade for `path`.  Resolves with
 * a connection object once the server answered the handshake (any status):
 *   { status, headers, sock, frames: [...], messages: [...], closed, send(buf),
 *     sendText(str), waitClose(ms), nextMessage(ms), end() }
 * `closed` resolves with { code, reason, closeFrame } where code is the
 * server's close code, 1005 for a close frame without one, and 1006 when the
 * TCP connection ended without any close frame.
 */
export function connect(port, path, { headers = {}, host = '127.0.0.1', timeout = 5000, early = null, tls: tlsOpts = rawDefaults.tls } = {}) {
  return new Promise((resolve, reject) => {
    const sock = tlsOpts ? tls.connect({ port, host, servername: 'localhost', ...tlsOpts }) : net.connect(port, host);
    const key = crypto.randomBytes(16).toString('base64');
    let buf = Buffer.alloc(0);
    let conn = null;
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`no handshake answer within ${timeout} ms`)); }, timeout);
    sock.on('error', (e) => { if (!conn) { clearTimeout(timer); reject(e); } });
    sock.on(tlsOpts ? 'secureConnect' : 'connect', () => {
      const h = {
        Host: `${host}:${port}`,
        Upgrade: 'websocket',
        Connection: 'Upgrade',
        'Sec-WebSocket-Key': key,
        'Sec-WebSocket-Version': '13',
        ...headers,
      };
      let req = `GET ${path} HTTP/1.1\r\n`;
      for (const [k, v] of Object.entries(h)) if (v !== null && v !== undefined) req += `${k}: ${v}\r\n`;
      // `early`: bytes sent in the same write, before the server's answer
      // (a client that does not wait for the 101).
      sock.write(early ? Buffer.concat([Buffer.from(req + '\r\n'), early]) : req + '\r\n');
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!conn) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
        const status = Number(lines[0].split(' ')[1]);
        const hdrs = {};
        for (const l of lines.slice(1)) {
          const i = l.indexOf(':');
          if (i > 0) hdrs[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
        }
        buf = buf.subarray(end + 4);
        conn = makeConn(sock, status, hdrs, key);
        clearTimeout(timer);
        resolve(conn);
      }
      if (conn.status === 101) buf = conn.feed(buf);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      if (!conn) reject(new Error('connection closed before a handshake answer'));
      else conn.onEnd();
    });
  });
}

function makeConn(sock, status, headers, key) {
  const expectAccept = crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  let closeInfo = null;
  let resolveClosed;
  const waiters = [];
  const c = {
    status, headers, sock,
    acceptOk: headers['sec-websocket-accept'] === expectAccept,
    frames: [], messages: [],
    closed: new Promise((r) => { resolveClosed = r; }),
    fragments: null,
    send(b) { if (!sock.destroyed) sock.write(b); },
    sendText(s) { c.send(frame(OP.TEXT, Buffer.from(s))); },
    sendJson(o) { c.sendText(JSON.stringify(o)); },
    /** Resolve with the next (or an already received) text message matching pred. */
    nextMessage(pred = () => true, ms = 5000) {
      const i = c.messages.findIndex(pred);
      if (i >= 0) return Promise.resolve(c.messages.splice(i, 1)[0]);
      return new Promise((res, rej) => {
        const w = { pred, res };
        const t = setTimeout(() => { waiters.splice(waiters.indexOf(w), 1); rej(new Error(`no matching message within ${ms} ms`)); }, ms);
        w.res = (m) => { clearTimeout(t); res(m); };
        waiters.push(w);
      });
    },
    /** The close result, or a rejection after ms. */
    waitClose(ms = 5000) {
      return Promise.race([c.closed, new Promise((_, rej) => setTimeout(() => rej(new Error(`server did not close within ${ms} ms`)), ms))]);
    },
    end() { sock.destroy(); },
    onEnd() {
      if (!closeInfo) closeInfo = { code: 1006, reason: '', closeFrame: false };
      resolveClosed(closeInfo);
    },
    /** Parse server frames out of buf; returns the unparsed rest. */
    feed(buf) {
      for (;;) {
        if (buf.length < 2) return buf;
        const b0 = buf[0], b1 = buf[1];
        let len = b1 & 0x7f, off = 2;
        if (len === 126) { if (buf.length < 4) return buf; len = buf.readUInt16BE(2); off = 4; }
        else if (len === 127) { if (buf.length < 10) return buf; len = Number(buf.readBigUInt64BE(2)); off = 10; }
        if (b1 & 0x80) off += 4; // a server must not mask; tolerate it in the parser
        if (buf.length < off + len) return buf;
        const payload = buf.subarray(off, off + len);
        buf = buf.subarray(off + len);
        const f = { fin: !!(b0 & 0x80), rsv: (b0 >> 4) & 7, opcode: b0 & 0xf, masked: !!(b1 & 0x80), payload };
        c.frames.push(f);
        if (f.opcode === OP.CLOSE) {
          if (!closeInfo) {
            closeInfo = payload.length >= 2
              ? { code: payload.readUInt16BE(0), reason: payload.subarray(2).toString(), closeFrame: true }
              : { code: 1005, reason: '', closeFrame: true };
            // Answer the close as a client does, then let the server end TCP.
            try { c.send(frame(OP.CLOSE, payload.length >= 2 ? payload.subarray(0, 2) : Buffer.alloc(0))); } catch {}
          }
        } else if (f.opcode === OP.PING) {
          c.send(frame(OP.PONG, payload));
        } else if (f.opcode === OP.TEXT || f.opcode === OP.BINARY || f.opcode === OP.CONT) {
          c.fragments = c.fragments ? Buffer.concat([c.fragments, payload]) : payload;
          if (f.fin) {
            const text = c.fragments.toString();
            c.fragments = null;
            let m;
            try { m = JSON.parse(text); } catch { m = { raw: text }; }
            const w = waiters.find((x) => x.pred(m));
            if (w) { waiters.splice(waiters.indexOf(w), 1); w.res(m); } else c.messages.push(m);
          }
        }
      }
    },
  };
  return c;
}

/**
 * Open a raw connection and wait for the welcome envelope; resolves with the
 * connection.  Throws when the handshake is refused or no welcome comes.
 */
export async function openRaw(port, path, opts = {}) {
  const c = await connect(port, path, opts);
  if (c.status !== 101) { c.end(); throw new Error(`handshake answered ${c.status}, not 101`); }
  if (!c.acceptOk) { c.end(); throw new Error('bad Sec-WebSocket-Accept'); }
  await c.nextMessage((m) => m.data?.type === 'connected', opts.timeout || 5000);
  return c;
}
