// fidelity.test.mjs - jPulse v1.0.4 fidelity and cluster-wide presence, in
// real Chromium against two daemons sharing one PostgreSQL: stack S (its
// wspulsed runs `workers = 2`: processes S/w1 and S/w2) and stack T (one
// wspulsed), each with its own nginx and wspulse.fcgi (T allows 1000 sockets
// per address: the connect-storm check opens 300).  Every browser check
// uses two browser contexts (two cookie jars, two sets of sockets), one on S
// and one on T, so each message crosses daemons: the WSPULSE_DAEMONS=2
// topology (two daemons on one database) with each page pinned to a known
// daemon, and a `workers = 2` daemon.
//
// jPulse's own hello-websocket components and admin page are not loaded
// (they are not in the tree and CI has no GitHub); instead a "jPulse-shaped"
// probe reads exactly the fields they read, as they read them:
//   todo demo:  GET /api/1/helloTodo -> data[]; welcome.userCount;
//               todo-created/updated: todo._id (=== comparison), todo.completed,
//               todo.title, todo.username, todo.userFirstName, todo.userLastName;
//               todo-deleted: todoId (=== todo._id); user-left.userCount;
//               PUT /api/1/helloTodo/${_id}/toggle, DELETE /api/1/helloTodo/${_id},
//               POST /api/1/helloTodo {title}, all as jPulse.api.call sends them
//               (Content-Type: application/json even without a body,
//               credentials same-origin) and reads them (response.success,
//               response.data); the toasts read username on todo-created/
//               updated/deleted
//   emoji demo: welcome.userCount; user-emoji/cursor: clientId && username
//               (truthy: an anonymous user must be 'guest'), emoji, x, y;
//               user-left: clientId, userCount
//   admin page: stats-update data: uptime (ms), totalMessages, namespaces[]
//               {path, status green|yellow|red, clientCount, activeUsers,
//               messagesPerMin, totalMessages, lastActivity}, activityLog[]
//               {timestamp, namespace, direction, message (a string)}, oldest
//               first (the page reverses it to show the newest first); it
//               sends {type:'admin-connected', message} on connect and toasts
//               any answer whose success is false
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startStack, openWs, waitFor, sleep, http, login, mintSession, pgListen, builddir, srcdir, slow } from './lib/stack.mjs';
import { launch, resolveNodeModule } from './lib/browser.mjs';

// Found where browser.mjs finds playwright-core (also in make distcheck).
const VUE = resolveNodeModule('vue/dist/vue.global.prod.js');
const testModule = path.join(builddir, 'tests/modules/.libs/test-module.so');
// The module API's presence (count and usernames) through a real module.
const exampleSo = path.join(builddir, 'src/modules/.libs/example-chat.so');
const CHAT = '/api/1/ws/example-chat';
const ADMIN = { name: 'admin', password: 'admin-pass-123', roles: ['admin', 'root'] };
const EMOJI = '/api/1/ws/hello-emoji';
const TODO = '/api/1/ws/hello-todo';
let S, T, browser;
const contexts = [];

before(async () => {
  S = await startStack({ users: [ADMIN], config: { stats_interval: 1, daemon_id: 'S', workers: 2, modules: [testModule, exampleSo] } });
  T = await startStack({ pg: S.pg, config: { stats_interval: 1, daemon_id: 'T', modules: [testModule, exampleSo], max_connections_per_ip: 1000 } });
  browser = await launch();
});
after(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await T?.stop();
  await S?.stop();
});

async function newPage(stack, urlPath) {
  const ctx = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  contexts.push(ctx);
  const page = await ctx.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  if (urlPath) await page.goto(stack.url + urlPath);
  return page;
}

/** wspulse's own demo page, both sockets connected. */
async function demoPage(stack) {
  const page = await newPage(stack, '/hello-websocket/');
  await page.waitForFunction(() => document.querySelector('#ws-status')?.textContent === 'connected', null, { timeout: 15000 });
  return page;
}

/** A plain page of the stack with jPulse.ws loaded, for the jPulse-shaped probes. */
async function probePage(stack) {
  const page = await newPage(stack, '/index.html');
  await page.addScriptTag({ url: '/jpulse-ws.js' });
  // jPulse v1.0.4's jPulse.api.call, as its pages call REST: JSON content
  // type on every method (a PUT or DELETE without a body too), same-origin
  // credentials, the answer's JSON whatever the status.
  await page.evaluate(() => {
    window.japi = async (url, method = 'GET', body) => {
      const r = await fetch(url, { method, headers: { 'Content-Type': 'application/json' }, credentials: 'same-origin',
        body: body === undefined ? undefined : JSON.stringify(body) });
      const j = await r.json().catch(() => ({ success: false, error: `HTTP ${r.status}` }));
      return j;
    };
  });
  return page;
}

const online = (page, id, n) => page.waitForFunction(([id, want]) =>
  document.getElementById(id)?.textContent === want, [id, `${n} ${n === 1 ? 'user' : 'users'} online`], { timeout: 10000 * slow });

/** The cluster's count for a namespace from the REST API (API token). */
async function restCount(ns) {
  const r = await http(S.url, 'GET', `/api/1/websocket/presence?namespace=${encodeURIComponent(ns)}`,
    { headers: { Authorization: `Bearer ${S.token}` } });
  assert.equal(r.status, 200, r.text);
  return r.json.data;
}

test('doubles leave in their shortest round-trip form: 40.9 through the daemon and through REST', async () => {
  const rx = await openWs(`ws://127.0.0.1:${T.daemonPort}${EMOJI}`);
  const raw = [];
  rx.addEventListener('message', (ev) => raw.push(String(ev.data)));
  const tx = await openWs(`ws://127.0.0.1:${S.daemonPort}${EMOJI}`);
  await tx.next((m) => m.data?.type === 'welcome');
  tx.sendJson({ type: 'cursor-move', emoji: '🚀', x: 40.9, y: 0.1 });
  await waitFor(() => raw.some((t) => t.includes('"type":"cursor"')), 5000, 'the cursor on T');
  const cursor = raw.find((t) => t.includes('"type":"cursor"'));
  assert.match(cursor, /"x":40\.9,"y":0\.1[,}]/, cursor);

  const my = await openWs(`ws://127.0.0.1:${T.daemonPort}/api/1/ws/my-app`);
  const rawMy = [];
  my.addEventListener('message', (ev) => rawMy.push(String(ev.data)));
  await my.next((m) => m.data?.type === 'connected');
  const r = await http(S.url, 'POST', '/api/1/websocket/publish', {
    headers: { Authorization: `Bearer ${S.token}` },
    body: { namespace: '/api/1/ws/my-app', data: { type: 'reading', v: 40.9, w: [0.1, 2.5, 1e21] } },
  });
  assert.equal(r.status, 200, r.text);
  // wspulse.fcgi wrote the outbox payload ...
  const payload = S.pg.psql(`SELECT payload FROM wsp_outbox WHERE id = ${r.json.data.id}`);
  assert.equal(payload, '{"type":"reading","v":40.9,"w":[0.1,2.5,1e+21]}');
  // ... and the daemon delivered it.
  await waitFor(() => rawMy.some((t) => t.includes('"reading"')), 5000, 'the REST broadcast on T');
  assert.match(rawMy.find((t) => t.includes('"reading"')), /"v":40\.9,"w":\[0\.1,2\.5,1e\+21\]/);
  for (const c of [rx, tx, my]) c.close();
});

test('a join on one daemon reaches the other daemon\'s sockets within 1 s', async () => {
  const watch = await openWs(`ws://127.0.0.1:${T.daemonPort}${TODO}`);
  const base = (await watch.next((m) => m.data?.type === 'welcome')).data.userCount;
  assert.equal(typeof base, 'number');
  const t0 = Date.now();
  const j = await openWs(`ws://127.0.0.1:${S.daemonPort}${TODO}`);
  const seen = await watch.next((m) => m.data?.userCount === base + 1, 3000);
  const ms = Date.now() - t0;
  assert.ok(ms <= 1000 * slow, `the join was seen after ${ms} ms`);
  assert.equal(seen.data.type, 'user-joined');
  assert.equal(seen.data.count, base + 1, 'Pattern 5 reads count');
  const t1 = Date.now();
  j.close();
  const left = await watch.next((m) => m.data?.type === 'user-left' && m.data.userCount === base, 3000);
  assert.ok(Date.now() - t1 <= 1000 * slow, `the leave was seen after ${Date.now() - t1} ms`);
  assert.equal(left.data.count, base);
  watch.close();
});

test('a connect storm is not a query storm: 300 joins and 300 leaves on T cost one presence write per 100 ms, not one per socket', async () => {
  const listen = await pgListen(S.pg, ['wsp_presence']);
  const fromT = () => listen.events.filter((e) => e.payload === 'T').length;
  const storm = async (what, act, want) => {
    const n0 = fromT(), t0 = Date.now();
    await act();
    await waitFor(async () => (await restCount(EMOJI)).userCount === want, 10000 * slow, `REST: ${want} after the ${what}`);
    await sleep(300);   // a last flush after the count landed
    const ms = Date.now() - t0, writes = fromT() - n0;
    console.log(`# presence ${what}: 300 sockets, ${writes} writes of T's rows in ${ms} ms`);
    // One write per WSP_PRESENCE_FLUSH_MS at most (+1 for the edges), and far
    // fewer than one per socket.
    assert.ok(writes >= 1, `the ${what} was written`);
    assert.ok(writes <= Math.ceil(ms / 100) + 1 && writes < 300 / 3,
      `${what}: ${writes} presence writes (NOTIFY wsp_presence 'T') in ${ms} ms for 300 sockets`);
    return writes;
  };
  const base = (await restCount(EMOJI)).userCount;
  let socks = [];
  await storm('joins', async () => {
    for (let i = 0; i < 6; i++)
      socks.push(...await Promise.all(Array.from({ length: 50 }, () => openWs(`ws://127.0.0.1:${T.daemonPort}${EMOJI}`))));
  }, base + 300);
  await storm('leaves', async () => { for (const c of socks) c.close(); socks = []; }, base);
  listen.stop();
});

test('todos created, toggled and deleted on one page appear, flip and disappear on the other by _id / todoId', async () => {
  const A = await demoPage(S);            // wspulse's own page, on daemon S
  const B = await probePage(T);           // a jPulse-shaped todo client, on daemon T
  await B.evaluate(async () => {
    const p = window.probe = { todos: [], count: null, seen: [] };
    const r = await window.japi('/api/1/helloTodo');
    p.todos = r.success ? r.data : [];
    p.stats = r.stats;
    window.probeWs = window.jPulse.ws.connect('/api/1/ws/hello-todo').onMessage((d) => {
      if (!d) return;
      p.seen.push(d);
      if (d.type === 'welcome') p.count = d.userCount;
      else if (d.type === 'todo-created') { if (!p.todos.find((t) => t._id === d.todo._id)) p.todos.unshift(d.todo); }
      else if (d.type === 'todo-updated') { const i = p.todos.findIndex((t) => t._id === d.todo._id); if (i !== -1) p.todos[i] = d.todo; }
      else if (d.type === 'todo-deleted') { const i = p.todos.findIndex((t) => t._id === d.todoId); if (i !== -1) p.todos.splice(i, 1); }
      else if (d.type === 'user-left') { p.count = d.userCount; p.left = d; }
    });
  });
  await B.waitForFunction(() => typeof window.probe.count === 'number' && window.probe.count >= 2, null, { timeout: 10000 });
  assert.deepEqual(Object.keys(await B.evaluate(() => window.probe.stats)).sort(), ['completed', 'pending', 'total']);

  // Created on A: appears on B, keyed by _id, with every field jPulse's list reads.
  await A.fill('#todo-input', 'fidelity one');
  await A.click('#todo-add');
  const t1 = await B.waitForFunction(() => window.probe.todos.find((t) => t.title === 'fidelity one'), null, { timeout: 10000 }).then((h) => h.jsonValue());
  assert.equal(typeof t1._id, 'string');
  assert.ok(t1._id.length > 0);
  for (const k of ['title', 'completed', 'username', 'userFirstName', 'userLastName', 'createdAt', 'updatedAt'])
    assert.ok(k in t1, `todo.${k}`);
  assert.equal(t1.completed, false);
  assert.equal(t1.username, 'guest', 'an anonymous creator is guest');
  const created = await B.evaluate(() => window.probe.seen.find((d) => d.type === 'todo-created' && d.todo.title === 'fidelity one'));
  assert.equal(created.username, 'guest');
  await A.locator(`#todo-list li[data-id="${t1._id}"]`).waitFor({ timeout: 10000 });

  // Toggled from B with jPulse's URL: flips on A, and in B's list by _id.
  const tog = await B.evaluate((id) => window.japi(`/api/1/helloTodo/${id}/toggle`, 'PUT'), t1._id);
  assert.equal(tog.success, true, JSON.stringify(tog));
  await A.locator(`#todo-list li[data-id="${t1._id}"] input.todo-toggle:checked`).waitFor({ timeout: 10000 });
  await B.waitForFunction((id) => window.probe.todos.find((t) => t._id === id)?.completed === true, t1._id, { timeout: 10000 });
  const upd = await B.evaluate((id) => window.probe.seen.find((d) => d.type === 'todo-updated' && d.todo._id === id), t1._id);
  assert.equal(upd.username, 'guest', 'the toast reads todo-updated\'s username');
  assert.equal(tog.data._id, t1._id);
  // Toggled on A: B sees it reopened.
  await A.click(`#todo-list li[data-id="${t1._id}"] input.todo-toggle`);
  await B.waitForFunction((id) => window.probe.todos.find((t) => t._id === id)?.completed === false, t1._id, { timeout: 10000 });

  // Deleted from B with jPulse's URL: disappears on A; B's own list drops it by todoId.
  const del = await B.evaluate((id) => window.japi(`/api/1/helloTodo/${id}`, 'DELETE'), t1._id);
  assert.equal(del.success, true, JSON.stringify(del));
  await A.locator(`#todo-list li[data-id="${t1._id}"]`).waitFor({ state: 'detached', timeout: 10000 });
  await B.waitForFunction((id) => !window.probe.todos.find((t) => t._id === id), t1._id, { timeout: 10000 });
  const gone = await B.evaluate(() => window.probe.seen.find((d) => d.type === 'todo-deleted'));
  assert.equal(gone.todoId, t1._id);
  assert.equal(typeof gone.username, 'string');

  // Deleted on A: B removes it by todoId; a second todo stays.
  await A.fill('#todo-input', 'fidelity two');
  await A.click('#todo-add');
  await A.locator('#todo-list li', { hasText: 'fidelity two' }).waitFor({ timeout: 10000 });
  await A.fill('#todo-input', 'fidelity three');
  await A.click('#todo-add');
  const t2 = await B.waitForFunction(() => window.probe.todos.find((t) => t.title === 'fidelity two'), null, { timeout: 10000 }).then((h) => h.jsonValue());
  await B.waitForFunction(() => window.probe.todos.find((t) => t.title === 'fidelity three'), null, { timeout: 10000 });
  await A.click(`#todo-list li[data-id="${t2._id}"] .todo-delete`);
  await B.waitForFunction((id) => !window.probe.todos.find((t) => t._id === id), t2._id, { timeout: 10000 });
  assert.ok(await B.evaluate(() => !!window.probe.todos.find((t) => t.title === 'fidelity three')), 'the wrong row was not removed');

  // Created from B as jPulse's handleAddTodo posts it: appears on A; B's list
  // gets it once (from the broadcast), with the toast's username.
  const add = await B.evaluate(() => window.japi('/api/1/helloTodo', 'POST', { title: 'fidelity four' }));
  assert.equal(add.success, true, JSON.stringify(add));
  assert.equal(typeof add.data._id, 'string');
  await A.locator(`#todo-list li[data-id="${add.data._id}"]`).waitFor({ timeout: 10000 });
  await B.waitForFunction((id) => window.probe.todos.filter((t) => t._id === id).length === 1, add.data._id, { timeout: 10000 });
  // jPulse's error answers keep its shape: success false, error, code.
  const missing = await B.evaluate(() => window.japi('/api/1/helloTodo/999999999/toggle', 'PUT'));
  assert.deepEqual([missing.success, missing.code], [false, 'HELLO_TODO_NOT_FOUND']);
  assert.equal(typeof missing.error, 'string');

  // A leaves (on daemon S): B (on T) gets hello-todo's user-left with the new count.
  const before = await B.evaluate(() => window.probe.count);
  assert.deepEqual(A.errors, []);
  await A.context().close();
  await B.waitForFunction((n) => window.probe.left && window.probe.count === n - 1, before, { timeout: 10000 });
  assert.equal(typeof (await B.evaluate(() => window.probe.left.userCount)), 'number');
  assert.deepEqual(B.errors, []);
  await B.context().close();
});

test('an anonymous cursor is named guest (the probe\'s clientId && username check, and the page\'s label)', async () => {
  const A = await demoPage(S);
  const B = await probePage(T);
  const Bpage = await demoPage(T);
  await B.evaluate(() => {
    const p = window.probe = { cursors: [], emojis: [], welcome: null, left: [] };
    window.probeWs = window.jPulse.ws.connect('/api/1/ws/hello-emoji').onMessage((d) => {
      if (!d) return;
      if (d.type === 'welcome') p.welcome = d;
      else if (d.type === 'cursor' && d.clientId && d.username) p.cursors.push(d);
      else if (d.type === 'user-emoji' && d.clientId && d.username) p.emojis.push(d);
      else if (d.type === 'user-left') p.left.push(d);
    });
  });
  await B.waitForFunction(() => window.probe.welcome, null, { timeout: 10000 });
  const welcome = await B.evaluate(() => window.probe.welcome);
  assert.equal(typeof welcome.userCount, 'number');
  assert.ok(welcome.userCount >= 3, `welcome.userCount ${welcome.userCount}`);
  assert.equal(typeof welcome.message, 'string');
  await A.click('#emoji-picker [data-emoji]:nth-child(2)');
  const area = await A.locator('#cursor-area').boundingBox();
  for (let i = 0; i < 4; i++) {
    await A.mouse.move(area.x + area.width * (0.3 + i * 0.1), area.y + area.height / 2);
    await sleep(80);
  }
  await B.waitForFunction(() => window.probe.cursors.length > 0 && window.probe.emojis.length > 0, null, { timeout: 10000 });
  const c = await B.evaluate(() => window.probe.cursors.at(-1));
  assert.equal(c.username, 'guest');
  assert.equal(typeof c.clientId, 'string');
  assert.equal(typeof c.x, 'number');
  assert.equal(typeof c.y, 'number');
  assert.ok(c.emoji);
  const ue = await B.evaluate(() => window.probe.emojis.at(-1));
  assert.equal(ue.username, 'guest');
  assert.equal(ue.clientId, c.clientId, 'user-emoji and cursor name the same socket');
  assert.equal(typeof ue.emoji, 'string');
  assert.ok(ue.emoji.length > 0);
  assert.equal(c.emoji, ue.emoji, 'the cursor carries the chosen emoji');
  const label = Bpage.locator('.remote-cursor:not([hidden]) .cursor-label');
  await label.first().waitFor({ timeout: 10000 });
  assert.equal(await label.first().textContent(), 'guest');
  // A leaves: the probe gets user-left with A's clientId and the new count.
  const aId = c.clientId;
  await A.context().close();
  await B.waitForFunction((id) => window.probe.left.some((d) => d.clientId === id && typeof d.userCount === 'number'), aId, { timeout: 10000 });
  await Bpage.locator(`.remote-cursor[data-client-id="${aId}"]`).waitFor({ state: 'detached', timeout: 10000 });
  await B.context().close();
  await Bpage.context().close();
});

test('the admin page\'s activity log renders every field; stats-update has jPulse\'s fields; presence is listed', async () => {
  const ctx = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  contexts.push(ctx);
  const { cookie } = await login(S.url, ADMIN.name, ADMIN.password);
  await ctx.addCookies([{ name: 'wsp_session', value: cookie.split('=')[1], url: S.url }]);
  const page = await ctx.newPage();
  await page.goto(`${S.url}/admin/websocket-stats.shtml`);
  await page.waitForFunction(() => /connected/.test(document.querySelector('#wsp-conn')?.className || ''), null, { timeout: 10000 });
  // Someone on T does something: a received message and the broadcast it makes.
  const other = await probePage(T);
  await other.evaluate(() => {
    window.em = window.jPulse.ws.connect('/api/1/ws/hello-emoji').onStatusChange((s) => {
      if (s === 'connected') window.em.send({ type: 'emoji-select', emoji: '🎉' });
    });
  });
  await page.waitForFunction(() => {
    const dirs = [...document.querySelectorAll('#wsp-activity li .wsp-dir')].map((e) => e.textContent);
    return dirs.includes('received') && dirs.includes('sent');
  }, null, { timeout: 15000 });
  // jPulse's admin page, connected as the admin (on a page of its own:
  // jPulse.ws.connect returns the live handle of a path, so the admin page's
  // own socket stays untouched), says admin-connected, toasts any answer
  // whose success is false, and renders every stats-update.
  const probe = await ctx.newPage();
  await probe.goto(`${S.url}/index.html`);
  await probe.addScriptTag({ url: '/jpulse-ws.js' });
  await probe.evaluate(() => {
    const p = window.jp = { updates: [], failures: [] };
    const ws = window.jPulse.ws.connect('/api/1/ws/jpulse-ws-status')
      .onMessage((d, message) => {
        if (d && d.type === 'stats-update') p.updates.push(d.data);
        else if (!message.success) p.failures.push(message);
      })
      .onStatusChange((status) => {
        if (status === 'connected') ws.send({ type: 'admin-connected', message: 'Admin monitoring page connected' });
      });
  });
  // The admin's message is logged with its username, and wspulse's page renders it.
  await page.waitForFunction(() => [...document.querySelectorAll('#wsp-activity li.wsp-activity-item')]
    .some((li) => li.querySelector('.wsp-type')?.textContent === 'admin-connected'), null, { timeout: 15000 });

  const items = await page.$$eval('#wsp-activity li.wsp-activity-item', (lis) => lis.map((li) => ({
    time: li.querySelector('.wsp-time')?.getAttribute('datetime'),
    ns: li.querySelector('.wsp-ns')?.textContent,
    dir: li.querySelector('.wsp-dir')?.textContent,
    type: li.querySelector('.wsp-type')?.textContent,
    user: li.querySelector('.wsp-user')?.textContent,
    msg: li.querySelector('.wsp-msg')?.textContent,
  })));
  assert.ok(items.length >= 3);
  for (const it of items) {
    assert.ok(!isNaN(Date.parse(it.time)), `timestamp ${it.time}`);
    assert.match(it.ns, /^\/api\/1\/ws\//);
    assert.ok(['received', 'sent'].includes(it.dir), `direction ${it.dir}`);
    assert.ok(it.type && it.msg && it.user, JSON.stringify(it));
  }
  const times = items.map((i) => Date.parse(i.time));
  assert.deepEqual([...times].sort((a, b) => b - a), times, 'wspulse\'s page lists the newest first');
  const rec = items.find((i) => i.dir === 'received' && i.type === 'emoji-select');
  assert.ok(rec, JSON.stringify(items));
  assert.match(rec.msg, /"emoji-select"/);
  assert.equal(rec.user, '\u2014', 'an anonymous sender is shown as a dash');
  const adm = items.find((i) => i.type === 'admin-connected');
  assert.equal(adm.user, 'admin');
  assert.equal(adm.ns, '/api/1/ws/jpulse-ws-status');
  assert.equal(adm.dir, 'received');

  // The stats-update as jPulse's page reads it: the first one that logs the
  // admin's message.
  await probe.waitForFunction(() => window.jp.updates.some((u) => u.activityLog.some((e) => e.message.includes('admin-connected'))),
    null, { timeout: 15000 });
  const { st, failures } = await probe.evaluate(() => ({
    st: window.jp.updates.find((u) => u.activityLog.some((e) => e.message.includes('admin-connected'))),
    failures: window.jp.failures,
  }));
  await probe.close();
  assert.deepEqual(failures, [], 'admin-connected is accepted silently (jPulse\'s page toasts any failure)');
  assert.match(await page.getAttribute('#wsp-conn', 'class'), /wsp-conn-connected/, 'the admin page is still live');
  assert.equal(typeof st.uptime, 'number');
  assert.ok(st.uptime >= 1000, `uptime ${st.uptime} is milliseconds`);
  assert.equal(typeof st.totalMessages, 'number');
  assert.ok(Array.isArray(st.namespaces) && st.namespaces.length >= 4);
  for (const ns of st.namespaces) {
    assert.equal(typeof ns.path, 'string');
    assert.ok(['green', 'yellow', 'red'].includes(ns.status), ns.status);
    for (const k of ['clientCount', 'activeUsers', 'messagesPerMin', 'totalMessages']) assert.equal(typeof ns[k], 'number', k);
    assert.ok(ns.lastActivity === null || !isNaN(Date.parse(ns.lastActivity)));
  }
  assert.ok(st.activityLog.length > 0);
  for (const e of st.activityLog) {
    assert.ok(!isNaN(Date.parse(e.timestamp)));
    assert.equal(typeof e.namespace, 'string');
    assert.ok(['received', 'sent'].includes(e.direction));
    assert.equal(typeof e.message, 'string');
  }
  // Oldest first: jPulse's page shows `[...activityLog].reverse()`, the newest on top.
  const logTimes = st.activityLog.map((e) => Date.parse(e.timestamp));
  assert.deepEqual([...logTimes].sort((a, b) => a - b), logTimes, 'activityLog is oldest first');
  const shown = [...st.activityLog].reverse();
  assert.equal(Date.parse(shown[0].timestamp), Math.max(...logTimes));
  const admLog = st.activityLog.find((e) => e.message.includes('"admin-connected"'));
  assert.equal(admLog.direction, 'received');
  assert.equal(admLog.namespace, '/api/1/ws/jpulse-ws-status');
  assert.equal(JSON.parse(admLog.message).username, 'admin', 'the message as received, username stamped (jPulse\'s entry)');

  // Presence: the table lists the cluster's hello-emoji sockets (T's probe).
  await page.waitForFunction(() => {
    const tr = document.querySelector('#wsp-presence tr[data-ns="/api/1/ws/hello-emoji"]');
    return tr && Number(tr.children[1].textContent) >= 1;
  }, null, { timeout: 20000 * slow }).catch(async (e) => {
    const rest = await http(S.url, 'GET', '/api/1/websocket/presence', { cookie });
    const rows = S.pg.psql(`SELECT json_agg(p) FROM (SELECT daemon_id, namespace, clients, now() - updated_at AS age FROM wsp_presence) p`);
    throw new Error(`${e.message}\npage: ${await page.innerHTML('#wsp-presence')}\nREST: ${rest.text}\nrows: ${rows}`);
  });
  // The REST endpoint: admin session or API token only, namespace checked.
  assert.equal((await http(S.url, 'GET', '/api/1/websocket/presence')).status, 401);
  assert.equal((await http(S.url, 'GET', '/api/1/websocket/presence', { headers: { Authorization: 'Bearer not-the-token' } })).status, 401);
  assert.equal((await http(S.url, 'GET', '/api/1/websocket/presence', { cookie: mintSession(S, 'bob').cookie })).status, 403);
  assert.equal((await http(S.url, 'GET', '/api/1/websocket/presence?namespace=/etc/passwd', { cookie })).status, 400);
  const all = await http(S.url, 'GET', '/api/1/websocket/presence', { cookie });
  assert.equal(all.status, 200, all.text);
  assert.ok(all.json.data.namespaces.some((n) => n.namespace === EMOJI && n.userCount >= 1));
  assert.equal(all.json.data.expireSeconds, 3);
  assert.deepEqual(page.errors || [], []);
  await other.context().close();
});

test('the spec\'s Vue.js example (Vue 3 from npm, served locally) runs against wspulse on both daemons', async () => {
  // The component as the spec prints it (only the namespace's server side is
  // ours: tests/modules/test-module.c broadcasts every my-app message).
  const component = `
const HelloApp = {
    data() {
        return {
            connectionStatus: 'disconnected',
            messages: [],
            ws: null
        };
    },
    mounted() {
        this.ws = jPulse.ws.connect('/api/1/ws/my-app')
            .onMessage((data) => {
                this.messages.push(data);
            })
            .onStatusChange((status) => {
                this.connectionStatus = status;
            });
    },
    beforeUnmount() {
        if (this.ws) {
            this.ws.disconnect();
        }
    },
    methods: {
        sendMessage(text) {
            this.ws.send({
                type: 'message',
                text: text
            });
        }
    },
    template: \`
        <div>
            <div>Status: {{ connectionStatus }}</div>
            <div v-for="msg in messages">{{ msg.text }}</div>
            <button @click="sendMessage('Hello!')">Send</button>
        </div>
    \`
};
window.vueApp = Vue.createApp(HelloApp);
window.vueApp.mount('#app');
`;
  // A page of the stack's own origin, Vue 3 from tests/node_modules (npm)
  // injected from the local file: nothing is fetched from anywhere else.
  const open = async (stack) => {
    const page = await newPage(stack);
    await page.route((u) => !u.href.startsWith(stack.url), (r) => r.abort());
    await page.goto(`${stack.url}/index.html`);
    await page.evaluate(() => { document.body.innerHTML = '<div id="app"></div>'; });
    await page.addScriptTag({ url: '/jpulse-ws.js' });
    await page.addScriptTag({ path: VUE });
    await page.addScriptTag({ content: component });
    await page.waitForFunction(() => document.body.textContent.includes('Status: connected'), null, { timeout: 15000 });
    return page;
  };
  const A = await open(S);
  const B = await open(T);
  await A.click('button');
  for (const p of [A, B]) {
    await p.waitForFunction(() => [...document.querySelectorAll('#app div div')].some((d) => d.textContent === 'Hello!'), null, { timeout: 10000 });
  }
  await B.click('button');
  await A.waitForFunction(() => [...document.querySelectorAll('#app div div')].filter((d) => d.textContent === 'Hello!').length === 2, null, { timeout: 10000 });
  // Unmounting runs beforeUnmount: the socket is closed, not reconnecting.
  assert.deepEqual(await A.evaluate(() => window.jPulse.ws.getConnections()), ['/api/1/ws/my-app']);
  await A.evaluate(() => window.vueApp.unmount());
  assert.deepEqual(await A.evaluate(() => window.jPulse.ws.getConnections()), [], 'beforeUnmount disconnected');
  assert.equal(await A.evaluate(() => typeof window.Vue.version), 'string');
  assert.deepEqual(A.errors, []);
  assert.deepEqual(B.errors, []);
  await A.context().close();
  await B.context().close();
});

test('the module API\'s presence is the cluster\'s: a module on S counts and names a user on T (example-chat)', async () => {
  const t = 5000 * slow;
  const carol = await openWs(`ws://127.0.0.1:${T.daemonPort}${CHAT}`, { headers: { Cookie: mintSession(T, 'carol').cookie } });
  await carol.next((m) => m.data?.type === 'welcome', t);
  // dave on S: wsp_namespace_presence_count() and _users() in example-chat's
  // welcome include carol on the other daemon once S has read T's row.
  const daveSession = mintSession(S, 'dave').cookie;
  let dave, welcome;
  await waitFor(async () => {
    dave?.close();
    dave = await openWs(`ws://127.0.0.1:${S.daemonPort}${CHAT}`, { headers: { Cookie: daveSession } });
    welcome = (await dave.next((m) => m.data?.type === 'welcome', t)).data;
    // Count and names together: a dave closed by an earlier round can still be counted
    // (here 2 with users ['dave'] once failed a whole make check).
    return welcome.here === 2 && JSON.stringify(welcome.users) === JSON.stringify(['carol', 'dave']);
  }, 3000 * slow, 'S\'s module to count and name carol on T');
  assert.deepEqual(welcome.users, ['carol', 'dave']);
  assert.equal(welcome.here, 2);
  // T has read dave's row too (S wrote it, NOTIFY, T reads ~20 ms later).
  await waitFor(async () => (await restCount(CHAT)).userCount === 2, 2000 * slow, 'REST: carol and dave');
  await sleep(300);
  // carol leaves on T: T's module broadcasts the count, which reaches dave on S.
  carol.close();
  // (A dave closed by a retry above left too: wait for carol's.)
  const left = await dave.next((m) => m.data?.type === 'left' && m.data.username === 'carol', t);
  assert.equal(left.data.count, 1);
  await waitFor(async () => (await restCount(CHAT)).userCount === 1, 2000 * slow, 'REST: carol gone');
  assert.deepEqual((await restCount(CHAT)).users, ['dave']);
  dave.close();
});

test('user counts agree across daemons (S: workers = 2, T) after joins, leaves and a kill -9 of T', async () => {
  // Exact counts: no page of an earlier test (one that failed half-way) stays.
  for (const c of contexts.splice(0)) await c.close().catch(() => {});
  const A = await demoPage(S);
  const B = await demoPage(T);
  for (const p of [A, B]) {
    await online(p, 'users-online', 2);
    await online(p, 'todo-users-online', 2);
  }
  // Twelve more on S, straight to its port, so that both workers hold some.  Which worker
  // accepts is the kernel's choice (one listening socket): on a loaded machine (ASan in CI)
  // one worker took all twelve once, so six more at a time until both have some.
  const extra = [];
  let rows, n;
  for (let round = 0; round < 6; round++) {
    await Promise.all(Array.from({ length: round === 0 ? 12 : 6 }, async () => {
      extra.push(await openWs(`ws://127.0.0.1:${S.daemonPort}${EMOJI}`));
    }));
    n = 2 + extra.length;
    for (const p of [A, B]) await online(p, 'users-online', n);
    rows = JSON.parse(S.pg.psql(`SELECT json_object_agg(daemon_id, clients) FROM wsp_presence WHERE namespace = '${EMOJI}'`));
    if (rows['S/w1'] > 0 && rows['S/w2'] > 0) break;
  }
  assert.equal(rows['S/w1'] + rows['S/w2'] + rows.T, n, JSON.stringify(rows));
  assert.ok(rows['S/w1'] > 0 && rows['S/w2'] > 0, `both of S's workers hold sockets: ${JSON.stringify(rows)}`);
  const pn = await restCount(EMOJI);
  assert.equal(pn.userCount, n);
  assert.equal(pn.workers, 3);
  for (const c of extra) c.close();
  for (const p of [A, B]) await online(p, 'users-online', 2);
  // A third page on T joins and leaves.
  const C = await demoPage(T);
  for (const p of [A, B, C]) await online(p, 'users-online', 3);
  await C.context().close();
  for (const p of [A, B]) await online(p, 'users-online', 2);
  for (const p of [A, B]) await online(p, 'todo-users-online', 2);
  await waitFor(async () => (await restCount(TODO)).userCount === 2, 2000, 'REST: 2 on hello-todo');
  // A logged-in user on T is named in S's REST answer (anonymous ones are counted, not named).
  const carol = await openWs(`ws://127.0.0.1:${T.daemonPort}${EMOJI}`, { headers: { Cookie: mintSession(T, 'carol').cookie } });
  for (const p of [A, B]) await online(p, 'users-online', 3);
  const named = await restCount(EMOJI);
  assert.deepEqual(named.users, ['carol']);
  assert.equal(named.userCount, 3);
  carol.close();
  for (const p of [A, B]) await online(p, 'users-online', 2);
  await waitFor(async () => (await restCount(EMOJI)).users.length === 0, 2000, 'carol gone from the names');

  // kill -9 of T: its sockets leave the count everywhere within the documented 4 s.
  // The REST count (a direct read of the rows) within the documented bound;
  // the page, which S's worker tells after its next read, within it plus
  // delivery and a margin for a loaded machine.
  const t0 = Date.now();
  T.daemon.kill('SIGKILL');
  let restMs = null;
  const restGone = waitFor(async () => {
    if ((await restCount(EMOJI)).userCount !== 1) return false;
    restMs = Date.now() - t0;
    return true;
  }, 8000 * slow, 'REST: T\'s sockets gone');
  await online(A, 'users-online', 1);
  await online(A, 'todo-users-online', 1);
  const ms = Date.now() - t0;
  await restGone;
  assert.ok(restMs <= 4000 * slow, `REST: T's sockets left the count after ${restMs} ms (documented: within 4 s)`);
  assert.ok(ms <= 5000 * slow, `T's sockets left the page's count after ${ms} ms`);
  assert.equal((await restCount(EMOJI)).userCount, 1);
  assert.equal((await restCount(TODO)).userCount, 1);
  assert.deepEqual(A.errors, []);
});
