// fcgi-fcgid.test.mjs - Apache mod_fcgid spawning wspulse.fcgi itself: the
// listening socket arrives on stdin, the program runs as the Apache user
// (www-data when the tests run as root) with its own config and secret, and
// reaches PostgreSQL through a loopback TCP relay to the test cluster's
// private socket.  Login, the todo API and a bearer-token publish work.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startStack, startApache, http, login, bin, writeConfig, freePort } from './lib/stack.mjs';

let s, a, relay;
before(async () => {
  s = await startStack({ users: [{ name: 'alice', password: 'alice-password-1', roles: ['admin'] }], nginx: false });
  // The cluster's socket directory is private to `postgres`; a relay on
  // loopback lets the Apache user in (PostgreSQL still sees a local socket).
  const sockPath = path.join(s.pg.data, '.s.PGSQL.5432');
  const pgPort = await freePort();
  relay = net.createServer((c) => { const u = net.connect(sockPath); c.pipe(u).pipe(c); c.on('error', () => u.destroy()); u.on('error', () => c.destroy()); });
  await new Promise((r) => relay.listen(pgPort, '127.0.0.1', r));
  const fdir = path.join(s.dir, 'fcgid');
  fs.mkdirSync(path.join(fdir, 'ipc'), { recursive: true });
  const uid = process.getuid() === 0 ? 33 : process.getuid(), gid = process.getuid() === 0 ? 33 : process.getgid();
  for (const f of ['secret', 'api-token']) {
    fs.copyFileSync(path.join(s.dir, f), path.join(fdir, f));
    fs.chmodSync(path.join(fdir, f), 0o600);
    fs.chownSync(path.join(fdir, f), uid, gid);
  }
  const conf = writeConfig(fdir, {
    database: `host=127.0.0.1 port=${pgPort} user=postgres dbname=wspulse`,
    secret_file: path.join(fdir, 'secret'), api_token_file: path.join(fdir, 'api-token'),
    log_file: path.join(fdir, 'wspulse.fcgi.log'), log_level: 'debug', fcgi_threads: 2,
  });
  for (const p of [fdir, path.join(fdir, 'ipc'), conf]) fs.chownSync(p, uid, gid);
  a = await startApache(s, {
    snippet: false,
    modules: ['fcgid'],
    extra: `
FcgidIPCDir "${fdir}/ipc"
FcgidProcessTableFile "${fdir}/ipc/shm"
FcgidMaxProcessesPerClass 2
<Directory "${path.dirname(bin.fcgi)}">
    <Files "wspulse.fcgi">
        SetHandler fcgid-script
        Options +ExecCGI
        Require all granted
    </Files>
</Directory>
FcgidWrapper "${bin.fcgi} -c ${conf}" virtual
FcgidPassHeader Authorization
AliasMatch "^/(api/1/(?:auth/|websocket/(?!health$)|helloTodo|health$).*|admin/websocket-stat(?:s|us)\\.shtml)$" "${bin.fcgi}"
`,
  });
});
after(async () => { await a?.stop(); relay?.close(); await s?.stop(); });

test('mod_fcgid spawns wspulse.fcgi with the socket on stdin: login, todo, publish', async () => {
  let r = await http(a.url, 'GET', '/api/1/health');
  assert.equal(r.status, 200, r.text + a.log());
  const { res, cookie } = await login(a.url, 'alice', 'alice-password-1');
  assert.equal(res.status, 200, res.text);
  r = await http(a.url, 'POST', '/api/1/helloTodo', { body: { title: 'via mod_fcgid' }, cookie });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.data.username, 'alice');
  assert.equal(s.pg.psql("SELECT username FROM wsp_outbox WHERE payload LIKE '%via mod_fcgid%'"), 'alice');
  r = await http(a.url, 'GET', '/api/1/helloTodo/nope/toggle');
  assert.equal(r.status, 405);
  r = await http(a.url, 'POST', '/api/1/websocket/publish', { body: { namespace: '/api/1/ws/news', data: { n: 1 } }, headers: { Authorization: `Bearer ${s.token}` } });
  assert.equal(r.status, 200, r.text);
  r = await http(a.url, 'GET', '/admin/websocket-stats.shtml');
  assert.equal(r.status, 302);
  // It really ran as a child of Apache, on the inherited socket.
  const log = fs.readFileSync(path.join(s.dir, 'fcgid', 'wspulse.fcgi.log'), 'utf8');
  assert.match(log, /serving with 2 threads on the inherited socket/);
});
