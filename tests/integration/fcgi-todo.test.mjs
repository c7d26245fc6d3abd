// fcgi-todo.test.mjs - the hello-todo REST API through nginx -> wspulse.fcgi
// -> PostgreSQL, and its broadcasts: every mutation commits the todo and its
// outbox row together (NOTIFY wsp_outbox on commit), a rolled-back mutation
// writes and notifies nothing, bad input gets its status and JSON body, and
// SQL injection attempts change nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, http, login, pgListen, sleep } from './lib/stack.mjs';

let s, base, l, alice;
before(async () => {
  s = await startStack({
    users: [{ name: 'alice', password: 'alice-password-1' }],
    config: { max_body_bytes: 4096 },
  });
  base = s.url;
  l = await pgListen(s.pg, ['wsp_outbox']);
  alice = (await login(base, 'alice', 'alice-password-1')).cookie;
});
after(async () => { await l?.stop(); await s?.stop(); });

const outbox = (id) => JSON.parse(s.pg.psql(`SELECT json_build_object('namespace', namespace, 'payload', payload, 'username', username, 'client_id', client_id) FROM wsp_outbox WHERE id = ${Number(id)}`));
const count = (table, where = 'true') => Number(s.pg.psql(`SELECT count(*) FROM ${table} WHERE ${where}`));
const lastOutboxId = () => Number(s.pg.psql('SELECT coalesce(max(id), 0) FROM wsp_outbox'));

/** Expect exactly one new NOTIFY after `since` and return its outbox row. */
async function nextBroadcast(since) {
  const ev = await l.next((e) => Number(e.payload) > since);
  const row = outbox(ev.payload);
  return { id: Number(ev.payload), row, data: JSON.parse(row.payload) };
}

test('the whole flow: list, create (guest and user), toggle, delete, stats, each broadcast once', async () => {
  let r = await http(base, 'GET', '/api/1/helloTodo');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.data, []);
  assert.deepEqual(r.json.stats, { total: 0, completed: 0, pending: 0 });

  let since = lastOutboxId();
  r = await http(base, 'POST', '/api/1/helloTodo', { body: { title: '  Buy milk  ' } });
  assert.equal(r.status, 200, r.text);
  const t1 = r.json.data;
  assert.equal(t1.title, 'Buy milk');
  assert.equal(t1.username, 'guest');
  assert.equal(t1.completed, false);
  assert.equal(typeof t1.id, 'number');
  // jPulse v1.0.4's todo: _id a string (its ObjectId in JSON), the name fields.
  assert.equal(t1._id, String(t1.id));
  assert.equal(t1.userFirstName, '');
  assert.equal(t1.userLastName, '');
  assert.match(t1.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(t1.updatedAt, t1.createdAt);
  let b = await nextBroadcast(since);
  assert.equal(b.row.namespace, '/api/1/ws/hello-todo');
  assert.equal(b.row.username, 'guest');
  assert.equal(b.row.client_id, null);
  assert.deepEqual(b.data, { type: 'todo-created', todo: t1 });

  since = b.id;
  r = await http(base, 'POST', '/api/1/helloTodo', { body: { title: 'Walk the dog' }, cookie: alice });
  const t2 = r.json.data;
  assert.equal(t2.username, 'alice');
  b = await nextBroadcast(since);
  assert.equal(b.row.username, 'alice');
  assert.deepEqual(b.data, { type: 'todo-created', todo: t2 });

  r = await http(base, 'GET', '/api/1/helloTodo');
  assert.deepEqual(r.json.data.map((t) => t.id), [t2.id, t1.id], 'newest first');

  since = b.id;
  r = await http(base, 'PUT', `/api/1/helloTodo/${t1.id}/toggle`, { cookie: alice });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.data.completed, true);
  assert.equal(r.json.data.username, 'guest', 'the owner does not change');
  b = await nextBroadcast(since);
  assert.equal(b.row.username, 'alice', 'the outbox names who acted');
  assert.deepEqual(b.data, { type: 'todo-updated', todo: r.json.data });

  r = await http(base, 'GET', '/api/1/helloTodo/stats');
  assert.deepEqual(r.json, { success: true, data: { total: 2, completed: 1, pending: 1 } });

  since = b.id;
  r = await http(base, 'DELETE', `/api/1/helloTodo/${t2.id}`);
  assert.equal(r.status, 200);
  assert.equal(r.json.data.id, t2.id);
  b = await nextBroadcast(since);
  assert.equal(b.row.username, 'guest');
  assert.deepEqual(b.data, { type: 'todo-deleted', todoId: t2._id, todo: r.json.data });

  r = await http(base, 'DELETE', `/api/1/helloTodo/${t2.id}`);
  assert.equal(r.status, 404);
  assert.deepEqual(r.json, { success: false, error: 'Todo not found', code: 'HELLO_TODO_NOT_FOUND', path: `/api/1/helloTodo/${t2.id}` });
  r = await http(base, 'PUT', `/api/1/helloTodo/${t2.id}/toggle`);
  assert.equal(r.status, 404);
  assert.equal(r.json.code, 'HELLO_TODO_NOT_FOUND');
  // Neither failure broadcast anything.
  await sleep(300);
  assert.equal(l.events.filter((e) => Number(e.payload) > b.id).length, 0);
  assert.equal(lastOutboxId(), b.id);
});

test('title validation: trimmed, 1-200 characters, a string', async () => {
  for (const body of [{}, { title: '' }, { title: '   ' }, { title: 7 }, { title: null }, { title: 'x'.repeat(201) }, { title: 'tab\there' }]) {
    const r = await http(base, 'POST', '/api/1/helloTodo', { body });
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.json.success, false);
    assert.equal(r.json.code, 'VALIDATION_ERROR');
    assert.equal(r.json.path, '/api/1/helloTodo');
  }
  // NUL cannot even be parsed (jansson refuses \u0000): 400 as well.
  let r = await http(base, 'POST', '/api/1/helloTodo', { body: { title: 'a\u0000b' } });
  assert.equal(r.status, 400);
  r = await http(base, 'POST', '/api/1/helloTodo', { body: { title: 'é'.repeat(200) } });
  assert.equal(r.status, 200, '200 characters (400 bytes) are fine');
  r = await http(base, 'POST', '/api/1/helloTodo', { body: { title: ' ' + 'y'.repeat(200) + ' ' } });
  assert.equal(r.status, 200, 'trimmed before counting');
});

test('bad ids: 400 INVALID_TODO_ID', async () => {
  for (const id of ['abc', '0', '-1', '1.5', '01', '99999999999999999999', "1'%20OR%20'1'='1", '1;DROP%20TABLE%20wsp_hello_todos']) {
    for (const [m, p] of [['DELETE', `/api/1/helloTodo/${id}`], ['PUT', `/api/1/helloTodo/${id}/toggle`]]) {
      const r = await http(base, m, p);
      assert.equal(r.status, 400, `${m} ${p}`);
      assert.equal(r.json.code, 'INVALID_TODO_ID');
    }
  }
});

test('bad requests: 413, 415, 400 malformed JSON, 404 JSON, 405 with Allow', async () => {
  let r = await http(base, 'POST', '/api/1/helloTodo', { body: JSON.stringify({ title: 'x'.repeat(5000) }) });
  assert.equal(r.status, 413);
  assert.equal(r.json.code, 'PAYLOAD_TOO_LARGE');
  r = await http(base, 'POST', '/api/1/helloTodo', { body: 'title=x', type: 'application/x-www-form-urlencoded' });
  assert.equal(r.status, 415);
  assert.equal(r.json.code, 'UNSUPPORTED_MEDIA_TYPE');
  r = await http(base, 'POST', '/api/1/helloTodo', { body: '{"title": "x"', type: 'application/json' });
  assert.equal(r.status, 400);
  assert.equal(r.json.code, 'INVALID_JSON');
  r = await http(base, 'POST', '/api/1/helloTodo', { body: '["title"]' });
  assert.equal(r.status, 400);
  r = await http(base, 'POST', '/api/1/helloTodo', { body: '{"title":"a","title":"b"}' });
  assert.equal(r.status, 400, 'duplicate keys are refused');
  r = await http(base, 'GET', '/api/1/auth/no/such/route');
  assert.equal(r.status, 404);
  assert.match(r.headers.get('content-type'), /^application\/json/);
  assert.deepEqual(r.json, { success: false, error: 'Not found', code: 'NOT_FOUND', path: '/api/1/auth/no/such/route' });
  r = await http(base, 'PATCH', '/api/1/helloTodo');
  assert.equal(r.status, 405);
  assert.equal(r.headers.get('allow'), 'GET, POST');
  assert.equal(r.json.code, 'METHOD_NOT_ALLOWED');
  r = await http(base, 'POST', '/api/1/helloTodo/stats', { body: {} });
  assert.equal(r.status, 405);
  assert.equal(r.headers.get('allow'), 'GET, DELETE');
  // The connection stays usable after an oversized body.
  r = await http(base, 'GET', '/api/1/helloTodo/stats');
  assert.equal(r.status, 200);
});

test('a rolled-back mutation writes nothing and notifies nothing', async () => {
  s.pg.psql(`CREATE FUNCTION test_fail_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN IF NEW.payload LIKE '%FAIL-MARKER%' THEN RAISE EXCEPTION 'forced failure'; END IF; RETURN NEW; END $$;
    CREATE TRIGGER test_fail_outbox BEFORE INSERT ON wsp_outbox FOR EACH ROW EXECUTE FUNCTION test_fail_outbox();`);
  try {
    const todos = count('wsp_hello_todos'), since = lastOutboxId();
    let r = await http(base, 'POST', '/api/1/helloTodo', { body: { title: 'FAIL-MARKER create' } });
    assert.equal(r.status, 500, r.text);
    assert.equal(r.json.success, false);
    assert.equal(r.json.code, 'INTERNAL_ERROR');
    assert.ok(!r.text.includes('forced failure'), 'no internals in the answer');
    assert.equal(count('wsp_hello_todos'), todos);
    assert.equal(count('wsp_hello_todos', "title LIKE 'FAIL-MARKER%'"), 0);

    // A todo whose title carries the marker: toggling and deleting it fail whole.
    s.pg.psql("INSERT INTO wsp_hello_todos (title, username) VALUES ('FAIL-MARKER existing', 'guest')");
    const id = s.pg.psql("SELECT id FROM wsp_hello_todos WHERE title = 'FAIL-MARKER existing'");
    r = await http(base, 'PUT', `/api/1/helloTodo/${id}/toggle`);
    assert.equal(r.status, 500);
    assert.equal(s.pg.psql(`SELECT completed FROM wsp_hello_todos WHERE id = ${id}`), 'f');
    r = await http(base, 'DELETE', `/api/1/helloTodo/${id}`);
    assert.equal(r.status, 500);
    assert.equal(count('wsp_hello_todos', `id = ${id}`), 1);

    assert.equal(lastOutboxId(), since, 'no outbox row');
    // A later good mutation is the very next NOTIFY: nothing came before it.
    r = await http(base, 'POST', '/api/1/helloTodo', { body: { title: 'after the failures' } });
    assert.equal(r.status, 200);
    const after = l.events.filter((e) => Number(e.payload) > since);
    await l.next((e) => Number(e.payload) > since);
    assert.equal(l.events.filter((e) => Number(e.payload) > since).length, 1, JSON.stringify(after));
    // The worker's connection is fine after the rollbacks.
    assert.equal((await http(base, 'GET', '/api/1/helloTodo/stats')).status, 200);
  } finally {
    s.pg.psql('DROP TRIGGER test_fail_outbox ON wsp_outbox; DROP FUNCTION test_fail_outbox()');
  }
});

test('SQL injection attempts on every parameter change nothing', async () => {
  const snapshot = () => s.pg.psql("SELECT count(*) || '/' || coalesce(sum(id), 0) || '/' || count(*) FILTER (WHERE completed) FROM wsp_hello_todos")
    + ' ' + s.pg.psql('SELECT count(*) FROM wsp_users') + ' ' + s.pg.psql('SELECT count(*) FROM wsp_sessions WHERE revoked_at IS NULL');
  const evil = ["'; DROP TABLE wsp_hello_todos; --", "' OR '1'='1", '1; DELETE FROM wsp_users', "\\'; TRUNCATE wsp_sessions; --"];
  const before = snapshot();
  for (const e of evil) {
    // Path parameter.
    assert.equal((await http(base, 'DELETE', `/api/1/helloTodo/${encodeURIComponent(e)}`)).status, 400);
    assert.equal((await http(base, 'PUT', `/api/1/helloTodo/${encodeURIComponent(e)}/toggle`)).status, 400);
    // Login fields.
    let r = await http(base, 'POST', '/api/1/auth/login', { body: { username: e, password: e }, headers: { 'X-Real-IP': '10.9.9.9' } });
    assert.ok(r.status === 401 || r.status === 429, `login status ${r.status}`);
    r = await http(base, 'POST', '/api/1/auth/login', { body: { username: 'alice', password: e }, headers: { 'X-Real-IP': '10.9.9.8' } });
    assert.ok(r.status === 401 || r.status === 429);
    // Cookie.
    r = await http(base, 'GET', '/api/1/auth/me', { cookie: `wsp_session=${encodeURIComponent(e)}` });
    assert.equal(r.status, 401);
    // Query string (ignored) and a forwarded address.
    r = await http(base, 'GET', `/api/1/helloTodo?id=${encodeURIComponent(e)}`, { headers: { 'X-Real-IP': e } });
    assert.equal(r.status, 200);
  }
  assert.equal(snapshot(), before);
  // A title is data: stored verbatim, nothing executed.
  const r = await http(base, 'POST', '/api/1/helloTodo', { body: { title: evil[0] } });
  assert.equal(r.status, 200);
  assert.equal(r.json.data.title, evil[0]);
  assert.equal(s.pg.psql(`SELECT count(*) FROM wsp_hello_todos WHERE title = $x$${evil[0]}$x$`), '1');
  assert.ok(Number(s.pg.psql('SELECT count(*) FROM wsp_users')) >= 1);
  s.pg.psql('DELETE FROM wsp_login_throttle');
});

test('HTML in a title is kept as data and only ever served as JSON', async () => {
  const title = '<script>alert("x")</script><img src=x onerror=alert(1)>';
  const r = await http(base, 'POST', '/api/1/helloTodo', { body: { title } });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^application\/json/);
  assert.equal(r.headers.get('x-content-type-options') ?? 'nosniff', 'nosniff');
  assert.equal(r.json.data.title, title);
  const list = await http(base, 'GET', '/api/1/helloTodo');
  assert.match(list.headers.get('content-type'), /^application\/json/);
  assert.ok(list.json.data.some((t) => t.title === title));
});
