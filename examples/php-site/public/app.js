/* app.js - the example page's live feed: jPulse.ws with a connection token
 * from token.php (asked again before every reconnect), notes published by
 * notes.php (or any other program through wsp_publish) shown as they come,
 * each with the username wspulse stamped on it.  Text only, never HTML. */
(function () {
	'use strict';
	var ns = document.currentScript.getAttribute('data-namespace');
	var feed = document.getElementById('feed');
	var status = document.getElementById('status');

	function token() {
		return fetch('token.php', { credentials: 'same-origin', cache: 'no-store' }).then(function (r) {
			if (!r.ok)
				throw new Error('token.php answered ' + r.status);
			return r.text();
		});
	}

	function show(note, stampedBy) {
		var li = document.createElement('li'), who = document.createElement('span');
		li.setAttribute('data-id', String(note.id));
		li.setAttribute('data-username', stampedBy);
		li.className = 'live';
		who.className = 'who';
		who.textContent = stampedBy;
		li.appendChild(who);
		li.appendChild(document.createTextNode(': ' + note.body));
		feed.insertBefore(li, feed.firstChild);
	}

	var ws = jPulse.ws.connect(ns, { token: token })
		.onStatusChange(function (s) { status.textContent = s; })
		.onMessage(function (data) {
			if (!data)
				return;
			if (data.type === 'connected')
				document.getElementById('ws-user').textContent = data.username;
			else if (data.type === 'note-added' && data.note)
				show(data.note, data.username);
		});
	window.notesSocket = ws;

	document.getElementById('add').addEventListener('submit', function (ev) {
		var body = document.getElementById('body');
		ev.preventDefault();
		fetch('notes.php', {
			method: 'POST', credentials: 'same-origin',
			headers: { 'Content-Type': 'application/json' },
			body: JSON.stringify({ body: body.value, rollback: document.getElementById('rollback').checked })
		}).then(function (r) { return r.json(); }).then(function (j) {
			if (j.success)
				body.value = '';
		});
	});
}());
