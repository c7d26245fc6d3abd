// abuse.test.mjs - issue 19: the daemon's answers to what an attacker (or an
// unlucky user) sends: upgrade requests with large headers (item 5) and
// anonymous input that costs other users (item 12, daemon part).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, waitFor, sleep, slow, mintSession } from './lib/stack.mjs';
import { connect } from './lib/rawws.mjs';

let s;
before(async () => {
  s = await startStack({ fcgi: false, users: [{ name: 'carol', password: 'carol-password-1' }] });
});
after(async () => { await s?.stop(); });

/** Cookie header of about `size` bytes holding `extra` (e.g. a session). */
function bigCookie(size, extra = '') {
  const parts = [];
  let n = 0;
  for (let i = 0; n < size; i++) { const p = `pref${i}=${'v'.repeat(90)}`; parts.push(p); n += p.length + 2; }
  if (extra) parts.push(extra);
  return parts.join('; ');
}

test('upgrade headers up to nginx\'s 8 KB are accepted, also through nginx; the session inside a 7 KB cookie header is read', async () => {
  // Straight to the daemon (lws's header table used to hold 4 KB: no answer at all).
  const c1 = await connect(s.daemonPort, '/api/1/ws/hello-emoji', { headers: { Cookie: bigCookie(7800) } });
  assert.equal(c1.status, 101);
  c1.end();
  // An auth namespace: the session cookie sits at the end of an 8 KB header.
  const sess = mintSession(s, 'carol');
  const c2 = await connect(s.daemonPort, '/api/1/ws/jpulse-ws-test', { headers: { Cookie: bigCookie(7800, sess.cookie) } });
  assert.equal(c2.status, 101, 'the session cookie was found');
  const w = await c2.nextMessage((m) => m.data?.type === 'connected');
  assert.equal(w.data.username, 'carol');
  c2.end();
  // Through nginx.
  const c3 = await connect(s.httpPort, '/api/1/ws/hello-emoji', { headers: { Cookie: bigCookie(7800) } });
  assert.equal(c3.status, 101);
  c3.end();
});

test('a larger upgrade request is answered 431 and logged with the address; it takes no daemon out of nginx\'s rotation', async () => {
  const head = { Cookie: bigCookie(7000), 'X-Pad-1': 'p'.repeat(7000), 'X-Pad-2': 'q'.repeat(4000) };
  const c = await connect(s.daemonPort, '/api/1/ws/hello-emoji', { headers: head });
  assert.equal(c.status, 431);
  c.end();
  await waitFor(() => /upgrade refused: 431 request headers over 16384 bytes \(127\.0\.0\.1\)/.test(s.log('wspulsed.log')), 5000, 'the log line');
  // Through nginx (each line under its 8 KB): 431 passed on, and the
  // daemon stays in rotation -- ordinary upgrades right after all succeed.
  for (let i = 0; i < 4; i++) {
    const x = await connect(s.httpPort, '/api/1/ws/hello-emoji', { headers: head });
    assert.equal(x.status, 431);
    x.end();
  }
  for (let i = 0; i < 10; i++) {
    const x = await connect(s.httpPort, '/api/1/ws/hello-emoji');
    assert.equal(x.status, 101, `ordinary upgrade ${i} after the 431s`);
    x.end();
  }
});
