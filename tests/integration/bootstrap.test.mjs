// bootstrap.test.mjs - README's production section, followed as written, as
// root on this machine: the release tarball (make distdir) is configured for
// a temp prefix, built and installed with README's "Install" lines; then
// README's "Production setup" block runs *verbatim* (taken from README.md
// at test time) against a PostgreSQL cluster with Debian's default peer
// authentication; wspulsed runs as the service user `wspulse`, wspulse.fcgi
// as `www-data` under Apache mod_fcgid with README's own mod_fcgid lines;
// then an admin logs in, publishes, and a WebSocket receives it.
//
// It changes the machine as README's production steps do: the system user
// and group `wspulse` (kept if they exist) and www-data's membership in it.
// Everything else lives under a temp directory and goes at the end.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { builddir, srcdir, bin, run, start, stop, tmpdir, freePort, waitFor, within, openWs, slow as SLOW } from './lib/stack.mjs';

const readme = fs.readFileSync(path.join(srcdir, 'README.md'), 'utf8');

/** The fenced block that follows the line `marker` in README.md. */
function block(marker, lang) {
  const at = readme.indexOf(marker);
  assert.ok(at >= 0, `README.md has no "${marker}"`);
  const open = readme.indexOf('```' + lang + '\n', at);
  const close = readme.indexOf('\n```\n', open);
  assert.ok(open > at && close > open, `no \`\`\`${lang} block after "${marker}"`);
  return readme.slice(open + lang.length + 4, close + 1);
}

const root = tmpdir('wsp-boot-');
const prefix = path.join(root, 'usr'), sysconfdir = path.join(root, 'etc');
const pgdir = path.join(root, 'pg'), pgsock = path.join(root, 'pgsock');
let daemon, apache, listen;

after(async () => {
  await stop(apache?.proc);
  await stop(daemon, 'SIGTERM', 5000);
  run(bin.pg, ['stop', pgdir]);
  if (!process.env.WSPULSE_KEEP) fs.rmSync(root, { recursive: true, force: true });
});

function sh(script, what, env = {}) {
  const r = run('/bin/sh', ['-eux', '-c', script], { env: { ...process.env, ...env }, timeout: 1200000, cwd: root });
  assert.equal(r.status, 0, `${what} failed:\n${r.stderr.slice(-4000)}\n${r.stdout.slice(-2000)}`);
  return r;
}

test('README production section, as root: install to a prefix, set up, serve, log in, publish, receive', { timeout: 1500000 }, async () => {
  assert.equal(process.getuid(), 0, 'this test follows the production steps as root (CI runs make check as root)');
  fs.chmodSync(root, 0o755);   // the service users traverse it, as they would /usr/local

  // 1. README "Install": the release tarball's tree, configured for the prefix.
  const src = path.join(root, 'src');
  sh(`make -C '${builddir}' -s distdir distdir='${src}'`, 'make distdir');
  const install = block('## Install', 'sh')
    .replace('./autogen.sh            # only from a git checkout\n', '')
    .replace('--prefix=/usr/local --sysconfdir=/etc', `--prefix=${prefix} --sysconfdir=${sysconfdir}`)
    .replace('make && make check', 'make -j2');   // the suite is what is running this
  assert.match(install, /^\.\/configure --prefix=\S+ --sysconfdir=\S+\nmake -j2\nmake install\n$/, install);
  sh(`cd '${src}' && ${install}`, 'configure, make, make install');
  for (const f of ['sbin/wspulsed', 'bin/wspulse.fcgi', 'bin/wspulse-admin', 'share/wspulse/migrations/001_init.sql'])
    assert.ok(fs.existsSync(path.join(prefix, f)), `installed ${f}`);
  const example = fs.readFileSync(path.join(sysconfdir, 'wspulse/wspulse.conf.example'), 'utf8');
  assert.match(example, new RegExp(`^secret_file = ${sysconfdir}/wspulse/secret$`, 'm'), 'the example config follows --sysconfdir');

  // 2. PostgreSQL as Debian sets it up: local connections by peer
  //    authentication, the `postgres` superuser; the socket where the
  //    service users reach it.
  assert.equal(run(bin.pg, ['init', pgdir]).status, 0);
  fs.mkdirSync(pgsock, { mode: 0o755 });
  fs.chownSync(pgsock, Number(run('id', ['-u', 'postgres']).stdout), 0);
  fs.appendFileSync(path.join(pgdir, 'postgresql.conf'), `unix_socket_directories = '${pgsock}'\n`);
  fs.writeFileSync(path.join(pgdir, 'pg_hba.conf'), 'local all all peer\n');
  const pgStart = run(bin.pg, ['start', pgdir]);
  assert.equal(pgStart.status, 0, pgStart.stderr);

  // 3. README "Production setup", verbatim, with the site's four settings.
  const port = await freePort();
  listen = `127.0.0.1:${port}`;
  const setup = block('### Production setup', 'sh');
  assert.match(setup, /createdb -O wspulse wspulse/);
  sh(setup, 'README production setup', { prefix, sysconfdir, PGHOST: pgsock, listen });
  const conf = path.join(sysconfdir, 'wspulse/wspulse.conf');
  for (const f of ['secret', 'api-token', 'wspulse.conf']) {
    const st = fs.statSync(path.join(sysconfdir, 'wspulse', f));
    assert.equal(st.mode & 0o777, 0o640, `${f} mode`);
    assert.equal(st.uid, 0, `${f} owner`);
    assert.equal(st.gid, Number(run('id', ['-g', 'wspulse']).stdout), `${f} group`);
  }
  const psql = (sql) => run('runuser', ['-u', 'postgres', '--', 'psql', '-h', pgsock, '-qtAX', '-d', 'wspulse', '-c', sql]).stdout.trim();
  assert.equal(psql("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'wspulse'"), 'wspulse');
  assert.equal(psql("SELECT tableowner FROM pg_tables WHERE tablename = 'wsp_users'"), 'wspulse');
  assert.equal(psql("SELECT roles FROM wsp_users WHERE username = 'admin'"), '{admin,root}');

  // 4. README "Start": wspulsed as the service user.
  const startLine = block('### Start', 'sh').split('\n').find((l) => l.includes('sbin/wspulsed'));
  assert.ok(startLine, 'a wspulsed line in README "Start"');
  // The line as written, by the shell, with the settings of the setup; `exec`
  // in place of the trailing `&` so that this test holds the process.
  const cmd = startLine.replace(/\s+#.*$/, '').replace(/\s*&\s*$/, '');
  assert.match(cmd, /^runuser -u wspulse -- /);
  daemon = start('/bin/sh', ['-c', `exec ${cmd}`], { log: path.join(root, 'wspulsed.log'), env: { prefix, sysconfdir } });
  await waitFor(async () => { try { return (await fetch(`http://${listen}/health`)).ok; } catch { return false; } },
    15000 * SLOW, 'wspulsed (as wspulse) to listen');
  const ps = run('ps', ['-o', 'user=', '-p', String(Number(run('pgrep', ['-P', String(daemon.pid)]).stdout.trim()) || daemon.pid)]);
  assert.equal(ps.stdout.trim(), 'wspulse', 'wspulsed runs as wspulse');

  // 5. Apache runs wspulse.fcgi as www-data through README's mod_fcgid lines.
  const fcgid = block('Apache can also spawn `wspulse.fcgi` itself', 'apache')
    .replaceAll('/usr/local/bin', path.join(prefix, 'bin')).replaceAll('/etc/wspulse', path.join(sysconfdir, 'wspulse'));
  const adir = path.join(root, 'apache');
  fs.mkdirSync(path.join(adir, 'ipc'), { recursive: true });
  fs.chownSync(path.join(adir, 'ipc'), 33, 33);
  const aport = await freePort();
  const mods = ['mpm_event', 'authz_core', 'mime', 'alias', 'fcgid'];
  const aconf = path.join(adir, 'apache2.conf');
  fs.writeFileSync(aconf, `ServerRoot "${adir}"
${mods.map((m) => `LoadModule ${m}_module /usr/lib/apache2/modules/mod_${m}.so`).join('\n')}
User www-data
Group www-data
Listen 127.0.0.1:${aport}
ServerName 127.0.0.1
PidFile "${adir}/apache2.pid"
ErrorLog "${adir}/error.log"
Mutex file:${adir} default
DefaultRuntimeDir "${adir}"
TypesConfig /etc/mime.types
FcgidIPCDir "${adir}/ipc"
FcgidProcessTableFile "${adir}/ipc/shm"
${fcgid}`);
  const t = run('/usr/sbin/apache2', ['-f', aconf, '-t']);
  assert.equal(t.status, 0, t.stderr);
  apache = { proc: start('/usr/sbin/apache2', ['-f', aconf, '-DFOREGROUND'], { log: path.join(adir, 'apache.out') }) };
  const url = `http://127.0.0.1:${aport}`;
  const alog = () => { try { return fs.readFileSync(path.join(adir, 'error.log'), 'utf8'); } catch { return ''; } };
  await waitFor(async () => { try { return (await fetch(`${url}/api/1/health`)).status === 200; } catch { return false; } },
    20000 * SLOW, `wspulse.fcgi under mod_fcgid to answer /api/1/health\n${alog()}`);
  assert.match(run('ps', ['-C', 'wspulse.fcgi', '-o', 'user=']).stdout, /www-data/, 'wspulse.fcgi runs as www-data');

  // 6. Log in as the first admin, publish, receive.
  const ws = await within(openWs(`ws://${listen}/api/1/ws/news`), 5000 * SLOW, 'a WebSocket on /api/1/ws/news');
  await ws.next((m) => m.data?.type === 'connected', 5000 * SLOW);
  const password = setup.match(/echo '([^']+)' \| runuser/)[1];
  let r = await fetch(`${url}/api/1/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password }) });
  assert.equal(r.status, 200, await r.text() + alog());
  const cookie = r.headers.get('set-cookie').split(';')[0];
  r = await fetch(`${url}/api/1/websocket/publish`, { method: 'POST', headers: { 'Content-Type': 'application/json', Cookie: cookie },
    body: JSON.stringify({ namespace: '/api/1/ws/news', data: { type: 'hello', from: 'the admin' } }) });
  assert.equal(r.status, 200, await r.text());
  const got = await ws.next((m) => m.data?.type === 'hello', 5000 * SLOW);
  assert.equal(got.data.username, 'admin');
  // The API token made by the setup works too (read by www-data through the group).
  const token = fs.readFileSync(path.join(sysconfdir, 'wspulse/api-token'), 'utf8').trim();
  r = await fetch(`${url}/api/1/websocket/publish`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({ namespace: '/api/1/ws/news', data: { type: 'hello', from: 'a script' } }) });
  assert.equal(r.status, 200, await r.text());
  assert.equal((await ws.next((m) => m.data?.from === 'a script', 5000 * SLOW)).data.type, 'hello');
  ws.close();
});
