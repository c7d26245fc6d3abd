// browser-direct.test.mjs - direct mode in a real headless Chromium: the
// demo page comes from nginx over https on one port (www.example.test), its
// WebSockets go wss:// straight to wspulsed on another (ws.example.test),
// which speaks TLS itself; the login made through nginx reaches the daemon
// (cookie_domain = .example.test) and allowed_origins lists the site.
//
// Both names resolve to 127.0.0.1 through Chromium's host-resolver rules;
// the certificate (for both names) comes from a test CA made with openssl,
// and Chromium is told to accept exactly that key
// (--ignore-certificate-errors-spki-list).  The page says where the daemon
// is with <meta name="jpulse-ws-base-url">, as a site template would.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startStack, freePort, srcdir, tmpdir, sleep } from './lib/stack.mjs';
import { launch, screenshotPath } from './lib/browser.mjs';

const BOB = { name: 'bob', password: 'bob-pass-1234', roles: [] };
let s, browser, root, site, daemon;

before(async () => {
  // The site's copy of the browser assets, with the daemon's address in
  // the demo page (a site edits its own templates the same way).
  root = tmpdir('wsp-site-');
  fs.cpSync(path.join(srcdir, 'www'), root, { recursive: true });
  const httpPort = await freePort();
  const daemonPort = await freePort();
  site = `https://www.example.test:${httpPort}`;
  daemon = `wss://ws.example.test:${daemonPort}`;
  const page = path.join(root, 'hello-websocket', 'index.html');
  const html = fs.readFileSync(page, 'utf8');
  assert.match(html, /<head>/);
  fs.writeFileSync(page, html.replace('<head>', `<head>\n<meta name="jpulse-ws-base-url" content="${daemon}">`));
  s = await startStack({
    users: [BOB],
    tls: { names: ['www.example.test', 'ws.example.test'] },
    nginxTls: true,
    nginxRoot: root,
    ports: { http: httpPort, daemon: daemonPort },
    config: { cookie_domain: '.example.test', allowed_origins: site },
  });
  const spki = crypto.createHash('sha256')
    .update(new crypto.X509Certificate(fs.readFileSync(s.tls.certFile)).publicKey.export({ type: 'spki', format: 'der' }))
    .digest('base64');
  browser = await launch([
    '--host-resolver-rules=MAP www.example.test 127.0.0.1, MAP ws.example.test 127.0.0.1',
    `--ignore-certificate-errors-spki-list=${spki}`,
  ]);
});
after(async () => {
  await browser?.close();
  await s?.stop();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

test('login through nginx (https), then the demo page\'s sockets go wss:// straight to wspulsed, logged in', async () => {
  const ctx = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const sockets = [];
  page.on('websocket', (ws) => sockets.push(ws.url()));

  await page.goto(`${site}/login/?next=${encodeURIComponent('/hello-websocket/')}`);
  await page.fill('#username', BOB.name);
  await page.fill('#password', BOB.password);
  await Promise.all([page.waitForURL((u) => u.pathname === '/hello-websocket/', { timeout: 15000 }), page.click('#login-submit')]);

  // The login cookie: for the whole site, Secure (set over https), HttpOnly.
  const cookie = (await ctx.cookies()).find((c) => c.name === 'wsp_session');
  assert.ok(cookie, 'logged in');
  assert.equal(cookie.domain, '.example.test');
  assert.equal(cookie.secure, true);
  assert.equal(cookie.httpOnly, true);

  await page.waitForFunction(() => document.querySelector('#ws-status')?.textContent === 'connected', null, { timeout: 15000 });
  assert.ok(sockets.length >= 2, `sockets: ${sockets}`);
  for (const u of sockets) assert.ok(u.startsWith(`${daemon}/api/1/ws/`), `${u} goes to the daemon directly`);

  // The daemon knows who it is: the session cookie came with the handshake
  // (an auth-only namespace lets it in; the welcome names the user).
  const welcome = await page.evaluate(() => new Promise((resolve, reject) => {
    const h = window.jPulse.ws.connect('/api/1/ws/jpulse-ws-test', { maxReconnectAttempts: 0 });
    h.onMessage((data) => { if (data?.type === 'connected') resolve(data); });
    h.onStatusChange((st) => { if (st === 'disconnected') reject(new Error(JSON.stringify(h.getCloseReason()))); });
    setTimeout(() => reject(new Error('no welcome')), 10000);
  }));
  assert.equal(welcome.username, BOB.name);
  assert.match(s.log('wspulsed.log'), /\[\/api\/1\/ws\/jpulse-ws-test\] client \S+ connected from 127\.0\.0\.1 \(bob\)/);

  // A todo added through nginx's REST arrives over the direct socket.
  await page.fill('#todo-input', 'direct mode works');
  await page.click('#todo-add');
  await page.locator('#todo-list li', { hasText: 'direct mode works' }).waitFor({ timeout: 10000 });
  await page.screenshot({ path: screenshotPath('hello-websocket-direct.png') });

  // nginx proxied none of it: every upgrade went to the daemon's own port.
  const access = fs.readFileSync(path.join(s.dir, 'nginx-access.log'), 'utf8');
  assert.ok(/POST \/api\/1\/auth\/login/.test(access), 'the login went through nginx');
  assert.ok(!/\/api\/1\/ws\//.test(access), 'no WebSocket through nginx');
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('a page of an origin not in allowed_origins is refused (403); a visitor who has not logged in is refused by an auth namespace (401)', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  // ws.example.test's own page is another origin than the site.
  const res = await page.goto(`https://ws.example.test:${s.daemonPort}/health`);
  assert.equal(res.status(), 200);
  const refused = await page.evaluate((url) => new Promise((resolve) => {
    const w = new WebSocket(`${url}/api/1/ws/hello-emoji`);
    w.onopen = () => resolve('open');
    w.onclose = (e) => resolve(`closed ${e.code}`);
  }), daemon);
  assert.equal(refused, 'closed 1006', 'the handshake was refused');
  await sleep(200);
  assert.match(s.log('wspulsed.log'), /upgrade refused: 403 .*origin/i);
  // Not logged in: the auth-only namespace refuses the socket (401).
  const site2 = await ctx.newPage();
  await site2.goto(`${site}/hello-websocket/`);
  const st = await site2.evaluate(() => new Promise((resolve) => {
    const h = window.jPulse.ws.connect('/api/1/ws/jpulse-ws-test', { maxReconnectAttempts: 0 });
    h.onStatusChange((x) => { if (x === 'disconnected') resolve(x); });
    setTimeout(() => resolve(h.getStatus()), 8000);
  }));
  assert.equal(st, 'disconnected');
  assert.match(s.log('wspulsed.log'), /\[\/api\/1\/ws\/jpulse-ws-test\] upgrade refused: 401/);
  await ctx.close();
});
