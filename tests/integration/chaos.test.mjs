// chaos.test.mjs - issue 19, item 7: a short run of the fault drill
// (lib/chaos.mjs; `make chaos` runs the long one).  Every subscriber must
// end with exactly the committed rows of its namespace: none missing, none
// twice, each publisher's numbers in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drill } from './lib/chaos.mjs';

test('fault drill (short): kill -9 of workers and daemons, PostgreSQL restart and 5 s outage, nginx reload, rolling restart, big catch-ups, out-of-order commits: delivered == committed', async () => {
  const r = await drill({ seconds: Number(process.env.CHAOS_SECONDS || 45), publishers: 3, subscribers: 6, log: (l) => console.log(`# ${l}`) });
  assert.ok(r.events.length >= 8, 'every fault ran');
  assert.ok(Object.values(r.committed).every((n) => n > 100), `enough traffic: ${JSON.stringify(r.committed)}`);
  assert.ok(r.ok, r.lines.join('\n'));
});
