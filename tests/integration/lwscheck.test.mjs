// lwscheck.test.mjs - the libwebsockets/libev workarounds are in use in the
// real daemon (src/daemon/lwscheck.h, evtimer.h, rxhook.h):
//  1. the start-up self-check finds libwebsockets 4.1.6 and recv, SSL_read,
//     ev_timer_start bound to wspulsed's own definitions (and logs no
//     self-check warning or error);
//  2. the libev re-arm fix binds: a 1-ms lws timer scheduled from a socket
//     callback while lws's libev timer is armed for a later deadline runs at
//     once.  Observable: SIGTERM is handled in the event pipe's callback,
//     which schedules the 1-ms shutdown check; with no socket open, that
//     check ends the loop.  Without the fix the check waits for the armed
//     deadline (the next of the daemon's periodic timers, up to a second).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, sleep, within, slow as SLOW } from './lib/stack.mjs';

let s;
before(async () => {
  // No demo (its 50-ms cursor timer would bound the lateness) and a long
  // stats interval: the daemon's shortest periodic timers are then 1 s.
  s = await startStack({ fcgi: false, nginx: false, config: { demo: null, stats_interval: 60, log_file: '' } });
});
after(async () => { await s?.stop(); });

test('start-up self-check: libwebsockets 4.1.6, recv/SSL_read/ev_timer_start bound to the daemon', async () => {
  const log = s.log('wspulsed.log');
  assert.match(log, /self-check: libwebsockets 4\.1\.6\S*; recv, SSL_read, ev_timer_start bound to wspulsed's own/);
  assert.doesNotMatch(log, /self-check: .*(NOT active|written and tested for)/);
});

test('the libev timer fix binds: after SIGTERM the 1-ms shutdown check runs at once, not at the next armed deadline', async () => {
  const took = [];
  for (let i = 0; i < 5; i++) {
    if (i) await s.startDaemon();
    // Idle a while: lws's libev timer is then armed for the next periodic
    // timer, up to a second away.
    await sleep(300 + 97 * i);
    const t0 = Date.now();
    s.daemon.kill('SIGTERM');
    const { code } = await within(s.daemon.exited, 5000 * SLOW, 'the daemon to exit after SIGTERM');
    took.push(Date.now() - t0);
    assert.equal(code, 0);
  }
  took.sort((a, b) => a - b);
  const median = took[2];
  assert.ok(median < 150 * SLOW, `exit after SIGTERM took ${took.join(', ')} ms (median ${median}, limit ${150 * SLOW})`);
});
