// browser.mjs - a real headless Chromium (Debian's /usr/bin/chromium) driven
// by playwright-core from npm; no browser is downloaded.
import { createRequire } from 'node:module';
import path from 'node:path';
import fs from 'node:fs';
import { srcdir, builddir } from './stack.mjs';

const require = createRequire(path.join(srcdir, 'tests', 'package.json'));

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

/** Launch headless Chromium; throws with a clear message if it is missing.
 * extraArgs: more command-line switches (e.g. host-resolver rules). */
export async function launch(extraArgs = []) {
  let chromium;
  try {
    ({ chromium } = require('playwright-core'));
  } catch {
    throw new Error('playwright-core missing: run scripts/install-deps.sh (npm ci in tests/)');
  }
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} missing: apt-get install chromium`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage', ...extraArgs],
  });
}

/** Where screenshots go: the build tree, so they never dirty the sources. */
export function screenshotPath(name) {
  const dir = path.join(builddir, 'tests', 'screenshots');
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}
