// Test doubles for the browser-side code: a deterministic clock, a scriptable
// WebSocket, Web Storage, and a loader that evaluates a www/ script in a fresh
// vm context the way a browser evaluates a classic <script> (or, with
// asModule, the way it evaluates a module: strict, top-level `this` undefined).

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import vm from 'node:vm';
import { webcrypto } from 'node:crypto';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const WWW = path.join(ROOT, 'www');

// A clock that only moves when tick() is called. Timers fire in due order,
// ties in creation order, each with the clock set to its due time.
export class FakeClock {
	constructor() {
		this.now = 0;
		this.timers = new Map();
		this.nextId = 1;
	}
	_add(fn, ms, interval) {
		const id = this.nextId++;
		const delay = Math.max(0, Number(ms) || 0);
		this.timers.set(id, { id, at: this.now + delay, fn, interval: interval ? Math.max(1, delay) : 0 });
		return id;
	}
	setTimeout(fn, ms) { return this._add(fn, ms, false); }
	setInterval(fn, ms) { return this._add(fn, ms, true); }
	clearTimeout(id) { this.timers.delete(id); }
	clearInterval(id) { this.timers.delete(id); }
	tick(ms) {
		const end = this.now + ms;
		for (;;) {
			let next = null;
			for (const t of this.timers.values())
				if (t.at <= end && (next === null || t.at < next.at || (t.at === next.at && t.id < next.id)))
					next = t;
			if (!next)
				break;
			this.now = next.at;
			if (next.interval)
				next.at += next.interval;
			else
				this.timers.delete(next.id);
			next.fn();
		}
		this.now = end;
	}
	pendingCount() { return this.timers.size; }
	globals() {
		return {
			setTimeout: (fn, ms) => this.setTimeout(fn, ms),
			clearTimeout: (id) => this.clearTimeout(id),
			setInterval: (fn, ms) => this.setInterval(fn, ms),
			clearInterval: (id) => this.clearInterval(id),
		};
	}
}

// A WebSocket double. The test plays the server: serverOpen(), serverSend(),
// serverClose(). Like a browser, send() throws while CONNECTING.
export function makeFakeWebSocket() {
	const sockets = [];
	class FakeWebSocket {
		constructor(url) {
			this.url = url;
			this.readyState = 0;
			this.sent = [];
			this.closedWith = null;
			this.onopen = this.onmessage = this.onerror = this.onclose = null;
			sockets.push(this);
		}
		send(data) {
			if (this.readyState === 0)
				throw new Error('InvalidStateError: still CONNECTING');
			if (this.readyState === 1)
				this.sent.push(data);
		}
		close(code, reason) {
			this.closedWith = { code, reason };
			this.readyState = 3;
		}
		get sentJSON() { return this.sent.map((s) => JSON.parse(s)); }
		serverOpen() {
			this.readyState = 1;
			if (this.onopen)
				this.onopen({ type: 'open' });
		}
		serverSend(msg) {
			if (this.onmessage)
				this.onmessage({ data: typeof msg === 'string' ? msg : JSON.stringify(msg) });
		}
		serverClose(code = 1006, reason = '') {
			this.readyState = 3;
			if (code === 1006 && this.onerror)
				this.onerror({ type: 'error' });
			if (this.onclose)
				this.onclose({ code, reason, wasClean: code !== 1006 });
		}
	}
	FakeWebSocket.CONNECTING = 0;
	FakeWebSocket.OPEN = 1;
	FakeWebSocket.CLOSING = 2;
	FakeWebSocket.CLOSED = 3;
	return { FakeWebSocket, sockets };
}

export class MemStorage {
	constructor() { this.map = new Map(); }
	getItem(k) { return this.map.has(k) ? this.map.get(k) : null; }
	setItem(k, v) { this.map.set(k, String(v)); }
	removeItem(k) { this.map.delete(k); }
	clear() { this.map.clear(); }
}

export class ThrowingStorage {
	getItem() { throw new Error('SecurityError'); }
	setItem() { throw new Error('SecurityError'); }
}

export function quietConsole() {
	const lines = [];
	const rec = (level) => (...args) => lines.push([level, args.map(String).join(' ')]);
	return { lines, log: rec('log'), info: rec('info'), warn: rec('warn'), error: rec('error'), debug: rec('debug') };
}

// Evaluate www/<file> in a fresh context. Returns { win, clock, sockets, ... }.
export function loadScript(file, opts = {}) {
	const clock = opts.clock || new FakeClock();
	const { FakeWebSocket, sockets } = makeFakeWebSocket();
	const console = quietConsole();
	const win = {
		location: opts.location || { protocol: 'http:', host: 'example.test', origin: 'http://example.test' },
		localStorage: 'localStorage' in opts ? opts.localStorage : new MemStorage(),
		sessionStorage: 'sessionStorage' in opts ? opts.sessionStorage : new MemStorage(),
		crypto: 'crypto' in opts ? opts.crypto : webcrypto,
		console,
		WebSocket: FakeWebSocket,
		...clock.globals(),
		...(opts.globals || {}),
	};
	if ('jPulse' in opts)
		win.jPulse = opts.jPulse;
	const ctx = vm.createContext(win);
	const files = Array.isArray(file) ? file : [file];
	for (const f of files)
		evalIn(ctx, f, opts.asModule);
	return { win, ctx, clock, sockets, console, FakeWebSocket };
}

export function evalIn(ctx, file, asModule = false) {
	let code = readFileSync(path.join(WWW, file), 'utf8');
	if (asModule)
		code = '"use strict"; (function () {\n' + code + '\n}).call(undefined);';
	vm.runInContext(code, ctx, { filename: file });
}

export function loadClient(opts = {}) {
	const env = loadScript('jpulse-ws.js', opts);
	env.ws = env.win.jPulse.ws;
	return env;
}

// A minimal DOM: enough for code that builds nodes with createElement,
// textContent, className/classList, attributes, appendChild/replaceChildren
// and finds them with getElementById. No parser, no innerHTML (on purpose).
class FakeText {
	constructor(text) { this.nodeType = 3; this.parentNode = null; this._text = String(text); }
	get textContent() { return this._text; }
	set textContent(v) { this._text = String(v); }
	remove() { if (this.parentNode) this.parentNode.removeChild(this); }
}

export class FakeElement {
	constructor(tag, doc) {
		this.nodeType = 1;
		this.tagName = String(tag).toUpperCase();
		this.ownerDocument = doc;
		this.childNodes = [];
		this.parentNode = null;
		this.attrs = new Map();
		this.className = '';
		this.style = {};
		this.hidden = false;
		const self = this;
		this.classList = {
			add: (...c) => { const s = new Set(self.className.split(/\s+/).filter(Boolean)); c.forEach((x) => s.add(x)); self.className = [...s].join(' '); },
			remove: (...c) => { self.className = self.className.split(/\s+/).filter((x) => x && !c.includes(x)).join(' '); },
			contains: (c) => self.className.split(/\s+/).includes(c),
			toggle: (c, on) => { const has = self.classList.contains(c); if (on === undefined ? !has : on) self.classList.add(c); else self.classList.remove(c); },
		};
	}
	get children() { return this.childNodes.filter((n) => n.nodeType === 1); }
	get id() { return this.attrs.get('id') || ''; }
	set id(v) { this.attrs.set('id', String(v)); }
	get textContent() { return this.childNodes.map((n) => n.textContent).join(''); }
	set textContent(v) { this.replaceChildren(new FakeText(v === null || v === undefined ? '' : v)); }
	get innerHTML() { throw new Error('innerHTML is not used by wspulse pages'); }
	set innerHTML(v) { throw new Error('innerHTML is not used by wspulse pages'); }
	setAttribute(k, v) { if (k === 'class') this.className = String(v); else this.attrs.set(k, String(v)); }
	getAttribute(k) { if (k === 'class') return this.className; return this.attrs.has(k) ? this.attrs.get(k) : null; }
	hasAttribute(k) { return k === 'class' ? !!this.className : this.attrs.has(k); }
	removeAttribute(k) { if (k === 'class') this.className = ''; else this.attrs.delete(k); }
	appendChild(n) {
		if (n.parentNode) n.parentNode.removeChild(n);
		this.childNodes.push(n);
		n.parentNode = this;
		return n;
	}
	removeChild(n) {
		const i = this.childNodes.indexOf(n);
		if (i < 0) throw new Error('not a child');
		this.childNodes.splice(i, 1);
		n.parentNode = null;
		return n;
	}
	replaceChildren(...nodes) {
		for (const n of this.childNodes) n.parentNode = null;
		this.childNodes = [];
		nodes.forEach((n) => this.appendChild(typeof n === 'string' ? new FakeText(n) : n));
	}
	remove() { if (this.parentNode) this.parentNode.removeChild(this); }
	*walk() { yield this; for (const c of this.children) yield* c.walk(); }
}

export class FakeDocument {
	constructor() {
		this.readyState = 'complete';
		this.documentElement = new FakeElement('html', this);
		this.body = this.documentElement.appendChild(new FakeElement('body', this));
	}
	createElement(tag) { return new FakeElement(tag, this); }
	createTextNode(t) { return new FakeText(t); }
	getElementById(id) {
		for (const e of this.documentElement.walk()) if (e.id === id) return e;
		return null;
	}
	addEventListener() {}
	// Build a tree from a compact spec: ['table', {id:'x'}, ['tbody', {...}]]
	build(spec, parent = this.body) {
		const [tag, attrs = {}, ...kids] = spec;
		const e = this.createElement(tag);
		for (const [k, v] of Object.entries(attrs)) {
			if (k === 'text') e.textContent = v;
			else e.setAttribute(k, v);
		}
		parent.appendChild(e);
		kids.forEach((k) => this.build(k, e));
		return e;
	}
}
