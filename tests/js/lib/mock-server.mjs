// A stand-in for the wspulse stack (nginx + wspulse.fcgi + wspulsed), small
// enough to read in one sitting, for developing and testing the browser side
// without PostgreSQL: it serves www/ statically, implements the REST calls the
// pages make (auth, helloTodo) in memory, and speaks RFC 6455 for the
// built-in namespaces (hello-emoji, hello-todo, jpulse-ws-status) with the
// envelopes of the spec. It is NOT the product: the integration tests run
// against the real programs.
//
//   node tests/js/lib/mock-server.mjs [port]     (users alice/bob/admin, password "secret")

import http from 'node:http';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { WWW } from './harness.mjs';

const MIME = {
	'.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
	'.mjs': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
	'.png': 'image/png', '.svg': 'image/svg+xml', '.json': 'application/json',
};
const USERS = { alice: ['user'], bob: ['user'], admin: ['user', 'admin'] };
const PASSWORD = 'secret';

function frame(text, opcode = 1) {
	const body = Buffer.from(text);
	let head;
	if (body.length < 126) {
		head = Buffer.from([0x80 | opcode, body.length]);
	} else if (body.length < 65536) {
		head = Buffer.alloc(4);
		head[0] = 0x80 | opcode; head[1] = 126; head.writeUInt16BE(body.length, 2);
	} else {
		head = Buffer.alloc(10);
		head[0] = 0x80 | opcode; head[1] = 127; head.writeBigUInt64BE(BigInt(body.length), 2);
	}
	return Buffer.concat([head, body]);
}

function closeFrame(code, reason = '') {
	const r = Buffer.from(reason);
	const b = Buffer.alloc(2 + r.length);
	b.writeUInt16BE(code, 0);
	r.copy(b, 2);
	return Buffer.concat([Buffer.from([0x88, b.length]), b]);
}

// One per WebSocket connection.
class Client {
	constructor(server, sock, ns, user, uuid) {
		this.server = server; this.sock = sock; this.ns = ns; this.user = user; this.uuid = uuid;
		this.id = crypto.randomUUID();
		this.buf = Buffer.alloc(0);
		this.open = true;
		this.received = [];
		sock.on('data', (d) => this.onData(d));
		sock.on('close', () => this.gone());
		sock.on('error', () => this.gone());
	}
	get username() { return this.user ? this.user.username : ''; }
	sendJSON(obj) { if (this.open) this.sock.write(frame(JSON.stringify(obj))); }
	close(code, reason) {
		if (!this.open) return;
		this.sock.write(closeFrame(code, reason));
		this.sock.end();
		this.gone();
	}
	gone() {
		if (!this.open) return;
		this.open = false;
		this.sock.destroy();
		this.server.onDisconnect(this);
	}
	onData(d) {
		this.buf = Buffer.concat([this.buf, d]);
		for (;;) {
			if (this.buf.length < 2) return;
			const op = this.buf[0] & 0x0f;
			let len = this.buf[1] & 0x7f, off = 2;
			if (len === 126) { if (this.buf.length < 4) return; len = this.buf.readUInt16BE(2); off = 4; }
			else if (len === 127) { if (this.buf.length < 10) return; len = Number(this.buf.readBigUInt64BE(2)); off = 10; }
			const masked = this.buf[1] & 0x80;
			const mask = masked ? this.buf.subarray(off, off + 4) : null;
			if (masked) off += 4;
			if (this.buf.length < off + len) return;
			const payload = Buffer.from(this.buf.subarray(off, off + len));
			this.buf = this.buf.subarray(off + len);
			if (mask) for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
			if (op === 8) { this.close(1000, ''); return; }
			if (op === 9) { this.sock.write(Buffer.concat([Buffer.from([0x8a, payload.length]), payload])); continue; }
			if (op === 1) this.onText(payload.toString('utf8'));
		}
	}
	onText(text) {
		let msg;
		try { msg = JSON.parse(text); } catch {
			this.sendJSON({ success: false, error: 'Invalid JSON', code: 400, username: '' });
			return;
		}
		this.received.push(msg);
		if (msg && msg.type === 'ping') {
			if (!this.server.opts.dropPongs)
				this.sendJSON({ success: true, data: { type: 'pong', username: '' } });
			return;
		}
		this.server.onMessage(this, msg);
	}
}

export class MockServer {
	constructor(opts = {}) {
		this.opts = { statsInterval: 5000, ...opts };
		this.todos = [];
		this.nextTodo = 1;
		this.outboxId = 100;
		this.sessions = new Map();		// sid -> user
		this.clients = new Set();
		this.activity = [];
		this.started = Date.now();
		this.total = 0;
		this.http = http.createServer((req, res) => this.onRequest(req, res));
		this.http.on('upgrade', (req, sock) => this.onUpgrade(req, sock));
		this.timer = setInterval(() => this.pushStats(), this.opts.statsInterval);
		this.timer.unref();
	}
	listen(port = 0) {
		return new Promise((resolve) => this.http.listen(port, '127.0.0.1', () => {
			this.port = this.http.address().port;
			this.url = 'http://127.0.0.1:' + this.port;
			resolve(this);
		}));
	}
	async close() {
		clearInterval(this.timer);
		for (const c of this.clients) c.sock.destroy();
		await new Promise((r) => this.http.close(r));
	}
	// Drop every socket without a close frame, as a crashed daemon would.
	killSockets() { for (const c of [...this.clients]) c.gone(); }

	userOf(req) {
		const m = /(?:^|;\s*)wsp_session=([^;]+)/.exec(req.headers.cookie || '');
		return m ? this.sessions.get(m[1]) || null : null;
	}
	nsClients(ns) { return [...this.clients].filter((c) => c.ns === ns); }
	broadcast(ns, data, id) {
		this.total++;
		this.activity.unshift({ timestamp: new Date().toISOString(), namespace: ns, type: data.type || '', username: data.username || '', message: JSON.stringify(data) });
		this.activity.length = Math.min(this.activity.length, 100);
		const env = id === undefined ? { success: true, data } : { success: true, id, data };
		for (const c of this.nsClients(ns)) c.sendJSON(env);
	}

	onUpgrade(req, sock) {
		const url = new URL(req.url, 'http://x');
		const ns = url.pathname;
		const user = this.userOf(req);
		const refuse = (status, text) => { sock.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`); };
		if (!['/api/1/ws/hello-emoji', '/api/1/ws/hello-todo', '/api/1/ws/jpulse-ws-status'].includes(ns))
			return refuse(404, 'Not Found');
		if (ns === '/api/1/ws/jpulse-ws-status') {
			if (!user) return refuse(401, 'Unauthorized');
			if (!user.roles.includes('admin')) return refuse(403, 'Forbidden');
		}
		const key = req.headers['sec-websocket-key'];
		const accept = crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
		sock.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
			`Sec-WebSocket-Accept: ${accept}\r\n\r\n`);
		const c = new Client(this, sock, ns, user, url.searchParams.get('uuid'));
		c.since = url.searchParams.get('since');
		c.url = req.url;
		this.clients.add(c);
		c.sendJSON({ success: true, data: { type: 'connected', clientId: c.id, namespace: ns, username: c.username } });
		if (ns === '/api/1/ws/hello-emoji')
			this.broadcast(ns, { type: 'presence', count: this.nsClients(ns).length, username: '' });
		if (ns === '/api/1/ws/jpulse-ws-status')
			c.sendJSON({ success: true, data: { type: 'stats-update', data: this.stats() } });
		if (this.opts.onConnect) this.opts.onConnect(c);
	}
	onDisconnect(c) {
		if (!this.clients.delete(c)) return;
		if (c.ns === '/api/1/ws/hello-emoji') {
			this.broadcast(c.ns, { type: 'user-left', clientId: c.id, username: '' });
			this.broadcast(c.ns, { type: 'presence', count: this.nsClients(c.ns).length, username: '' });
		}
	}
	onMessage(c, msg) {
		const username = c.username;
		if (c.ns === '/api/1/ws/hello-emoji') {
			if (msg.type === 'emoji-select')
				this.broadcast(c.ns, { type: 'user-emoji', clientId: c.id, username: username || 'guest', emoji: msg.emoji });
			else if (msg.type === 'cursor-move')
				this.broadcast(c.ns, { type: 'cursor', clientId: c.id, username: username || 'guest', emoji: msg.emoji, x: msg.x, y: msg.y });
			else
				c.sendJSON({ success: false, error: 'Unknown message type', code: 400, username: '' });
		}
	}

	stats() {
		const ns = ['/api/1/ws/hello-emoji', '/api/1/ws/hello-todo', '/api/1/ws/jpulse-ws-status'];
		return {
			uptime: Math.round((Date.now() - this.started) / 1000),
			totalMessages: this.total,
			daemons: [{ id: 'mock', host: 'localhost', pid: process.pid, workers: 1, uptime: 1, up: true, updatedAt: new Date().toISOString() }],
			namespaces: ns.map((p) => {
				const n = this.nsClients(p).length;
				return { path: p, status: n ? 'green' : 'red', clientCount: n, activeUsers: new Set(this.nsClients(p).map((c) => c.username).filter(Boolean)).size,
					messagesPerMin: 0, messagesPerHour: 0, totalMessages: 0, dropped: 0, lastActivity: null };
			}),
			activityLog: this.activity.slice(),
		};
	}
	pushStats() {
		for (const c of this.nsClients('/api/1/ws/jpulse-ws-status'))
			c.sendJSON({ success: true, data: { type: 'stats-update', data: this.stats() } });
	}

	async body(req) {
		let s = '';
		for await (const chunk of req) s += chunk;
		try { return JSON.parse(s || '{}'); } catch { return null; }
	}
	json(res, status, obj, headers = {}) {
		res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
		res.end(JSON.stringify(obj));
	}
	async onRequest(req, res) {
		const url = new URL(req.url, 'http://x');
		const p = url.pathname;
		const user = this.userOf(req);
		if (p === '/api/1/auth/login' && req.method === 'POST') {
			const b = await this.body(req);
			if (!b || !USERS[b.username] || b.password !== PASSWORD)
				return this.json(res, 401, { success: false, error: 'Invalid username or password', code: 401 });
			const sid = crypto.randomBytes(16).toString('hex');
			this.sessions.set(sid, { username: b.username, roles: USERS[b.username] });
			return this.json(res, 200, { success: true, data: { username: b.username, roles: USERS[b.username] } },
				{ 'Set-Cookie': `wsp_session=${sid}; Path=/; HttpOnly; SameSite=Lax` });
		}
		if (p === '/api/1/auth/me') {
			if (!user) return this.json(res, 401, { success: false, error: 'Not logged in', code: 401 });
			return this.json(res, 200, { success: true, data: user });
		}
		if (p === '/api/1/helloTodo' && req.method === 'GET')
			return this.json(res, 200, { success: true, data: this.todos.slice().reverse() });
		if (p.startsWith('/api/1/helloTodo')) {
			if (!user) return this.json(res, 401, { success: false, error: 'Not logged in', code: 401 });
			const now = new Date().toISOString();
			if (p === '/api/1/helloTodo' && req.method === 'POST') {
				const b = await this.body(req);
				const title = b && typeof b.title === 'string' ? b.title.trim() : '';
				if (!title) return this.json(res, 400, { success: false, error: 'Title is required', code: 400 });
				const todo = { id: this.nextTodo++, title, completed: false, username: user.username, createdAt: now, updatedAt: now };
				this.todos.push(todo);
				this.json(res, 201, { success: true, data: todo });
				this.broadcast('/api/1/ws/hello-todo', { type: 'todo-created', todo, username: user.username }, ++this.outboxId);
				return;
			}
			const m = /^\/api\/1\/helloTodo\/(\d+)(\/toggle)?$/.exec(p);
			const todo = m && this.todos.find((t) => t.id === Number(m[1]));
			if (!todo) return this.json(res, 404, { success: false, error: 'Todo not found', code: 404 });
			if (m[2] && req.method === 'PUT') {
				todo.completed = !todo.completed;
				todo.updatedAt = now;
				this.json(res, 200, { success: true, data: todo });
				this.broadcast('/api/1/ws/hello-todo', { type: 'todo-updated', todo: { ...todo }, username: user.username }, ++this.outboxId);
				return;
			}
			if (!m[2] && req.method === 'DELETE') {
				this.todos = this.todos.filter((t) => t !== todo);
				this.json(res, 200, { success: true, data: { id: todo.id } });
				this.broadcast('/api/1/ws/hello-todo', { type: 'todo-deleted', todo: { id: todo.id }, username: user.username }, ++this.outboxId);
				return;
			}
			return this.json(res, 405, { success: false, error: 'Method not allowed', code: 405 });
		}
		if (p === '/admin/websocket-stats.shtml')
			return this.adminPage(req, res, user);
		// static
		let file = path.normalize(path.join(WWW, decodeURIComponent(p)));
		if (!file.startsWith(WWW)) { res.writeHead(403); return res.end(); }
		try {
			if (fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
			const data = fs.readFileSync(file);
			res.writeHead(200, { 'Content-Type': MIME[path.extname(file)] || 'application/octet-stream' });
			res.end(data);
		} catch {
			res.writeHead(404, { 'Content-Type': 'text/plain' });
			res.end('not found');
		}
	}

	// The admin page shell per the DOM contract (the real one is rendered by
	// wspulse.fcgi with the first view filled in).
	adminPage(req, res, user) {
		if (!user || !user.roles.includes('admin')) {
			res.writeHead(user ? 403 : 302, user ? { 'Content-Type': 'text/plain' } : { Location: '/login/?next=/admin/websocket-stats.shtml' });
			return res.end(user ? 'Forbidden' : '');
		}
		res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
		res.end(`<!doctype html><html><head><meta charset="utf-8"><title>WebSocket stats</title>
<link rel="stylesheet" href="/admin/websocket-stats.css"></head><body class="wsp-admin">
<header class="wsp-head"><h1>WebSocket stats</h1><span id="wsp-conn" class="wsp-conn wsp-conn-connecting">connecting</span>
<span class="wsp-updated-wrap">updated <span id="wsp-updated">—</span></span></header>
<section class="wsp-cards">
<div class="wsp-card"><div class="wsp-card-label">Uptime</div><div id="wsp-uptime" class="wsp-card-value">0s</div></div>
<div class="wsp-card"><div class="wsp-card-label">Total messages</div><div id="wsp-total-messages" class="wsp-card-value">0</div></div>
<div class="wsp-card"><div class="wsp-card-label">Namespaces</div><div id="wsp-namespace-count" class="wsp-card-value">0</div></div>
<div class="wsp-card"><div class="wsp-card-label">Clients</div><div id="wsp-client-count" class="wsp-card-value">0</div></div>
</section>
<h2>Namespaces</h2>
<table class="wsp-table"><thead><tr><th data-col="path">Namespace</th><th data-col="clientCount">Clients</th><th data-col="activeUsers">Users</th>
<th data-col="messagesPerMin">Msg/min</th><th data-col="messagesPerHour">Msg/hour</th><th data-col="totalMessages">Total</th><th data-col="dropped">Dropped</th><th data-col="lastActivity">Last activity</th></tr></thead>
<tbody id="wsp-namespaces"></tbody></table>
<h2>Activity</h2><ul id="wsp-activity" class="wsp-activity"></ul>
<script src="/jpulse-ws.js"></script><script src="/admin/websocket-stats.js"></script></body></html>`);
	}
}

if (import.meta.url === 'file://' + process.argv[1]) {
	const s = await new MockServer({ statsInterval: 5000 }).listen(Number(process.argv[2]) || 0);
	console.log('mock wspulse on ' + s.url);
}
