// rawclient.mjs - a small WebSocket client over node:net for the cases Node's
// built-in WebSocket cannot do (lib/rawws.mjs is the byte-exact one for the torture suite): custom headers (Cookie, Origin, X-Real-IP),
// seeing the HTTP status of a refused handshake, seeing protocol pings,
// not answering pings, never reading (slow reader), raw/bad frames.
import net from 'node:net';
import crypto from 'node:crypto';

function parseUrl(url) {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 80), path: u.pathname + u.search, hostHeader: u.host };
}

/** Frame bytes (client frames are masked unless mask: false). */
export function frame(opcode, payload = Buffer.alloc(0), { fin = true, mask = true, len } = {}) {
  payload = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const n = len ?? payload.length;
  let head;
  if (n < 126) { head = Buffer.alloc(2); head[1] = n; }
  else if (n < 65536) { head = Buffer.alloc(4); head[1] = 126; head.writeUInt16BE(n, 2); }
  else { head = Buffer.alloc(10); head[1] = 127; head.writeBigUInt64BE(BigInt(n), 2); }
  head[0] = (fin ? 0x80 : 0) | opcode;
  if (!mask) return Buffer.concat([head, payload]);
  head[1] |= 0x80;
  const key = crypto.randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] ^= key[i % 4];
  return Buffer.concat([head, key, body]);
}

/**
 * Open a WebSocket by hand.  Resolves once the HTTP response head is in:
 * { status, headers, ... }.  status 101 means open; then messages are
 * collected (JSON-parsed), pings counted (and answered unless autoPong is
 * false), and `closed` resolves with {code, reason} or {code: 1006} on a
 * drop (`at`: when the close frame, or the drop, arrived).  read: false never reads from the socket (a slow reader).
 * socketPath: connect to this unix socket instead (the URL gives path and Host).
 */
export function rawWs(url, { headers = {}, autoPong = true, read = true, timeout = 5000, socketPath } = {}) {
  const { host, port, path, hostHeader } = parseUrl(url);
  return new Promise((resolve, reject) => {
    const sock = socketPath ? net.connect(socketPath) : net.connect(port, host);
    const key = crypto.randomBytes(16).toString('base64');
    const c = { sock, status: 0, headers: {}, messages: [], waiters: [], pings: 0, body: '' };
    let buf = Buffer.alloc(0), head = true, frag = [], fragOp = 0, closeInfo = null;
    let closedResolve;
    c.closed = new Promise((r) => { closedResolve = r; });
    const t = setTimeout(() => { sock.destroy(); reject(new Error('handshake timeout')); }, timeout);
    const hdrs = { Host: hostHeader, Upgrade: 'websocket', Connection: 'Upgrade',
      'Sec-WebSocket-Key': key, 'Sec-WebSocket-Version': '13', ...headers };
    sock.on('connect', () => {
      sock.write(`GET ${path} HTTP/1.1\r\n` + Object.entries(hdrs).filter(([, v]) => v !== null && v !== undefined)
        .map(([k, v]) => `${k}: ${v}`).join('\r\n') + '\r\n\r\n');
      if (!read) {
        // Read only the response head, then stop reading for good.
      }
    });
    const deliver = (op, data) => {
      if (op === 1 || op === 2) {
        let m; const text = data.toString('utf8');
        try { m = JSON.parse(text); } catch { m = { raw: text }; }
        c.messages.push(m);
        for (const w of [...c.waiters]) if (w.pred(m)) { c.waiters.splice(c.waiters.indexOf(w), 1); w.resolve(m); }
      } else if (op === 9) {
        c.pings++;
        if (autoPong) sock.write(frame(10, data));
      } else if (op === 8) {
        closeInfo = { code: data.length >= 2 ? data.readUInt16BE(0) : 1005, reason: data.subarray(2).toString(), at: Date.now() };
        try { sock.write(frame(8, data.subarray(0, 2))); } catch {}
        sock.end();
      }
    };
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (head) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const lines = buf.subarray(0, end).toString().split('\r\n');
        c.status = Number(lines[0].split(' ')[1]);
        for (const l of lines.slice(1)) { const i = l.indexOf(':'); c.headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim(); }
        buf = buf.subarray(end + 4);
        head = false;
        clearTimeout(t);
        if (c.status !== 101) {
          // Collect the (small) body for the refusal, then hand it over.
          setTimeout(() => { c.body = buf.toString(); sock.destroy(); resolve(c); }, 50);
          return;
        }
        if (!read) sock.pause();
        resolve(c);
      }
      while (!head && c.status === 101 && buf.length >= 2) {
        const fin = (buf[0] & 0x80) !== 0, op = buf[0] & 0x0f;
        let n = buf[1] & 0x7f, off = 2;
        if (n === 126) { if (buf.length < 4) return; n = buf.readUInt16BE(2); off = 4; }
        else if (n === 127) { if (buf.length < 10) return; n = Number(buf.readBigUInt64BE(2)); off = 10; }
        if (buf.length < off + n) return;
        const data = buf.subarray(off, off + n);
        buf = buf.subarray(off + n);
        if (op === 0) { frag.push(data); if (fin) { deliver(fragOp, Buffer.concat(frag)); frag = []; } }
        else if (!fin && op < 8) { fragOp = op; frag = [data]; }
        else deliver(op, data);
      }
    });
    sock.on('error', () => {});
    sock.on('close', () => { clearTimeout(t); closedResolve(closeInfo || { code: 1006, reason: '', at: Date.now() }); if (!c.status) reject(new Error('connection closed before a response')); });
    c.next = (pred = () => true, ms = 5000) => {
      const hit = c.messages.find(pred);
      if (hit) { c.messages.splice(c.messages.indexOf(hit), 1); return Promise.resolve(hit); }
      return new Promise((res, rej) => {
        const w = { pred, resolve: (m) => { clearTimeout(tt); c.messages.splice(c.messages.indexOf(m), 1); res(m); } };
        const tt = setTimeout(() => { c.waiters.splice(c.waiters.indexOf(w), 1); rej(new Error('no matching message within ' + ms + ' ms')); }, ms);
        c.waiters.push(w);
      });
    };
    c.sendJson = (o) => sock.write(frame(1, JSON.stringify(o)));
    c.sendText = (s) => sock.write(frame(1, s));
    c.sendRaw = (b) => sock.write(b);
    c.close = (code = 1000) => { const b = Buffer.alloc(2); b.writeUInt16BE(code); try { sock.write(frame(8, b)); } catch {} };
    c.destroy = () => sock.destroy();
    c.resume = () => sock.resume();
  });
}

/** The HTTP status a WebSocket upgrade gets (101 when accepted). */
export async function upgradeStatus(url, headers = {}) {
  const c = await rawWs(url, { headers });
  c.destroy();
  return c.status;
}
