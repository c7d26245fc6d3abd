// Node.js `ws` broadcast server: the second reference peer of the benchmarks (issue 7).
// POST <any path> publishes the request body; every WebSocket client gets it as a text frame.
// A text frame a client sends is broadcast the same way (soak scenario).
// Usage: node ws-server.mjs PORT   (prints "LISTENING <port>" once it accepts connections)
import http from 'node:http';
import { WebSocketServer, WebSocket } from 'ws';

const port = Number(process.argv[2] || 0);
const server = http.createServer({ keepAliveTimeout: 120000 });
const wss = new WebSocketServer({ server, perMessageDeflate: false });

// The idiomatic ws broadcast: the same Buffer handed to every open client.
function broadcast(buf) {
  for (const c of wss.clients) {
    if (c.readyState === WebSocket.OPEN) c.send(buf, { binary: false });
  }
}

wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => { if (!isBinary) broadcast(data); });
  ws.on('error', () => {});
});

server.on('request', (req, res) => {
  if (req.method !== 'POST') {
    res.writeHead(404, { 'Content-Length': 0 }).end();
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    broadcast(Buffer.concat(chunks));
    const body = `{"clients":${wss.clients.size}}`;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
    res.end(body);
  });
});

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`LISTENING ${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
