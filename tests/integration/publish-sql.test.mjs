// publish-sql.test.mjs - publishing from any application: the SQL function
// wsp_publish() in the caller's own transaction (committed: delivered once;
// rolled back: nothing), the wspulse_publisher role (EXECUTE and nothing
// else), its refusals, `wspulse-admin publish`, the REST batch publish (one
// transaction; one invalid element and nothing is committed) and the stats
// API with the API token.  Real PostgreSQL, wspulsed, wspulse.fcgi, nginx.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, http, login, openWs, run, bin, sleep } from './lib/stack.mjs';

let s, app;
before(async () => {
  s = await startStack({
    users: [{ name: 'alice', password: 'alice-password-1', roles: ['admin'] }],
    config: { namespace: ['/api/1/ws/orders', '/api/1/ws/batch'] },
  });
  // The application's own login role: a member of wspulse_publisher only.
  s.pg.psql("CREATE ROLE shopapp LOGIN IN ROLE wspulse_publisher; CREATE TABLE orders (id serial PRIMARY KEY, item text NOT NULL); GRANT ALL ON orders, orders_id_seq TO shopapp");
  app = (sql) => {
    const r = run('psql', [s.pg.conninfo.replace('user=postgres', 'user=shopapp'), '-qtAX', '-v', 'ON_ERROR_STOP=1', '-v', 'VERBOSITY=verbose', '-c', sql]);
    return { ok: r.status === 0, out: r.stdout.trim(), err: r.stderr };
  };
});
after(async () => { await s?.stop(); });

const outboxCount = () => Number(s.pg.psql('SELECT count(*) FROM wsp_outbox'));

test('wsp_publish in the app\'s transaction: committed is delivered once on every daemon with its username, rolled back sends nothing', async () => {
  // A second daemon on the same database: a commit reaches both.
  const s2 = await startStack({ pg: s.pg, nginx: false, fcgi: false, config: { namespace: ['/api/1/ws/orders'] } });
  try {
    const ws = await openWs(`${s.wsUrl}/api/1/ws/orders`);
    const ws2 = await openWs(`ws://127.0.0.1:${s2.daemonPort}/api/1/ws/orders`);
    for (const w of [ws, ws2]) await w.next((m) => m.data?.type === 'connected');
    const before = outboxCount();
    let r = app("BEGIN; INSERT INTO orders (item) VALUES ('lost'); SELECT wsp_publish('/api/1/ws/orders', '{\"type\":\"order\",\"item\":\"lost\"}', 'carol'); ROLLBACK;");
    assert.ok(r.ok, r.err);
    assert.equal(outboxCount(), before, 'a rolled-back publish leaves no outbox row');
    r = app("BEGIN; INSERT INTO orders (item) VALUES ('kept'); SELECT wsp_publish('/api/1/ws/orders', '{\"type\":\"order\",\"item\":\"kept\"}', 'carol'); COMMIT;");
    assert.ok(r.ok, r.err);
    for (const [name, w] of [['daemon 1', ws], ['daemon 2', ws2]]) {
      const m = await w.next((x) => x.data?.type === 'order');
      assert.equal(m.data.item, 'kept', `${name}: the first order message is the committed one, not the rolled-back one`);
      assert.equal(m.data.username, 'carol');
    }
    await sleep(300);
    for (const w of [ws, ws2]) assert.equal(w.messages.filter((x) => x.data?.type === 'order').length, 0, 'delivered once, nothing else');
    assert.equal(s.pg.psql("SELECT count(*) FROM orders WHERE item = 'lost'"), '0');
    ws.close();
    ws2.close();
  } finally { await s2.stop(); }
});

test('wspulse_publisher may call wsp_publish and nothing else on wspulse\'s tables', () => {
  for (const sql of ['SELECT * FROM wsp_outbox', "INSERT INTO wsp_outbox (namespace, payload) VALUES ('/api/1/ws/x', '{}')",
    'SELECT * FROM wsp_users', 'SELECT * FROM wsp_sessions', 'DELETE FROM wsp_outbox']) {
    const r = app(sql);
    assert.equal(r.ok, false, sql);
    assert.match(r.err, /permission denied/, sql);
  }
  // A table of the caller's own named like wspulse's cannot capture the insert (fixed search_path).
  const r = app("CREATE TEMP TABLE wsp_outbox (namespace text, payload text, username text, client_id text, id bigint); SELECT wsp_publish('/api/1/ws/orders', '{\"type\":\"shadow\"}')");
  assert.ok(r.ok, r.err);
  assert.equal(s.pg.psql("SELECT count(*) FROM wsp_outbox WHERE payload LIKE '%shadow%'"), '1');
  // Without the role, no EXECUTE.
  s.pg.psql('CREATE ROLE stranger LOGIN');
  const x = run('psql', [s.pg.conninfo.replace('user=postgres', 'user=stranger'), '-qtAX', '-c', "SELECT wsp_publish('/api/1/ws/orders', '{}')"]);
  assert.notEqual(x.status, 0);
  assert.match(x.stderr, /permission denied for function wsp_publish/);
});

test('wsp_publish\'s signature is exactly the documented one; wspulse_publisher holds EXECUTE on the two publish functions and no other privilege on wspulse\'s objects', () => {
  assert.equal(s.pg.psql("SELECT pg_get_function_arguments('wsp_publish'::regproc) || ' -> ' || pg_get_function_result('wsp_publish'::regproc)"),
    "namespace text, data jsonb, username text DEFAULT ''::text, client_id text DEFAULT NULL::text -> bigint");
  // Called by the argument names the issue and README give.
  const r = app("SELECT wsp_publish(namespace => '/api/1/ws/orders', data => '{\"type\":\"named\"}', username => 'n', client_id => NULL)");
  assert.ok(r.ok, r.err);
  assert.match(r.out, /^\d+$/);
  // Every table, view, sequence and SECURITY DEFINER function of the schema,
  // every privilege: only EXECUTE on wsp_publish and wsp_publish_text.
  const held = s.pg.psql(`
    SELECT c.relname || ':' || p FROM pg_class c,
           unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE','REFERENCES','TRIGGER']) p
     WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r','p','v','m','f')
       AND has_table_privilege('wspulse_publisher', c.oid, p)
    UNION ALL
    SELECT c.relname || ':' || p FROM pg_class c, unnest(ARRAY['USAGE','SELECT','UPDATE']) p
     WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'S'
       AND has_sequence_privilege('wspulse_publisher', c.oid, p)
    UNION ALL
    SELECT p.proname || ':EXECUTE' FROM pg_proc p
     WHERE p.pronamespace = current_schema()::regnamespace AND p.prosecdef
       AND has_function_privilege('wspulse_publisher', p.oid, 'EXECUTE')
    UNION ALL
    SELECT 'schema:CREATE' WHERE has_schema_privilege('wspulse_publisher', current_schema(), 'CREATE')
    ORDER BY 1`).split('\n').filter(Boolean);
  assert.deepEqual(held, ['wsp_publish:EXECUTE', 'wsp_publish_text:EXECUTE']);
});

test('wsp_publish refuses what the REST API refuses, with clear SQL errors', () => {
  const before = outboxCount();
  for (const [args, re, state, fn = 'wsp_publish'] of [
    ["'/api/1/other/x', '{}'", /namespace must be a path starting with \/api\/1\/ws\//, '22023'],
    ["'/api/1/ws/', '{}'", /namespace must be/, '22023'],
    ["'/api/1/ws/a/../b', '{}'", /namespace must be/, '22023'],
    ["NULL, '{}'", /namespace must be/, '22023'],
    ["'/api/1/ws/orders', '[1,2]'", /data must be a JSON object \(got array\)/, '22023'],
    ["'/api/1/ws/orders', '\"text\"'", /data must be a JSON object \(got string\)/, '22023'],
    ["'/api/1/ws/orders', '{}', E'bad\\nname'", /username must be/, '22023'],
    ["'/api/1/ws/orders', '{}', repeat('u', 65)", /username must be/, '22023'],
    ["'/api/1/ws/orders', '{}', '', 'not a uuid!'", /client_id must be/, '22023'],
    ["'/api/1/ws/orders', jsonb_build_object('b', repeat('y', 70000))", /data is 700\d\d bytes, over the 65536-byte message limit/, '54000'],
    ["'/api/1/ws/orders', '{not json'", /data must be a JSON object \(got not JSON\)/, '22023', 'wsp_publish_text'],
    ["'/api/1/ws/orders', '[1]'", /data must be a JSON object \(got array\)/, '22023', 'wsp_publish_text'],
  ]) {
    const r = app(`SELECT ${fn}(${args})`);
    assert.equal(r.ok, false, args);
    assert.match(r.err, re, args);
    assert.match(r.err, new RegExp(`ERROR:\\s+${state}`), args);
  }
  assert.equal(outboxCount(), before);
  // wsp_publish_text stores the payload byte for byte (the REST API uses it).
  const r = app("SELECT wsp_publish_text('/api/1/ws/orders', '{\"type\":\"exact\",\"v\":40.9,\"w\":1e+21}')");
  assert.ok(r.ok, r.err);
  assert.equal(s.pg.psql(`SELECT payload FROM wsp_outbox WHERE id = ${r.out}`), '{"type":"exact","v":40.9,"w":1e+21}');
});

test('the size limit wsp_publish checks is the database\'s, not one the application SETs', () => {
  const before = outboxCount();
  const big = "jsonb_build_object('b', repeat('y', 70000))";
  // The caller's own SET used to be the limit: any size got stored.
  let r = app(`SET wspulse.max_message_bytes = '1000000000'; SELECT wsp_publish('/api/1/ws/orders', ${big})`);
  assert.equal(r.ok, false, 'a SET of its own does not raise the limit');
  assert.match(r.err, /over the 65536-byte message limit/);
  assert.match(r.err, /ERROR:\s+54000/);
  r = app(`SELECT set_config('wspulse.max_message_bytes', '1000000000', false), wsp_publish_text('/api/1/ws/orders', ${big}::text)`);
  assert.equal(r.ok, false, 'nor does set_config');
  assert.equal(outboxCount(), before, 'nothing stored');
  // The database's setting is honoured, as 007 documents it.
  s.pg.psql("ALTER DATABASE wspulse SET wspulse.max_message_bytes = '100000'");
  try {
    r = app(`SELECT wsp_publish('/api/1/ws/orders', ${big})`);
    assert.ok(r.ok, r.err);
    r = app(`SET wspulse.max_message_bytes = '200000'; SELECT wsp_publish('/api/1/ws/orders', jsonb_build_object('b', repeat('y', 150000)))`);
    assert.equal(r.ok, false);
    assert.match(r.err, /over the 100000-byte message limit/);
  } finally {
    s.pg.psql('ALTER DATABASE wspulse RESET wspulse.max_message_bytes');
  }
  // The owner (wspulse.fcgi's role) still passes its own limit.
  assert.match(s.pg.psql(`SET wspulse.max_message_bytes = '200000'; SELECT wsp_publish('/api/1/ws/orders', ${big})`), /^\d+$/m);
  // The search_path stays fixed on the replaced function.
  assert.match(s.pg.psql(`SELECT array_to_string(proconfig, ' ') FROM pg_proc WHERE proname = 'wsp_publish_text'`), /search_path=.*pg_temp/);
});

test('wspulse-admin publish NAMESPACE JSON [--user] [--client-id]', async () => {
  const cid = '0f8fad5b-d9cb-469f-a165-70867728950e';
  const ws = await openWs(`${s.wsUrl}/api/1/ws/orders?uuid=${cid}`);
  await ws.next((m) => m.data?.type === 'connected');
  let r = run(bin.admin, ['-c', s.config, 'publish', '/api/1/ws/orders', '{"type":"cron","n":1}', '--user', 'nightly', '--client-id', cid]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^published outbox \d+$/m);
  const m = await ws.next((x) => x.data?.type === 'cron');
  assert.equal(m.data.username, 'nightly');
  assert.equal(m.data.n, 1);
  r = run(bin.admin, ['-c', s.config, 'publish', '/api/1/ws/orders', '[1]']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /data must be a JSON object/);
  r = run(bin.admin, ['-c', s.config, 'publish', '/api/1/ws/orders', '{not json']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /invalid input syntax for type json/);
  r = run(bin.admin, ['-c', s.config, 'publish', '/api/1/ws/orders', '{}', '--bogus', 'x']);
  assert.equal(r.status, 2);
  ws.close();
});

test('REST batch publish: all in one statement, says how many; one invalid or refused element commits nothing and is named', async () => {
  const auth = { Authorization: `Bearer ${s.token}` };
  const ws = await openWs(`${s.wsUrl}/api/1/ws/batch`);
  await ws.next((m) => m.data?.type === 'connected');
  const before = outboxCount();
  let r = await http(s.url, 'POST', '/api/1/websocket/publish', { headers: auth, body: [
    { namespace: '/api/1/ws/batch', data: { type: 'b', n: 1 } },
    { namespace: '/api/1/ws/batch', data: { type: 'b', n: 2 } },
    { namespace: '/api/1/ws/batch', data: { type: 'b', n: 3 } },
  ] });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.data.count, 3);
  assert.equal(r.json.data.ids.length, 3);
  assert.equal(outboxCount(), before + 3);
  assert.deepEqual([...r.json.data.ids].sort((a, b) => a - b), r.json.data.ids, 'ids in the batch\'s order');
  for (const n of [1, 2, 3]) {
    const m = await ws.next((x) => x.data?.type === 'b');
    assert.equal(m.data.n, n);
    assert.equal(m.id, r.json.data.ids[n - 1], 'each message delivered with the id its answer gave');
  }

  for (const [body, status, re] of [
    [[{ namespace: '/api/1/ws/batch', data: { type: 'b', n: 4 } }, { namespace: '/api/1/ws/batch', data: [1] }], 400, /^messages\[1\]: data must be a JSON object$/],
    [[{ namespace: '/api/1/ws/batch', data: { type: 'b', n: 5 } }, 7], 400, /^messages\[1\]: must be an object/],
    [[{ namespace: '/api/1/ws/batch', data: { type: 'b' } }, { namespace: '/api/1/ws/batch', data: { type: 'b' } },
      { namespace: '/api/1/ws/batch', data: { type: 'b', blob: 'z'.repeat(66 * 1024) } }], 413, /^messages\[2\]: data is \d+ bytes, over the 65536-byte message limit$/],
    [[], 400, /a batch holds 1 to 1000 messages/],
  ]) {
    r = await http(s.url, 'POST', '/api/1/websocket/publish', { headers: auth, body });
    assert.equal(r.status, status, r.text);
    assert.match(r.json.error, re);
  }
  // The server refuses one row of the batch's one statement (a trigger here,
  // in wsp_publish_text()'s words): nothing is stored, and the retry message
  // by message names the index.
  s.pg.psql(`CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN IF NEW.payload LIKE '%REFUSE-ME%' THEN RAISE EXCEPTION 'wsp_publish: refused by the test' USING ERRCODE = '22023'; END IF;
    RETURN NEW; END $$;
    CREATE TRIGGER test_refuse BEFORE INSERT ON wsp_outbox FOR EACH ROW EXECUTE FUNCTION test_refuse();`);
  try {
    r = await http(s.url, 'POST', '/api/1/websocket/publish', { headers: auth, body: [
      { namespace: '/api/1/ws/batch', data: { type: 'b', n: 6 } },
      { namespace: '/api/1/ws/batch', data: { type: 'b', x: 'REFUSE-ME' } },
      { namespace: '/api/1/ws/batch', data: { type: 'b', n: 7 } },
    ] });
    assert.equal(r.status, 400, r.text);
    assert.match(r.json.error, /^messages\[1\]: refused by the test$/);
  } finally {
    s.pg.psql('DROP TRIGGER test_refuse ON wsp_outbox; DROP FUNCTION test_refuse()');
  }
  assert.equal(outboxCount(), before + 3, 'a refused batch commits nothing, not even its valid elements');
  await sleep(300);
  assert.equal(ws.messages.filter((x) => x.data?.type === 'b').length, 0, 'nothing from a refused batch is delivered');
  // A single object still answers as before.
  r = await http(s.url, 'POST', '/api/1/websocket/publish', { headers: auth, body: { namespace: '/api/1/ws/batch', data: { type: 'one' } } });
  assert.equal(r.status, 200, r.text);
  assert.equal(typeof r.json.data.id, 'number');
  ws.close();
});

test('stats API also accepts the API token; a wrong token is 401', async () => {
  let r = await http(s.url, 'GET', '/api/1/websocket/stats', { headers: { Authorization: `Bearer ${s.token}` } });
  assert.equal(r.status, 200, r.text);
  assert.ok(Array.isArray(r.json.data.namespaces));
  r = await http(s.url, 'GET', '/api/1/websocket/stats', { headers: { Authorization: `Bearer ${s.token}x` } });
  assert.equal(r.status, 401);
  const admin = (await login(s.url, 'alice', 'alice-password-1')).cookie;
  r = await http(s.url, 'GET', '/api/1/websocket/stats', { cookie: admin });
  assert.equal(r.status, 200);
});
