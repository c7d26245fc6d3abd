// fcgi-auth.test.mjs - login, logout, me and sessions through nginx ->
// wspulse.fcgi -> PostgreSQL: cookie attributes, no fixation, revocation
// reaching PostgreSQL (NOTIFY wsp_session), rate limiting per user and per
// address, identical answers for a bad user and a bad password, and
// nothing secret in the log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, http, login, pgListen } from './lib/stack.mjs';

let s, base;
before(async () => {
  s = await startStack({
    users: [
      { name: 'alice', password: 'alice-password-1', roles: ['admin'] },
      { name: 'bob', password: 'bob-password-1' },
      { name: 'carol', password: 'carol-password-1' },
    ],
    // nginx is the trusted proxy here (as a load balancer in front of the
    // web server would be), so X-Forwarded-For stands for client addresses.
    config: { login_max_failures: 3, login_window: 60, session_ttl: 3600, trusted_proxies: '127.0.0.0/8 ::1' },
  });
  base = s.url;
});
after(async () => { await s?.stop(); });

test('login sets an HttpOnly SameSite=Lax cookie; me answers who it is', async () => {
  const { res, cookie } = await login(base, 'alice', 'alice-password-1');
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.success, true);
  assert.equal(res.json.data.username, 'alice');
  assert.deepEqual(res.json.data.roles, ['admin']);
  const sc = res.cookies.find((c) => c.startsWith('wsp_session='));
  assert.match(sc, /^wsp_session=v1\.[0-9a-f]{32}\.\d+\.[^;]+; HttpOnly; SameSite=Lax; Path=\/; Max-Age=3600$/);
  assert.ok(!/Secure/.test(sc), 'no Secure over plain HTTP');
  const me = await http(base, 'GET', '/api/1/auth/me', { cookie });
  assert.equal(me.status, 200);
  assert.deepEqual(me.json, { success: true, data: { username: 'alice', roles: ['admin'] } });
  const sid = cookie.split('.')[1];
  assert.equal(s.pg.psql(`SELECT username || ' ' || array_to_string(roles, ',') FROM wsp_sessions WHERE id = '${sid}'`), 'alice admin');
});

test('Secure is added when the request came over HTTPS (X-Forwarded-Proto from a trusted proxy)', async () => {
  const { res } = await login(base, 'bob', 'bob-password-1', { headers: { 'X-Forwarded-Proto': 'https' } });
  assert.equal(res.status, 200);
  assert.match(res.cookies.find((c) => c.startsWith('wsp_session=')), /; Secure$/);
});

test('me without, with a garbage, or with a forged cookie is 401 JSON', async () => {
  for (const cookie of [undefined, 'wsp_session=nonsense', 'wsp_session=v1.' + '0'.repeat(32) + '.9999999999.YWxpY2U.YWRtaW4.AAAA']) {
    const r = await http(base, 'GET', '/api/1/auth/me', { cookie });
    assert.equal(r.status, 401);
    assert.equal(r.json.success, false);
    assert.equal(r.json.code, 'UNAUTHORIZED');
    assert.equal(r.json.path, '/api/1/auth/me');
  }
});

test('every login gets a fresh session id; the one sent along is revoked (no fixation)', async () => {
  const first = await login(base, 'bob', 'bob-password-1');
  const second = await login(base, 'bob', 'bob-password-1', { cookie: first.cookie });
  assert.ok(first.cookie && second.cookie);
  const sid1 = first.cookie.split('.')[1], sid2 = second.cookie.split('.')[1];
  assert.notEqual(sid1, sid2);
  assert.equal((await http(base, 'GET', '/api/1/auth/me', { cookie: first.cookie })).status, 401);
  assert.equal((await http(base, 'GET', '/api/1/auth/me', { cookie: second.cookie })).status, 200);
});

test('logout revokes the session row, NOTIFYs wsp_session and the cookie stops working', async () => {
  const l = await pgListen(s.pg, ['wsp_session']);
  try {
    const { cookie } = await login(base, 'carol', 'carol-password-1');
    const sid = cookie.split('.')[1];
    const r = await http(base, 'POST', '/api/1/auth/logout', { cookie, body: {} });
    assert.equal(r.status, 200);
    assert.equal(r.json.success, true);
    assert.match(r.cookies.find((c) => c.startsWith('wsp_session=')), /^wsp_session=; HttpOnly; SameSite=Lax; Path=\/; Max-Age=0/);
    const ev = await l.next((e) => e.payload === `revoke:${sid}:logout`);
    assert.equal(ev.channel, 'wsp_session');
    assert.equal(s.pg.psql(`SELECT revoke_reason FROM wsp_sessions WHERE id = '${sid}' AND revoked_at IS NOT NULL`), 'logout');
    // The token is still correctly signed and unexpired: only the row says no.
    assert.equal((await http(base, 'GET', '/api/1/auth/me', { cookie })).status, 401);
    // Logging out again is harmless.
    assert.equal((await http(base, 'POST', '/api/1/auth/logout', { cookie, body: {} })).status, 200);
  } finally { await l.stop(); }
});

test('a role change revokes live sessions (trigger) and the cookie is refused', async () => {
  const { cookie } = await login(base, 'bob', 'bob-password-1');
  assert.equal((await http(base, 'GET', '/api/1/auth/me', { cookie })).status, 200);
  s.pg.psql("UPDATE wsp_users SET roles = '{editor}' WHERE username = 'bob'");
  assert.equal((await http(base, 'GET', '/api/1/auth/me', { cookie })).status, 401);
  const again = await login(base, 'bob', 'bob-password-1');
  assert.deepEqual(again.res.json.data.roles, ['editor']);
});

test('a bad password and an unknown user get the same answer', async () => {
  const a = await http(base, 'POST', '/api/1/auth/login', { body: { username: 'alice', password: 'wrong-password' } });
  const b = await http(base, 'POST', '/api/1/auth/login', { body: { username: 'nobody-at-all', password: 'wrong-password' } });
  assert.equal(a.status, 401);
  assert.equal(b.status, 401);
  assert.deepEqual(a.json, b.json);
  assert.equal(a.json.code, 'INVALID_CREDENTIALS');
  assert.equal(a.cookies.length, 0);
  // Clear the counters so the rate-limit tests start from zero.
  s.pg.psql('DELETE FROM wsp_login_throttle');
});

test('login input errors: missing fields 400, wrong type 415, malformed 400', async () => {
  let r = await http(base, 'POST', '/api/1/auth/login', { body: { username: 'alice' } });
  assert.equal(r.status, 400);
  assert.equal(r.json.code, 'VALIDATION_ERROR');
  r = await http(base, 'POST', '/api/1/auth/login', { body: { username: 'alice', password: 7 } });
  assert.equal(r.status, 400);
  r = await http(base, 'POST', '/api/1/auth/login', { body: 'username=alice&password=x', type: 'application/x-www-form-urlencoded' });
  assert.equal(r.status, 415);
  assert.equal(r.json.code, 'UNSUPPORTED_MEDIA_TYPE');
  r = await http(base, 'POST', '/api/1/auth/login', { body: '{"username":' });
  assert.equal(r.status, 400);
  assert.equal(r.json.code, 'INVALID_JSON');
  r = await http(base, 'GET', '/api/1/auth/login');
  assert.equal(r.status, 405);
  assert.equal(r.headers.get('allow'), 'POST');
});

test('per (address, user) rate limit: after login_max_failures, 429 with retryAfter, even with the right password', async () => {
  const from = (ip) => ({ 'X-Forwarded-For': ip });
  for (let i = 0; i < 3; i++) {
    const r = await http(base, 'POST', '/api/1/auth/login', { body: { username: 'carol', password: 'nope' + i }, headers: from('10.1.0.1') });
    assert.equal(r.status, 401);
  }
  const r = await http(base, 'POST', '/api/1/auth/login', { body: { username: 'carol', password: 'carol-password-1' }, headers: from('10.1.0.1') });
  assert.equal(r.status, 429);
  assert.equal(r.json.code, 'TOO_MANY_REQUESTS');
  assert.ok(r.json.retryAfter >= 1 && r.json.retryAfter <= 60, `retryAfter ${r.json.retryAfter}`);
  assert.equal(r.headers.get('retry-after'), String(r.json.retryAfter));
  assert.equal(r.cookies.length, 0);
  // The same user from another address is not locked out.
  const elsewhere = await http(base, 'POST', '/api/1/auth/login', { body: { username: 'carol', password: 'carol-password-1' }, headers: from('10.1.0.99') });
  assert.equal(elsewhere.status, 200);
  // Once the block has passed (simulated by ageing the row) it works again.
  s.pg.psql("UPDATE wsp_login_throttle SET last_at = last_at - interval '61 seconds', blocked_until = blocked_until - interval '61 seconds'");
  const ok = await http(base, 'POST', '/api/1/auth/login', { body: { username: 'carol', password: 'carol-password-1' }, headers: from('10.1.0.1') });
  assert.equal(ok.status, 200);
  // A failure prunes keys that have been quiet for a window.
  s.pg.psql("UPDATE wsp_login_throttle SET last_at = last_at - interval '200 seconds', blocked_until = NULL");
  await http(base, 'POST', '/api/1/auth/login', { body: { username: 'nobody-else', password: 'x' }, headers: from('10.1.0.200') });
  assert.equal(s.pg.psql("SELECT count(*) FROM wsp_login_throttle WHERE last_at < now() - interval '60 seconds'"), '0');
});

test('per-address rate limit: many users from one address (10 x login_max_failures)', async () => {
  s.pg.psql('DELETE FROM wsp_login_throttle');
  const from = { 'X-Forwarded-For': '10.2.0.1' };
  for (let i = 0; i < 30; i++) {
    const r = await http(base, 'POST', '/api/1/auth/login', { body: { username: 'u' + i, password: 'x' }, headers: from });
    assert.equal(r.status, 401, `attempt ${i + 1}`);
  }
  const r = await http(base, 'POST', '/api/1/auth/login', { body: { username: 'alice', password: 'alice-password-1' }, headers: from });
  assert.equal(r.status, 429);
  assert.equal(s.pg.psql("SELECT attempts FROM wsp_login_throttle WHERE address = '10.2.0.1' AND username = ''"), '30');
  // Another address is not affected.
  const other = await http(base, 'POST', '/api/1/auth/login', { body: { username: 'alice', password: 'alice-password-1' }, headers: { 'X-Forwarded-For': '10.2.0.2' } });
  assert.equal(other.status, 200);
});

test('an expired token is refused even though its row is live', async () => {
  const { cookie } = await login(base, 'alice', 'alice-password-1');
  const sid = cookie.split('.')[1];
  s.pg.psql(`UPDATE wsp_sessions SET expires_at = now() - interval '1 second' WHERE id = '${sid}'`);
  assert.equal((await http(base, 'GET', '/api/1/auth/me', { cookie })).status, 401);
});

test('passwords and tokens never reach the log', async () => {
  const { cookie } = await login(base, 'alice', 'alice-password-1');
  await http(base, 'GET', '/api/1/auth/me', { cookie });
  const log = s.log('wspulse.fcgi.log');
  assert.match(log, /login 'alice'/);
  for (const secret of ['alice-password-1', 'wrong-password', 'carol-password-1', cookie.slice('wsp_session='.length)])
    assert.ok(!log.includes(secret), 'log must not contain ' + secret.slice(0, 12));
});
