// example-php.test.mjs - the worked examples, run for real: the PHP site in
// examples/php-site/ under Debian's php-fpm (+ php-pgsql) behind the same
// nginx as wspulse, with its own users and PHP login session; its token.php
// mints the connection token, its notes.php writes its own table and calls
// wsp_publish() in the same transaction.  Two headless Chromium users: each
// page connects with its token and sees its own username stamped; a note of
// the other user arrives live; a rolled-back note sends nothing.  Then the
// Python example (python3-psycopg2) publishes in its own transaction.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startStack, start, stop, waitFor, srcdir, run, tmpdir, sleep, openWs } from './lib/stack.mjs';
import { launch, screenshotPath } from './lib/browser.mjs';

const NS = '/api/1/ws/app-notes';
const PHP_FPM = fs.readdirSync('/usr/sbin').filter((f) => /^php-fpm[0-9.]*$/.test(f)).map((f) => `/usr/sbin/${f}`)[0];
let s, dir, fpm, browser, appDsn;

before(async () => {
  assert.ok(PHP_FPM, 'php-fpm missing: scripts/install-deps.sh installs php-fpm and php-pgsql');
  dir = tmpdir('wsp-php-');
  fs.chmodSync(dir, 0o755);
  const key = path.join(dir, 'token-secret');
  fs.writeFileSync(key, run('openssl', ['rand', '-hex', '32']).stdout, { mode: 0o600 });
  const sock = path.join(dir, 'php-fpm.sock');
  s = await startStack({
    config: { token_secret_file: key, namespace: `${NS} auth=on` },
    nginxHttp: `upstream php_site_fpm { server unix:${sock}; }`,
    nginxServer: `set $php_site_public ${path.join(srcdir, 'examples/php-site/public')};
    include ${path.join(srcdir, 'examples/php-site/nginx-php-site.conf')};`,
  });
  s.pg.psql(fs.readFileSync(path.join(srcdir, 'examples/php-site/schema.sql'), 'utf8'));
  s.pg.psql(`CREATE EXTENSION IF NOT EXISTS pgcrypto;
    INSERT INTO app_users VALUES ('alice', crypt('alice-pass-1', gen_salt('bf', 6)), 'editor'),
                                 ('bob', crypt('bob-pass-1', gen_salt('bf', 6)), '')`);
  appDsn = s.pg.conninfo.replace('user=postgres', 'user=app_site');
  fs.mkdirSync(path.join(dir, 'sessions'), { mode: 0o700 });
  const root = process.getuid() === 0;
  const conf = path.join(dir, 'php-fpm.conf');
  fs.writeFileSync(conf, `[global]
pid = ${dir}/php-fpm.pid
error_log = ${dir}/php-fpm.log
daemonize = no
[php-site]
${root ? 'user = root\ngroup = root' : ''}
listen = ${sock}
listen.mode = 0666
pm = static
pm.max_children = 4
catch_workers_output = yes
php_admin_value[session.save_path] = ${dir}/sessions
php_admin_value[error_log] = ${dir}/php-errors.log
php_admin_flag[log_errors] = on
env[APP_DB] = "${appDsn}"
env[APP_TOKEN_SECRET_FILE] = ${key}
env[APP_WS_NAMESPACE] = ${NS}
`);
  fpm = start(PHP_FPM, ['-F', '-y', conf, ...(root ? ['-R'] : [])], { log: path.join(dir, 'php-fpm.out') });
  await waitFor(() => fs.existsSync(sock), 10000, 'php-fpm socket');
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await stop(fpm);
  await s?.stop();
  if (dir && !process.env.WSPULSE_KEEP) fs.rmSync(dir, { recursive: true, force: true });
});

const phpLog = () => ['php-fpm.log', 'php-errors.log', 'php-fpm.out'].map((f) => { try { return fs.readFileSync(path.join(dir, f), 'utf8'); } catch { return ''; } }).join('\n');

/** Log in through the PHP site's own form (no browser); returns the PHP session cookie. */
async function phpLogin(name, password) {
  const r = await fetch(`${s.url}/php-site/login.php`, {
    method: 'POST', redirect: 'manual', body: new URLSearchParams({ name, password }),
  });
  assert.equal(r.status, 303);
  const c = r.headers.getSetCookie().find((x) => x.startsWith('php_site='));
  assert.ok(c, 'PHP session cookie');
  return c.split(';')[0];
}

async function pageFor(name, password) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  page.on('pageerror', (e) => console.error(`[${name} page] ${e.message}`));
  await page.goto(`${s.url}/php-site/index.php`);
  await page.fill('input[name=name]', name);
  await page.fill('input[name=password]', password);
  await page.click('#login button');
  await page.waitForSelector('#ws-user');
  await page.waitForFunction(() => document.getElementById('status').textContent === 'connected', null, { timeout: 10000 });
  return { ctx, page };
}

async function addNote(page, body, { rollback = false } = {}) {
  await page.fill('#body', body);
  await page.setChecked('#rollback', rollback);
  const resp = page.waitForResponse((r) => r.url().endsWith('/php-site/notes.php'));
  await page.click('#add button');
  const res = await resp;
  const text = await res.text();
  assert.equal(res.status(), 200, text + phpLog());
  return JSON.parse(text);
}

const liveNotes = (page) => page.$$eval('#feed li.live', (lis) => lis.map((li) => ({ user: li.getAttribute('data-username'), text: li.textContent })));

test('PHP users on the socket: their own login, a token from token.php, their name stamped, each other\'s notes live, a rolled-back one never', async () => {
  // A wrong password is the site's own refusal.
  const ctx0 = await browser.newContext();
  const p0 = await ctx0.newPage();
  await p0.goto(`${s.url}/php-site/index.php`);
  await p0.fill('input[name=name]', 'alice');
  await p0.fill('input[name=password]', 'wrong');
  await p0.click('#login button');
  await p0.waitForSelector('#login-failed');
  await ctx0.close();

  const a = await pageFor('alice', 'alice-pass-1');
  const b = await pageFor('bob', 'bob-pass-1');
  try {
    assert.equal(await a.page.textContent('#ws-user'), 'alice', 'the welcome carries the token\'s user');
    assert.equal(await b.page.textContent('#ws-user'), 'bob');

    let r = await addNote(b.page, 'hello from bob');
    assert.equal(r.success, true, JSON.stringify(r) + phpLog());
    await a.page.waitForSelector('#feed li.live[data-username="bob"]', { timeout: 5000 });
    assert.deepEqual(await liveNotes(a.page), [{ user: 'bob', text: 'bob: hello from bob' }]);

    r = await addNote(a.page, 'and one from alice');
    assert.equal(r.success, true);
    await b.page.waitForSelector('#feed li.live[data-username="alice"]', { timeout: 5000 });
    await a.page.waitForSelector('#feed li.live[data-username="alice"]', { timeout: 5000 });

    r = await addNote(b.page, 'never sent', { rollback: true });
    assert.deepEqual(r, { success: true, rolledBack: true });
    r = await addNote(b.page, 'after the rollback');
    assert.equal(r.success, true);
    await a.page.waitForFunction(() => [...document.querySelectorAll('#feed li.live')].some((li) => li.textContent.includes('after the rollback')), null, { timeout: 5000 });
    await sleep(300);
    const seen = (await liveNotes(a.page)).map((n) => n.text);
    assert.deepEqual(seen, ['bob: after the rollback', 'alice: and one from alice', 'bob: hello from bob'], 'the rolled-back note never arrived');
    assert.equal(s.pg.psql("SELECT count(*) FROM app_notes WHERE body = 'never sent'"), '0');
    assert.equal(s.pg.psql("SELECT count(*) FROM wsp_outbox WHERE payload LIKE '%never sent%'"), '0');
    await a.page.screenshot({ path: screenshotPath('php-site-notes.png') });
  } finally {
    await a.ctx.close();
    await b.ctx.close();
  }
});

test('token.php and notes.php refuse a visitor; the token is the logged-in PHP user\'s, limited to the namespace', async () => {
  let r = await fetch(`${s.url}/php-site/token.php`);
  assert.equal(r.status, 401);
  r = await fetch(`${s.url}/php-site/notes.php`, { method: 'POST', body: '{"body":"x"}', headers: { 'Content-Type': 'application/json' } });
  assert.equal(r.status, 401);
  r = await fetch(`${s.url}/php-site/../lib/app.php`);
  assert.notEqual(r.status, 200);
  const cookie = await phpLogin('alice', 'alice-pass-1');
  const tok = await (await fetch(`${s.url}/php-site/token.php`, { headers: { Cookie: cookie } })).text();
  const claims = JSON.parse(Buffer.from(tok.split('.')[1], 'base64url').toString());
  assert.equal(claims.sub, 'alice');
  assert.deepEqual(claims.roles, ['editor']);
  assert.deepEqual(claims.ns, [NS]);
  assert.ok(claims.exp > Date.now() / 1000 && claims.exp <= Date.now() / 1000 + 301);
  const ws = await openWs(`${s.wsUrl}${NS}?token=${tok}`);
  assert.equal((await ws.next((m) => m.data?.type === 'connected')).data.username, 'alice');
  ws.close();
  const other = await openWs(`${s.wsUrl}/api/1/ws/jpulse-ws-status?token=${tok}`).catch((e) => e);
  assert.ok(other instanceof Error, 'the token opens only its namespace');
});

test('Python (python3-psycopg2) publishes through wsp_publish in its own transaction; a rollback sends nothing', async () => {
  const cookie = await phpLogin('bob', 'bob-pass-1');
  const tok = await (await fetch(`${s.url}/php-site/token.php`, { headers: { Cookie: cookie } })).text();
  const ws = await openWs(`${s.wsUrl}${NS}?token=${tok}`);
  await ws.next((m) => m.data?.type === 'connected');
  const script = path.join(srcdir, 'examples/python/publish_note.py');
  let r = run('/usr/bin/python3', [script, '--dsn', appDsn, '--author', 'cron', '--body', 'rolled back from python', '--rollback']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'rolled back');
  r = run('/usr/bin/python3', [script, '--dsn', appDsn, '--author', 'cron', '--body', 'from python']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout.trim(), /^\d+$/);
  const m = await ws.next((x) => x.data?.type === 'note-added');
  assert.equal(m.data.note.body, 'from python', 'the first note to arrive is the committed one');
  assert.equal(m.data.username, 'cron');
  assert.equal(s.pg.psql("SELECT count(*) FROM app_notes WHERE body = 'rolled back from python'"), '0');
  // A refusal of wsp_publish is the script's error, and rolls its insert back.
  r = run('/usr/bin/python3', [script, '--dsn', appDsn, '--namespace', '/not/a/namespace', '--author', 'cron', '--body', 'bad ns']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /namespace must be a path starting with \/api\/1\/ws\//);
  assert.equal(s.pg.psql("SELECT count(*) FROM app_notes WHERE body = 'bad ns'"), '0');
  ws.close();
});
