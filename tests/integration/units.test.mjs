// units.test.mjs - the systemd units as built (etc/systemd/*.service from
// their .in): readiness, directories and reload as README says, and the
// sandboxing `systemd-analyze security --offline=yes` rates at most 4.0
// (the --threshold makes it exit non-zero above that).  The check is shown
// to fail on a unit without the sandboxing (the units of before).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { builddir, run, tmpdir } from './lib/stack.mjs';

const units = ['wspulsed.service', 'wspulsed@.service', 'wspulse-fcgi.service'];
const analyze = (file) => run('systemd-analyze', ['security', '--offline=yes', '--threshold=40', '--no-pager', file]);
const exposure = (out) => Number((out.match(/Overall exposure level for \S+: ([\d.]+)/) || [])[1]);

for (const u of units) {
  test(`${u}: Type=notify, RuntimeDirectory, LogsDirectory, ExecReload; systemd-analyze security <= 4.0`, () => {
    const file = path.join(builddir, 'etc/systemd', u);
    const text = fs.readFileSync(file, 'utf8');
    for (const line of ['Type=notify', 'NotifyAccess=main', 'RuntimeDirectory=wspulse', 'LogsDirectory=wspulse',
      'ExecReload=/bin/kill -HUP $MAINPID', 'User=wspulse', 'Group=wspulse'])
      assert.ok(text.split('\n').includes(line), `${u} lacks ${line}`);
    assert.doesNotMatch(text, /@[a-z]+dir@/, 'every @dir@ substituted');
    const r = analyze(file);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const level = exposure(r.stdout);
    assert.ok(level <= 4.0, `${u}: exposure ${level}`);
  });
}

// The syscalls a unit's SystemCallFilter= lines allow: the allow lines'
// names and @sets (expanded by systemd-analyze), minus the ~ lines'.
function allowedSyscalls(text) {
  const expand = (words) => words.flatMap((w) => {
    if (!w.startsWith('@')) return [w];
    const r = run('systemd-analyze', ['syscall-filter', '--no-pager', w]);
    assert.equal(r.status, 0, r.stderr);
    return expand(r.stdout.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#') && l !== w));
  });
  const allow = new Set(), deny = new Set();
  for (const m of text.matchAll(/^SystemCallFilter=(~?)(.*)$/gm))
    for (const n of expand(m[2].trim().split(/\s+/))) (m[1] ? deny : allow).add(n);
  return new Set([...allow].filter((n) => !deny.has(n)));
}

for (const u of ['wspulsed.service', 'wspulsed@.service']) {
  test(`${u}: its system-call filter lets wspulsed use io_uring (@aio; io_uring = on) and keeps @privileged out`, () => {
    const ok = allowedSyscalls(fs.readFileSync(path.join(builddir, 'etc/systemd', u), 'utf8'));
    for (const n of ['io_uring_setup', 'io_uring_enter', 'sendto', 'epoll_wait'])
      assert.ok(ok.has(n), `${u} allows ${n}`);
    assert.ok(!ok.has('setuid') && !ok.has('mount'), `${u} keeps @privileged out`);
  });
}

test('the check fails for a unit without sandboxing (the units of before rated 8.5)', () => {
  const dir = tmpdir();
  try {
    const file = path.join(dir, 'bare.service');
    fs.writeFileSync(file, '[Service]\nExecStart=/bin/true\nUser=wspulse\nNoNewPrivileges=yes\nProtectSystem=strict\nProtectHome=yes\nPrivateTmp=yes\n');
    const r = analyze(file);
    assert.notEqual(r.status, 0);
    assert.ok(exposure(r.stdout) > 4.0, r.stdout);
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});
