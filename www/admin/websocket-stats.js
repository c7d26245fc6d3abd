/*
 * websocket-stats.js — live view of /admin/websocket-stats.shtml.
 *
 * wspulse.fcgi renders the page with the first view filled in; this script
 * connects to /api/1/ws/jpulse-ws-status (admin only) and re-renders from
 * every {type:'stats-update', data:<stats>} the daemon pushes (every 5 s).
 * Load it after /jpulse-ws.js.
 *
 * DOM contract (ids the server-rendered page must have):
 *   #wsp-uptime #wsp-total-messages #wsp-namespace-count #wsp-client-count
 *                       cards; their text is replaced
 *   #wsp-namespaces     a <tbody>; one <tr data-path> per namespace, first cell
 *                       <span class="wsp-dot wsp-green|wsp-yellow|wsp-red"> + path.
 *                       The columns follow the <th data-col="..."> of the
 *                       table's <thead> (keys of a namespace object, e.g.
 *                       path, status, clientCount, activeUsers, messagesPerMin,
 *                       messagesPerHour, totalMessages, dropped, lastActivity);
 *                       without data-col the DEFAULT_COLUMNS order is used.
 *   #wsp-activity       a <ul>, newest first; ping/pong entries hidden, long
 *                       messages shortened to 120 characters + '…'
 *   #wsp-updated        time of the last update
 *   #wsp-conn           connection pill: text = status, class wsp-conn-<status>
 *   #wsp-daemons        optional <tbody>: one <tr data-id> per daemon
 *   #wsp-presence       optional <tbody>: one <tr data-ns> per namespace from
 *                       GET /api/1/websocket/presence (cluster-wide users online),
 *                       fetched after every stats update
 *
 * The stats are jPulse v1.0.4's getStats() shape: uptime in milliseconds,
 * activityLog entries {timestamp, namespace, direction, message, ...}.
 *
 * The pure functions (formatting, filtering, row building) are exported as
 * window.WspStats (module.exports under Node) for tests/js/websocket-stats.test.mjs.
 */
(function (root, factory) {
	'use strict';
	var lib = factory();
	root.WspStats = lib;
	if (typeof module === 'object' && module && module.exports)
		module.exports = lib;
	if (root.document && typeof root.document.addEventListener === 'function')
		lib.autoStart(root);
}(typeof globalThis !== 'undefined' ? globalThis : typeof window !== 'undefined' ? window : this,
function () {
	'use strict';

	var STATS_NS = '/api/1/ws/jpulse-ws-status';
	var MESSAGE_MAX = 120;
	var ACTIVITY_MAX = 100;
	var STALE_AFTER = 15000;	/* ms without an update while connected */
	var DEFAULT_COLUMNS = ['path', 'clientCount', 'activeUsers', 'messagesPerMin',
		'messagesPerHour', 'totalMessages', 'dropped', 'lastActivity'];
	var NUMERIC = { clientCount: 1, activeUsers: 1, messagesPerMin: 1, messagesPerHour: 1,
		totalMessages: 1, dropped: 1 };
	var STATUSES = { green: 1, yellow: 1, red: 1 };

	/* ------------------------------------------------------------ formatting */

	function pad2(n) {
		return (n < 10 ? '0' : '') + n;
	}

	/* 42s · 5m 03s · 4h 05m · 3d 4h 05m, from milliseconds (jPulse's unit). */
	function formatUptime(ms) {
		var s = Math.floor(Number(ms) / 1000);
		if (!isFinite(s) || s < 0)
			return '—';
		var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600),
			m = Math.floor(s % 3600 / 60), r = s % 60;
		if (d > 0)
			return d + 'd ' + h + 'h ' + pad2(m) + 'm';
		if (h > 0)
			return h + 'h ' + pad2(m) + 'm';
		if (m > 0)
			return m + 'm ' + pad2(r) + 's';
		return r + 's';
	}

	/* 1234567 → "1,234,567"; not a number → "—". Same output in every locale. */
	function formatNumber(n) {
		var v = Number(n);
		if (n === null || n === undefined || n === '' || !isFinite(v))
			return '—';
		var neg = v < 0, str = String(Math.round(Math.abs(v) * 100) / 100), parts = str.split('.');
		parts[0] = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ',');
		return (neg ? '-' : '') + parts.join('.');
	}

	/* HH:MM:SS in local time, or '—'. */
	function formatClock(iso) {
		var t = iso instanceof Date ? iso.getTime() : Date.parse(iso);
		if (iso === null || iso === undefined || isNaN(t))
			return '—';
		var d = new Date(t);
		return pad2(d.getHours()) + ':' + pad2(d.getMinutes()) + ':' + pad2(d.getSeconds());
	}

	/* "just now", "12s ago", "3m ago", "2h ago", "4d ago"; null → "never". */
	function formatAgo(iso, now) {
		if (iso === null || iso === undefined || iso === '')
			return 'never';
		var t = Date.parse(iso);
		if (isNaN(t))
			return '—';
		var s = Math.round(((now === undefined ? Date.now() : now) - t) / 1000);
		if (s < 2)
			return 'just now';
		if (s < 60)
			return s + 's ago';
		if (s < 3600)
			return Math.floor(s / 60) + 'm ago';
		if (s < 86400)
			return Math.floor(s / 3600) + 'h ago';
		return Math.floor(s / 86400) + 'd ago';
	}

	/* At most max characters, then '…'. Non-strings are shown as JSON. */
	function shorten(text, max) {
		var s;
		max = max === undefined ? MESSAGE_MAX : max;
		if (text === null || text === undefined)
			return '';
		if (typeof text === 'string') {
			s = text;
		} else {
			try {
				s = JSON.stringify(text);
			} catch (e) {
				s = String(text);
			}
		}
		if (s.length <= max)
			return s;
		/* do not cut a surrogate pair in half */
		var end = max;
		var c = s.charCodeAt(end - 1);
		if (c >= 0xd800 && c <= 0xdbff)
			end--;
		return s.slice(0, end) + '…';
	}

	/* ------------------------------------------------------------- view data */

	function isPingPong(entry) {
		var t = entry && entry.type, m;
		if (typeof t === 'string' && /^(ping|pong)$/i.test(t))
			return true;
		if (entry && typeof entry.message === 'string' && entry.message.charAt(0) === '{') {
			try {
				m = JSON.parse(entry.message);
			} catch (e) {
				return false;
			}
			t = m && (m.type || (m.data && m.data.type));
			return typeof t === 'string' && /^(ping|pong)$/i.test(t);
		}
		return false;
	}

	/* The activity log as rendered: ping/pong dropped, newest first, at most
	 * opts.max entries, messages shortened to opts.maxLen. */
	function activityItems(log, opts) {
		var max = (opts && opts.max) || ACTIVITY_MAX;
		var maxLen = (opts && opts.maxLen) || MESSAGE_MAX;
		if (!Array.isArray(log))
			return [];
		return log
			.map(function (e, i) { return { e: e, i: i, t: Date.parse(e && e.timestamp) }; })
			.filter(function (x) { return x.e && typeof x.e === 'object' && !isPingPong(x.e); })
			.sort(function (a, b) {
				var ta = isNaN(a.t) ? -Infinity : a.t, tb = isNaN(b.t) ? -Infinity : b.t;
				return tb - ta || a.i - b.i;	/* stable: the server's order breaks ties */
			})
			.slice(0, max)
			.map(function (x) {
				var full = x.e.message === undefined ? '' : x.e.message;
				var fullText = typeof full === 'string' ? full : shorten(full, Infinity);
				return {
					timestamp: x.e.timestamp || null,
					time: formatClock(x.e.timestamp),
					namespace: String(x.e.namespace || ''),
					direction: String(x.e.direction || ''),
					type: String(x.e.type || ''),
					username: String(x.e.username || ''),
					message: shorten(fullText, maxLen),
					fullMessage: fullText,
					shortened: fullText.length > maxLen
				};
			});
	}

	function statusOf(ns) {
		var s = ns && typeof ns.status === 'string' ? ns.status.toLowerCase() : '';
		return STATUSES[s] ? s : 'red';
	}

	function cellText(ns, col, now) {
		var v = ns[col];
		if (col === 'path')
			return String(v || '');
		if (col === 'lastActivity')
			return formatAgo(v, now);
		if (col === 'status')
			return statusOf(ns);
		if (NUMERIC[col])
			return formatNumber(v);
		if (v === null || v === undefined)
			return '—';
		return typeof v === 'object' ? shorten(v, 60) : String(v);
	}

	/* One entry per namespace, sorted by path: {path, status, cells:[{col,text}]}. */
	function namespaceRows(namespaces, columns, now) {
		var cols = columns && columns.length ? columns : DEFAULT_COLUMNS;
		if (!Array.isArray(namespaces))
			return [];
		return namespaces
			.filter(function (ns) { return ns && typeof ns === 'object'; })
			.slice()
			.sort(function (a, b) { return String(a.path).localeCompare(String(b.path)); })
			.map(function (ns) {
				return {
					path: String(ns.path || ''),
					status: statusOf(ns),
					cells: cols.map(function (c) { return { col: c, text: cellText(ns, c, now), numeric: !!NUMERIC[c] }; })
				};
			});
	}

	function cards(stats) {
		var nss = stats && Array.isArray(stats.namespaces) ? stats.namespaces : [];
		var clients = 0;
		nss.forEach(function (ns) { clients += Number(ns && ns.clientCount) || 0; });
		return {
			uptime: formatUptime(stats && stats.uptime),
			totalMessages: formatNumber(stats && stats.totalMessages),
			namespaceCount: formatNumber(nss.length),
			clientCount: formatNumber(clients)
		};
	}

	function daemonRows(daemons, now) {
		if (!Array.isArray(daemons))
			return [];
		return daemons.filter(Boolean).map(function (d) {
			return {
				id: String(d.id === undefined ? '' : d.id),
				up: d.up === true,
				cells: [
					String(d.id === undefined ? '' : d.id), String(d.host || ''), String(d.pid === undefined ? '' : d.pid),
					formatNumber(d.workers), formatUptime(d.uptime), d.up === true ? 'up' : 'down',
					formatAgo(d.updatedAt, now)
				]
			};
		});
	}

	/* ------------------------------------------------------------ rendering */

	function children(node) {
		return node ? Array.prototype.slice.call(node.children || []) : [];
	}

	/* The data-col keys of the <thead> of the table holding tbody, or null. */
	function headerColumns(tbody) {
		var table = tbody && tbody.parentNode, thead = null, cols;
		children(table).forEach(function (c) {
			if (String(c.tagName).toUpperCase() === 'THEAD')
				thead = c;
		});
		var tr = children(thead)[0];
		cols = children(tr).map(function (th) { return th.getAttribute('data-col'); });
		return cols.length && cols.every(Boolean) ? cols : null;
	}

	function setText(doc, id, text) {
		var e = doc.getElementById(id);
		if (e)
			e.textContent = text;
	}

	function el(doc, tag, cls, text) {
		var e = doc.createElement(tag);
		if (cls)
			e.className = cls;
		if (text !== undefined)
			e.textContent = text;
		return e;
	}

	/* Re-render everything from one stats object. now: ms, for tests. */
	function render(doc, stats, now) {
		now = now === undefined ? Date.now() : now;
		var c = cards(stats);
		setText(doc, 'wsp-uptime', c.uptime);
		setText(doc, 'wsp-total-messages', c.totalMessages);
		setText(doc, 'wsp-namespace-count', c.namespaceCount);
		setText(doc, 'wsp-client-count', c.clientCount);

		var tbody = doc.getElementById('wsp-namespaces');
		if (tbody) {
			var rows = namespaceRows(stats && stats.namespaces, headerColumns(tbody), now);
			var trs = rows.map(function (r) {
				var tr = el(doc, 'tr', 'wsp-ns-row wsp-ns-' + r.status);
				tr.setAttribute('data-path', r.path);
				r.cells.forEach(function (cell, i) {
					var td = el(doc, 'td', cell.numeric ? 'wsp-num' : '');
					if (i === 0) {
						var dot = el(doc, 'span', 'wsp-dot wsp-' + r.status);
						dot.setAttribute('title', r.status);
						dot.setAttribute('aria-label', r.status);
						td.appendChild(dot);
						td.appendChild(el(doc, 'span', 'wsp-cell-text', cell.text));
					} else {
						td.textContent = cell.text;
					}
					tr.appendChild(td);
				});
				return tr;
			});
			if (!trs.length) {
				var tr = el(doc, 'tr', 'wsp-empty');
				var td = el(doc, 'td', '', 'No namespaces');
				td.setAttribute('colspan', String((headerColumns(tbody) || DEFAULT_COLUMNS).length));
				tr.appendChild(td);
				trs.push(tr);
			}
			tbody.replaceChildren.apply(tbody, trs);
		}

		var ul = doc.getElementById('wsp-activity');
		if (ul) {
			var items = activityItems(stats && stats.activityLog).map(function (a) {
				var li = el(doc, 'li', 'wsp-activity-item');
				var time = el(doc, 'time', 'wsp-time', a.time);
				if (a.timestamp)
					time.setAttribute('datetime', a.timestamp);
				li.appendChild(time);
				li.appendChild(el(doc, 'span', 'wsp-ns', a.namespace));
				li.appendChild(el(doc, 'span', 'wsp-dir', a.direction));
				li.appendChild(el(doc, 'span', 'wsp-type', a.type));
				li.appendChild(el(doc, 'span', 'wsp-user', a.username || '—'));
				var msg = el(doc, 'span', 'wsp-msg', a.message);
				if (a.shortened)
					msg.setAttribute('title', a.fullMessage.slice(0, 2000));
				li.appendChild(msg);
				return li;
			});
			if (!items.length)
				items.push(el(doc, 'li', 'wsp-empty', 'No recent activity'));
			ul.replaceChildren.apply(ul, items);
		}

		var dbody = doc.getElementById('wsp-daemons');
		if (dbody && stats && Array.isArray(stats.daemons)) {
			dbody.replaceChildren.apply(dbody, daemonRows(stats.daemons, now).map(function (d) {
				var tr = el(doc, 'tr', 'wsp-daemon' + (d.up ? '' : ' wsp-down'));
				tr.setAttribute('data-id', d.id);
				d.cells.forEach(function (t, i) {
					var td = el(doc, 'td', '');
					if (i === 0)
						td.appendChild(el(doc, 'span', 'wsp-dot wsp-' + (d.up ? 'green' : 'red')));
					td.appendChild(doc.createTextNode(t));
					tr.appendChild(td);
				});
				return tr;
			}));
		}

		var upd = doc.getElementById('wsp-updated');
		if (upd) {
			upd.textContent = formatClock(new Date(now));
			upd.setAttribute('data-time', new Date(now).toISOString());
			upd.classList.remove('wsp-stale');
		}
	}

	/* Rows of the presence table from GET /api/1/websocket/presence's data. */
	function presenceRows(data) {
		var list = data && Array.isArray(data.namespaces) ? data.namespaces : [];
		return list.filter(Boolean).map(function (p) {
			var users = Array.isArray(p.users) ? p.users.map(String) : [];
			return {
				namespace: String(p.namespace || ''),
				cells: [String(p.namespace || ''), formatNumber(p.userCount), formatNumber(p.workers),
					users.length ? users.join(', ') : '—']
			};
		});
	}

	function renderPresence(doc, data) {
		var tbody = doc.getElementById('wsp-presence');
		if (!tbody)
			return;
		var trs = presenceRows(data).map(function (r) {
			var tr = el(doc, 'tr', 'wsp-presence-row');
			tr.setAttribute('data-ns', r.namespace);
			r.cells.forEach(function (t, i) {
				tr.appendChild(el(doc, 'td', i === 1 || i === 2 ? 'wsp-num' : '', t));
			});
			return tr;
		});
		if (!trs.length) {
			var tr = el(doc, 'tr', 'wsp-empty');
			var td = el(doc, 'td', '', 'Nobody connected');
			td.setAttribute('colspan', '4');
			tr.appendChild(td);
			trs.push(tr);
		}
		tbody.replaceChildren.apply(tbody, trs);
	}

	function loadPresence(win) {
		if (!win.fetch || !win.document.getElementById('wsp-presence'))
			return;
		win.fetch('/api/1/websocket/presence', { credentials: 'same-origin', headers: { Accept: 'application/json' } })
			.then(function (r) { return r.json(); })
			.then(function (j) {
				if (j && j.success)
					renderPresence(win.document, j.data);
			})
			.catch(function () { /* the next update retries */ });
	}

	/* The pill: text = status, class wsp-conn-<status> (other wsp-conn-* removed). */
	function setConnection(doc, status, why) {
		var pill = doc.getElementById('wsp-conn');
		if (!pill)
			return;
		var keep = String(pill.className || '').split(/\s+/).filter(function (c) {
			return c && c.indexOf('wsp-conn-') !== 0;
		});
		keep.push('wsp-conn-' + status);
		pill.className = keep.join(' ');
		pill.textContent = status;
		pill.setAttribute('data-status', status);
		if (why)
			pill.setAttribute('title', why);
		else
			pill.removeAttribute('title');
	}

	/* ------------------------------------------------------------- the page */

	function autoStart(win) {
		var doc = win.document;
		function go() {
			if (doc.getElementById('wsp-namespaces') || doc.getElementById('wsp-activity'))
				win.wspStatsLive = start(win);
		}
		if (doc.readyState === 'loading')
			doc.addEventListener('DOMContentLoaded', go);
		else
			go();
	}

	function start(win) {
		var doc = win.document;
		var last = 0;
		var ws = win.jPulse.ws.connect(STATS_NS);
		ws.onMessage(function (data) {
			if (data && data.type === 'stats-update' && data.data && typeof data.data === 'object') {
				last = Date.now();
				render(doc, data.data, last);
				loadPresence(win);
			}
		}).onStatusChange(function (status) {
			var r = ws.getCloseReason(), why = '';
			if (status === 'disconnected' && r && (r.code === 4401 || r.code === 4403))
				why = r.code === 4401 ? 'Not logged in (4401)' : 'Admin role required (4403)';
			setConnection(doc, status, why);
		});
		setConnection(doc, ws.getStatus());
		loadPresence(win);
		/* Flag a view that stopped updating although the socket looks fine. */
		win.setInterval(function () {
			var upd = doc.getElementById('wsp-updated');
			if (upd && last && Date.now() - last > STALE_AFTER)
				upd.classList.add('wsp-stale');
		}, 5000);
		win.addEventListener('pagehide', function () { ws.disconnect(); });
		return { ws: ws };
	}

	return {
		STATS_NS: STATS_NS,
		MESSAGE_MAX: MESSAGE_MAX,
		DEFAULT_COLUMNS: DEFAULT_COLUMNS,
		formatUptime: formatUptime,
		formatNumber: formatNumber,
		formatClock: formatClock,
		formatAgo: formatAgo,
		shorten: shorten,
		isPingPong: isPingPong,
		activityItems: activityItems,
		namespaceRows: namespaceRows,
		cards: cards,
		daemonRows: daemonRows,
		presenceRows: presenceRows,
		renderPresence: renderPresence,
		headerColumns: headerColumns,
		render: render,
		setConnection: setConnection,
		autoStart: autoStart,
		start: start
	};
}));
