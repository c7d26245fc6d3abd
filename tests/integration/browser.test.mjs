// browser.test.mjs - the pages in a real headless Chromium against the real
// stack (nginx, wspulse.fcgi, wspulsed, PostgreSQL): cursors, todos,
// reconnect after a daemon restart, disconnect(), the admin live view.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, sleep } from './lib/stack.mjs';
import { launch, screenshotPath } from './lib/browser.mjs';

let s, browser;
const ADMIN = { name: 'admin', password: 'admin-pass-123', roles: ['admin', 'root'] };
const BOB = { name: 'bob', password: 'bob-pass-1234', roles: [] };

before(async () => {
  s = await startStack({ users: [ADMIN, BOB], config: { stats_interval: 1 } });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await s?.stop();
});

async function demoPage() {
  const ctx = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => { page.errors = (page.errors || []).concat(String(e)); });
  await page.goto(`${s.url}/hello-websocket/`);
  await page.waitForFunction(() => document.querySelector('#ws-status')?.textContent === 'connected', null, { timeout: 15000 });
  return page;
}

const status = (page) => page.evaluate(() => document.querySelector('#ws-status').textContent);

let pageA, pageB;

test('two pages see each other\'s cursor, not their own', async () => {
  pageA = await demoPage();
  pageB = await demoPage();
  await pageA.waitForFunction(() => /2 users online/.test(document.querySelector('#users-online').textContent), null, { timeout: 10000 });
  const area = await pageA.locator('#cursor-area').boundingBox();
  for (let i = 0; i < 5; i++) {
    await pageA.mouse.move(area.x + area.width * (0.2 + i * 0.1), area.y + area.height / 2);
    await sleep(80);
  }
  const cursor = pageB.locator('.remote-cursor:not([hidden])');
  await cursor.first().waitFor({ state: 'visible', timeout: 10000 });
  const left = await cursor.first().evaluate((n) => parseFloat(n.style.left));
  assert.ok(left > 30 && left < 80, `cursor at ${left}% of the width`);
  assert.equal(await pageA.locator('.remote-cursor:not([hidden])').count(), 0, 'own cursor not drawn');
});

test('a todo added in page A appears in page B without reload, escaped', async () => {
  const title = 'Buy milk <b id="inj">now</b>';
  await pageA.fill('#todo-input', title);
  await pageA.click('#todo-add');
  const item = pageB.locator('#todo-list li', { hasText: 'Buy milk' });
  await item.waitFor({ timeout: 10000 });
  assert.match(await item.textContent(), /<b id="inj">now<\/b>/);
  assert.equal(await pageB.locator('#inj').count(), 0, 'the title is text, not markup');
  // The sender's own list also updates from the WebSocket event.
  await pageA.locator('#todo-list li', { hasText: 'Buy milk' }).waitFor({ timeout: 10000 });
  await pageB.screenshot({ path: screenshotPath('hello-websocket.png') });
});

test('daemon restart: reconnecting, then connected, and messages flow again', async () => {
  await s.stopDaemon();
  await pageA.waitForFunction(() => document.querySelector('#ws-status').textContent === 'reconnecting', null, { timeout: 10000 });
  await s.startDaemon();
  // Backoff starts at 5 s (+-20% jitter).
  await pageA.waitForFunction(() => document.querySelector('#ws-status').textContent === 'connected', null, { timeout: 20000 });
  await pageB.waitForFunction(() => document.querySelector('#ws-status').textContent === 'connected', null, { timeout: 20000 });
  await pageB.fill('#todo-input', 'after restart');
  await pageB.click('#todo-add');
  await pageA.locator('#todo-list li', { hasText: 'after restart' }).waitFor({ timeout: 10000 });
});

test('disconnect() stops reconnects', async () => {
  await pageA.evaluate(() => { window.helloWs.todo.disconnect(); window.helloWs.emoji.disconnect(); });
  assert.equal(await pageA.evaluate(() => window.helloWs.todo.getStatus()), 'disconnected');
  // Longer than the first backoff step: a reconnect would have happened.
  await sleep(7000);
  assert.equal(await pageA.evaluate(() => window.helloWs.todo.getStatus()), 'disconnected');
  assert.equal(await pageA.evaluate(() => window.helloWs.todo.isConnected()), false);
  assert.equal(await status(pageA), 'disconnected');
  assert.deepEqual(pageA.errors || [], []);
});

async function login(ctx, user, next) {
  const page = await ctx.newPage();
  await page.goto(`${s.url}/login/?next=${encodeURIComponent(next)}`);
  await page.fill('#username', user.name);
  await page.fill('#password', user.password);
  await Promise.all([page.waitForURL((u) => u.pathname === next, { timeout: 10000 }), page.click('#login-submit')]);
  return page;
}

test('an admin sees the live stats update', async () => {
  const ctx = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await login(ctx, ADMIN, '/admin/websocket-stats.shtml');
  await page.waitForFunction(() => /connected/.test(document.querySelector('#wsp-conn')?.className || ''), null, { timeout: 10000 });
  const first = await page.textContent('#wsp-updated');
  await page.waitForFunction((t) => document.querySelector('#wsp-updated').textContent !== t, first, { timeout: 10000 });
  const rows = await page.locator('#wsp-namespaces tr[data-path="/api/1/ws/hello-todo"]').count();
  assert.equal(rows, 1);
  await page.locator('#wsp-namespaces .wsp-dot').first().waitFor();
  await page.screenshot({ path: screenshotPath('admin-websocket-stats.png'), fullPage: true });
  await ctx.close();
});

test('a non-admin is refused the admin page; a visitor is sent to the login page', async () => {
  const ctx = await browser.newContext();
  const page = await login(ctx, BOB, '/hello-websocket/');
  const res = await page.goto(`${s.url}/admin/websocket-stats.shtml`);
  assert.equal(res.status(), 403);
  await ctx.close();
  const anon = await (await browser.newContext()).newPage();
  await anon.goto(`${s.url}/admin/websocket-stats.shtml`);
  assert.equal(new URL(anon.url()).pathname, '/login/');
});
