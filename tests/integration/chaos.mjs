// chaos.mjs - `make chaos`: the fault drill (lib/chaos.mjs) for
// CHAOS_SECONDS of faults (default 600), printing per subscriber whether
// it got exactly what was committed.  Exit 0 only if every one did.
import { drill } from './lib/chaos.mjs';

const seconds = Number(process.env.CHAOS_SECONDS || 600);
const t0 = Date.now();
const r = await drill({ seconds, publishers: 4, subscribers: 8, log: (l) => console.log(l) });
console.log(`chaos: ${Math.round((Date.now() - t0) / 1000)} s, ${r.events.length} faults; committed ${JSON.stringify(r.committed)}`);
console.log(r.ok ? 'chaos: PASS - every subscriber: delivered == committed, no duplicate, in order'
  : 'chaos: FAIL');
process.exit(r.ok ? 0 : 1);
