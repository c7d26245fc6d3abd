/*
 * hello-websocket.js — the /hello-websocket/ demo: emoji cursors and a
 * collaborative todo list on top of jPulse.ws.
 *
 * The first half is pure logic (no DOM, no sockets) exported as
 * window.HelloWebsocket (and module.exports under Node) so that
 * tests/js/hello-websocket.test.mjs can test it. The second half wires it to
 * the page in index.html and runs only in a browser that has that page.
 *
 * Namespaces and messages (see the how-it-works section of index.html):
 *   /api/1/ws/hello-emoji   client → {type:'emoji-select', emoji}
 *                                    {type:'cursor-move', emoji, x, y}  (x, y in %)
 *                           server → {type:'user-emoji', clientId, username, emoji}
 *                                    {type:'cursor', clientId, username, emoji, x, y}
 *   both                    server → {type:'welcome', message, userCount}    (to a new socket)
 *                                    {type:'user-joined'|'user-left', clientId?, userCount, count}
 *                                    {type:'presence', userCount, count}
 *                                    (userCount: sockets of the namespace on every daemon)
 *   /api/1/ws/hello-todo    server → {type:'todo-created'|'todo-updated', todo, username}
 *                                    {type:'todo-deleted', todoId, username}
 *                           todo = {_id,title,completed,username,userFirstName,
 *                                   userLastName,createdAt,updatedAt} (jPulse v1.0.4's shapes)
 * Todo mutations go through REST only; the list changes only from WebSocket
 * events (every page, the sender's too), starting from one GET snapshot.
 */
(function (root, factory) {
	'use strict';
	var lib = factory();
	root.HelloWebsocket = lib;
	if (typeof module === 'object' && module && module.exports)
		module.exports = lib;
	if (root.document && typeof root.document.addEventListener === 'function')
		lib.autoStart(root);
}(typeof globalThis !== 'undefined' ? globalThis : typeof window !== 'undefined' ? window : this,
function () {
	'use strict';

	var EMOJI_NS = '/api/1/ws/hello-emoji';
	var TODO_NS = '/api/1/ws/hello-todo';
	var TODO_API = '/api/1/helloTodo';
	var CURSOR_INTERVAL = 50;	/* ms: at most 20 cursor messages a second */
	var EMOJIS = ['😀', '🚀', '🐱', '🎉', '❤️', '👻', '🍕', '🌈'];

	/* ---------------------------------------------------------------- logic */

	/* Pointer position inside a rectangle as percentages, clamped to 0..100 and
	 * rounded to 0.01 so that different window sizes agree. */
	function toPercent(clientX, clientY, rect) {
		function one(v, start, size) {
			if (!(size > 0))
				return 0;
			var p = (v - start) / size * 100;
			p = Math.min(100, Math.max(0, p));
			return Math.round(p * 100) / 100;
		}
		return { x: one(clientX, rect.left, rect.width), y: one(clientY, rect.top, rect.height) };
	}

	/* Leading + trailing throttle: fn runs at once, then at most once per
	 * `wait` ms; the last call inside a window is not lost but runs when the
	 * window ends (so a cursor that stops moving lands where it stopped).
	 * env: {now, setTimeout, clearTimeout}, for tests. */
	function throttle(fn, wait, env) {
		var now = (env && env.now) || function () { return Date.now(); };
		var later = (env && env.setTimeout) || function (f, ms) { return setTimeout(f, ms); };
		var cancel = (env && env.clearTimeout) || function (t) { clearTimeout(t); };
		var last = -Infinity, timer = null, pendingArgs = null;

		function run(args) {
			last = now();
			fn.apply(null, args);
		}
		function throttled() {
			var args = Array.prototype.slice.call(arguments);
			var left = wait - (now() - last);
			if (left <= 0 && timer === null) {
				run(args);
				return;
			}
			pendingArgs = args;
			if (timer === null) {
				timer = later(function () {
					timer = null;
					var a = pendingArgs;
					pendingArgs = null;
					if (a)
						run(a);
				}, Math.max(0, left));
			}
		}
		throttled.cancel = function () {
			if (timer !== null)
				cancel(timer);
			timer = null;
			pendingArgs = null;
		};
		return throttled;
	}

	function presenceText(count) {
		var n = Number(count);
		if (!isFinite(n) || n < 0)
			n = 0;
		return n + (n === 1 ? ' user online' : ' users online');
	}

	function timeOf(todo) {
		var t = todo && (todo.createdAt ? Date.parse(todo.createdAt) : NaN);
		return isNaN(t) ? 0 : t;
	}

	/* Newest first: createdAt descending, then _id descending. */
	function sortTodos(list) {
		return list.slice().sort(function (a, b) {
			var d = timeOf(b) - timeOf(a);
			if (d !== 0)
				return d;
			return String(b._id).localeCompare(String(a._id), undefined, { numeric: true });
		});
	}

	/* The _id an event is about: the todo's, or todo-deleted's todoId. */
	function eventId(ev) {
		if (!ev)
			return undefined;
		if (ev.type === 'todo-deleted' && ev.todoId !== undefined && ev.todoId !== null)
			return ev.todoId;
		return ev.todo ? ev.todo._id : undefined;
	}

	/* The cluster-wide user count a message carries, or null. */
	function userCountOf(data) {
		if (!data || ['welcome', 'user-joined', 'user-left', 'presence'].indexOf(data.type) < 0)
			return null;
		var n = Number(data.userCount);
		return isFinite(n) ? n : null;
	}

	function isNewer(incoming, current) {
		var a = Date.parse(incoming && incoming.updatedAt), b = Date.parse(current && current.updatedAt);
		if (isNaN(a) || isNaN(b))
			return true;
		return a >= b;
	}

	/* Apply one hello-todo event to a list and return the new list (the input
	 * is not modified). Idempotent, so a replayed or duplicated event is
	 * harmless; an update older than what the list holds is ignored. */
	function applyTodoEvent(list, ev) {
		var todo = ev && ev.todo, id = eventId(ev), out, i, found = -1;
		if (id === undefined || id === null || (ev.type !== 'todo-deleted' && !todo))
			return list;
		for (i = 0; i < list.length; i++) {
			if (String(list[i]._id) === String(id)) {
				found = i;
				break;
			}
		}
		out = list.slice();
		switch (ev.type) {
		case 'todo-created':
		case 'todo-updated':
			if (found >= 0) {
				if (!isNewer(todo, list[found]))
					return list;
				out[found] = todo;
			} else {
				out.push(todo);
			}
			return sortTodos(out);
		case 'todo-deleted':
			if (found < 0)
				return list;
			out.splice(found, 1);
			return out;
		default:
			return list;
		}
	}

	function isTodoEvent(data) {
		return !!data && (data.type === 'todo-created' || data.type === 'todo-updated' ||
			data.type === 'todo-deleted');
	}

	function shortTitle(title) {
		var t = String(title === undefined || title === null ? '' : title);
		return t.length > 60 ? t.slice(0, 60) + '…' : t;
	}

	/* "alice added “Buy milk”". `list` is the list before the event, for the
	 * title of a deleted todo whose event carries only the id. */
	function toastText(ev, list) {
		var who = (ev && (ev.username || (ev.todo && ev.todo.username))) || 'someone';
		var todo = (ev && ev.todo) || {};
		var title = ev && ev.type === 'todo-deleted' ? undefined : todo.title, id = eventId(ev);
		if (title === undefined && list) {
			for (var i = 0; i < list.length; i++)
				if (String(list[i]._id) === String(id))
					title = list[i].title;
		}
		var what = title !== undefined ? '“' + shortTitle(title) + '”' : 'a todo';
		switch (ev && ev.type) {
		case 'todo-created': return who + ' added ' + what;
		case 'todo-updated': return who + (todo.completed ? ' completed ' : ' reopened ') + what;
		case 'todo-deleted': return who + ' deleted ' + what;
		default: return '';
		}
	}

	/* The page shows one status for its two sockets: the worst of them. */
	function combinedStatus(statuses) {
		var order = ['disconnected', 'reconnecting', 'connecting', 'connected'];
		var worst = 'connected';
		statuses.forEach(function (s) {
			if (order.indexOf(s) >= 0 && order.indexOf(s) < order.indexOf(worst))
				worst = s;
		});
		return worst;
	}

	/* Which emoji-namespace messages change which cursor. Returns
	 * {op:'upsert'|'emoji'|'remove'|'presence'|'ignore', ...}; the caller's own
	 * broadcasts are ignored because it draws its own cursor locally. */
	function cursorAction(data, myClientId) {
		if (!data || typeof data !== 'object')
			return { op: 'ignore' };
		switch (data.type) {
		case 'cursor':
			if (data.clientId === undefined || data.clientId === myClientId)
				return { op: 'ignore' };
			return {
				op: 'upsert', clientId: String(data.clientId), username: data.username || '',
				emoji: String(data.emoji || '❓'),
				x: Math.min(100, Math.max(0, Number(data.x) || 0)),
				y: Math.min(100, Math.max(0, Number(data.y) || 0))
			};
		case 'user-emoji':
			if (data.clientId === undefined || data.clientId === myClientId)
				return { op: 'ignore' };
			return { op: 'emoji', clientId: String(data.clientId), username: data.username || '',
				emoji: String(data.emoji || '❓') };
		case 'user-left':
			if (data.clientId === undefined)
				return { op: 'ignore' };
			return { op: 'remove', clientId: String(data.clientId) };
		case 'welcome':
		case 'user-joined':
		case 'presence':
			return { op: 'presence', text: presenceText(data.userCount) };
		default:
			return { op: 'ignore' };
		}
	}

	/* ------------------------------------------------------------ the page */

	function autoStart(win) {
		var doc = win.document;
		function go() {
			if (doc.getElementById('cursor-area') && doc.getElementById('todo-list'))
				win.helloWs = start(win);
		}
		if (doc.readyState === 'loading')
			doc.addEventListener('DOMContentLoaded', go);
		else
			go();
	}

	function start(win) {
		var doc = win.document;
		var wsApi = win.jPulse && win.jPulse.ws;
		var $ = function (id) { return doc.getElementById(id); };
		var state = {
			emoji: EMOJIS[0], myClientId: null, todos: [], loading: false, buffered: [],
			statuses: { emoji: 'connecting', todo: 'connecting' }
		};
		var cursors = new Map();

		function el(tag, cls, text) {
			var e = doc.createElement(tag);
			if (cls)
				e.className = cls;
			if (text !== undefined)
				e.textContent = text;
			return e;
		}

		/* -- connection indicator */
		function showStatus() {
			var s = combinedStatus([state.statuses.emoji, state.statuses.todo]);
			var box = $('ws-status');
			box.textContent = s;
			box.className = 'ws-' + s;	/* exactly ws-<status> */
			box.setAttribute('data-status', s);
			['emoji', 'todo'].forEach(function (k) {
				var d = $('ws-status-' + k);
				if (d) {
					d.textContent = state.statuses[k];
					d.className = 'ws-detail ws-' + state.statuses[k];
				}
			});
		}

		/* -- toasts */
		function toast(text, kind) {
			if (!text)
				return;
			var box = $('toasts');
			var t = el('div', 'toast' + (kind ? ' toast-' + kind : ''), text);
			t.setAttribute('role', 'status');
			box.appendChild(t);
			win.setTimeout(function () {
				t.classList.add('toast-out');
				win.setTimeout(function () { t.remove(); }, 400);
			}, 3500);
		}

		/* -- emoji cursors */
		var area = $('cursor-area');
		var mine = el('div', 'local-cursor');
		mine.textContent = state.emoji;
		mine.hidden = true;
		area.appendChild(mine);

		function removeCursor(id) {
			var c = cursors.get(id);
			if (c) {
				c.node.remove();
				cursors.delete(id);
			}
		}
		function clearCursors() {
			Array.from(cursors.keys()).forEach(removeCursor);
		}
		function cursorNode(id, username) {
			var c = cursors.get(id);
			if (!c) {
				var node = el('div', 'remote-cursor');
				node.setAttribute('data-client-id', id);
				var face = el('span', 'cursor-emoji');
				var label = el('span', 'cursor-label');
				node.appendChild(face);
				node.appendChild(label);
				node.hidden = true;	/* until its first position */
				area.appendChild(node);
				c = { node: node, face: face, label: label };
				cursors.set(id, c);
			}
			c.label.textContent = username || 'guest';
			return c;
		}

		var emojiWs = wsApi.connect(EMOJI_NS);
		emojiWs.onMessage(function (data, message) {
			if (!data) {
				toast('Emoji channel: ' + (message && message.error || 'error'), 'error');
				return;
			}
			if (data.type === 'connected') {
				state.myClientId = data.clientId;
				removeCursor(String(data.clientId));
				emojiWs.send({ type: 'emoji-select', emoji: state.emoji });
				return;
			}
			var a = cursorAction(data, state.myClientId), c, n = userCountOf(data);
			if (n !== null)
				$('users-online').textContent = presenceText(n);
			switch (a.op) {
			case 'upsert':
				c = cursorNode(a.clientId, a.username);
				c.face.textContent = a.emoji;
				c.node.style.left = a.x + '%';
				c.node.style.top = a.y + '%';
				c.node.hidden = false;
				break;
			case 'emoji':
				c = cursors.get(a.clientId);
				if (c) {
					c.face.textContent = a.emoji;
					c.label.textContent = a.username || 'guest';
				}
				break;
			case 'remove':
				removeCursor(a.clientId);
				break;
			case 'presence':
				$('users-online').textContent = a.text;
				break;
			}
		}).onStatusChange(function (s) {
			state.statuses.emoji = s;
			if (s !== 'connected')
				clearCursors();	/* we miss user-left while away */
			showStatus();
		});

		var sendCursor = throttle(function (x, y) {
			emojiWs.send({ type: 'cursor-move', emoji: state.emoji, x: x, y: y });
		}, CURSOR_INTERVAL);

		area.addEventListener('pointermove', function (ev) {
			var p = toPercent(ev.clientX, ev.clientY, area.getBoundingClientRect());
			mine.style.left = p.x + '%';
			mine.style.top = p.y + '%';
			mine.hidden = false;
			sendCursor(p.x, p.y);
		});
		area.addEventListener('pointerleave', function () { mine.hidden = true; });

		var picker = $('emoji-picker');
		EMOJIS.forEach(function (e) {
			var b = el('button', 'emoji-btn', e);
			b.type = 'button';
			b.setAttribute('data-emoji', e);
			b.setAttribute('aria-pressed', e === state.emoji ? 'true' : 'false');
			b.title = 'Use ' + e;
			picker.appendChild(b);
		});
		picker.addEventListener('click', function (ev) {
			var b = ev.target.closest && ev.target.closest('[data-emoji]');
			if (!b)
				return;
			state.emoji = b.getAttribute('data-emoji');
			mine.textContent = state.emoji;
			Array.prototype.forEach.call(picker.querySelectorAll('[data-emoji]'), function (x) {
				x.setAttribute('aria-pressed', x === b ? 'true' : 'false');
			});
			emojiWs.send({ type: 'emoji-select', emoji: state.emoji });
		});

		/* -- collaborative todo */
		function renderTodos() {
			var ul = $('todo-list');
			var items = state.todos.map(function (t) {
				var li = el('li', 'todo' + (t.completed ? ' done' : ''));
				li.setAttribute('data-id', String(t._id));
				var cb = el('input', 'todo-toggle');
				cb.type = 'checkbox';
				cb.checked = !!t.completed;
				cb.setAttribute('aria-label', 'Done');
				var title = el('span', 'todo-title', String(t.title === undefined ? '' : t.title));
				var meta = el('span', 'todo-meta', t.username ? 'by ' + t.username : '');
				var del = el('button', 'todo-delete', '✕');
				del.type = 'button';
				del.title = 'Delete';
				del.setAttribute('aria-label', 'Delete');
				li.appendChild(cb);
				li.appendChild(title);
				li.appendChild(meta);
				li.appendChild(del);
				return li;
			});
			ul.replaceChildren.apply(ul, items);
			$('todo-empty').hidden = state.todos.length > 0;
		}

		function showTodoError(text) {
			var e = $('todo-error');
			e.textContent = text || '';
			e.hidden = !text;
		}

		async function api(method, url, body) {
			var res, json = null;
			try {
				res = await win.fetch(url, {
					method: method,
					credentials: 'same-origin',
					headers: body ? { 'Content-Type': 'application/json', 'Accept': 'application/json' }
						: { 'Accept': 'application/json' },
					body: body ? JSON.stringify(body) : undefined
				});
			} catch (e) {
				return { success: false, error: 'Network error: ' + e.message, status: 0 };
			}
			try {
				json = await res.json();
			} catch (e) { /* not JSON */ }
			if (json && typeof json === 'object' && 'success' in json) {
				json.status = res.status;
				return json;
			}
			return { success: res.ok, error: res.ok ? '' : 'HTTP ' + res.status, status: res.status };
		}

		function errorText(r) {
			if (r.status === 401)
				return (r.error || 'Not logged in') + ' — log in to change the list.';
			return r.error || 'Request failed';
		}

		/* Snapshot via GET; events arriving meanwhile are applied on top of it. */
		async function loadTodos() {
			state.loading = true;
			state.buffered = [];
			var r = await api('GET', TODO_API);
			if (r.success && Array.isArray(r.data)) {
				var list = sortTodos(r.data);
				state.buffered.forEach(function (ev) { list = applyTodoEvent(list, ev); });
				state.todos = list;
				showTodoError('');
			} else {
				showTodoError(errorText(r));
				state.buffered.forEach(function (ev) { state.todos = applyTodoEvent(state.todos, ev); });
			}
			state.loading = false;
			state.buffered = [];
			renderTodos();
		}

		var todoWs = wsApi.connect(TODO_NS);
		var todoWasConnected = false;
		todoWs.onMessage(function (data, message) {
			if (!data) {
				toast('Todo channel: ' + (message && message.error || 'error'), 'error');
				return;
			}
			var n = userCountOf(data);
			if (n !== null && $('todo-users-online'))
				$('todo-users-online').textContent = presenceText(n);
			if (!isTodoEvent(data))
				return;
			if (state.loading) {
				state.buffered.push(data);
				return;
			}
			toast(toastText(data, state.todos));
			state.todos = applyTodoEvent(state.todos, data);
			renderTodos();
		}).onStatusChange(function (s, old) {
			state.statuses.todo = s;
			showStatus();
			/* Back after a drop: resynchronise (since= replays, this covers the rest). */
			if (s === 'connected' && todoWasConnected && old === 'reconnecting')
				loadTodos();
			if (s === 'connected')
				todoWasConnected = true;
		});

		var form = $('todo-form');
		var input = $('todo-input');
		form.addEventListener('submit', async function (ev) {
			ev.preventDefault();
			var title = input.value.trim();
			if (!title)
				return;
			var btn = $('todo-add');
			btn.disabled = true;
			var r = await api('POST', TODO_API, { title: title });
			btn.disabled = false;
			if (r.success) {
				input.value = '';
				showTodoError('');
			} else {
				showTodoError(errorText(r));
			}
			input.focus();
		});

		$('todo-list').addEventListener('click', async function (ev) {
			var li = ev.target.closest && ev.target.closest('li[data-id]');
			if (!li)
				return;
			var id = encodeURIComponent(li.getAttribute('data-id'));
			var r = null;
			if (ev.target.classList.contains('todo-toggle')) {
				ev.preventDefault();	/* the checkbox follows the event, not the click */
				r = await api('PUT', TODO_API + '/' + id + '/toggle');
			} else if (ev.target.classList.contains('todo-delete')) {
				r = await api('DELETE', TODO_API + '/' + id);
			}
			if (r)
				showTodoError(r.success ? '' : errorText(r));
		});

		/* -- who am I (best effort; the demo works anonymously for reading) */
		api('GET', '/api/1/auth/me').then(function (r) {
			var who = $('whoami');
			if (!who)
				return;
			var name = r.success && r.data && (r.data.username || (r.data.user && r.data.user.username));
			who.replaceChildren();
			if (name) {
				who.appendChild(doc.createTextNode('Signed in as '));
				who.appendChild(el('strong', '', name));
			} else {
				var a = el('a', '', 'Log in');
				a.href = '/login/?next=' + encodeURIComponent('/hello-websocket/');
				who.appendChild(doc.createTextNode('Not signed in · '));
				who.appendChild(a);
			}
		});

		/* -- copy buttons in "how it works" */
		Array.prototype.forEach.call(doc.querySelectorAll('[data-copy]'), function (b) {
			b.addEventListener('click', function () {
				var src = $(b.getAttribute('data-copy'));
				var text = src ? src.textContent : '';
				var done = function () { b.textContent = 'Copied'; win.setTimeout(function () { b.textContent = 'Copy'; }, 1500); };
				if (win.navigator.clipboard && win.navigator.clipboard.writeText) {
					win.navigator.clipboard.writeText(text).then(done, function () { selectText(src); });
				} else {
					selectText(src);
				}
			});
		});
		function selectText(node) {
			if (!node)
				return;
			var r = doc.createRange();
			r.selectNodeContents(node);
			var sel = win.getSelection();
			sel.removeAllRanges();
			sel.addRange(r);
		}

		win.addEventListener('pagehide', function () {
			emojiWs.disconnect();
			todoWs.disconnect();
		});
		win.addEventListener('pageshow', function (ev) {
			if (ev.persisted)	/* back from the bfcache with closed sockets */
				win.location.reload();
		});

		showStatus();
		loadTodos();
		return { emoji: emojiWs, todo: todoWs, state: state, reloadTodos: loadTodos };
	}

	return {
		EMOJI_NS: EMOJI_NS,
		TODO_NS: TODO_NS,
		TODO_API: TODO_API,
		CURSOR_INTERVAL: CURSOR_INTERVAL,
		EMOJIS: EMOJIS,
		toPercent: toPercent,
		throttle: throttle,
		presenceText: presenceText,
		userCountOf: userCountOf,
		sortTodos: sortTodos,
		applyTodoEvent: applyTodoEvent,
		isTodoEvent: isTodoEvent,
		toastText: toastText,
		combinedStatus: combinedStatus,
		cursorAction: cursorAction,
		autoStart: autoStart,
		start: start
	};
}));
