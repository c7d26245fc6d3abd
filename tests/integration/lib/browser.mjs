// browser.mjs - a real headless Chromium (Debian's /usr/bin/chromium) driven
// by playwright-core from npm; no browser is downloaded.
import { createRequire } from 'node:module';
import path from 'node:path';
import fs from 'node:fs';
import { srcdir, builddir } from './stack.mjs';

const require = createRequire(import.meta.url);

// Where `npm ci` put playwright-core: $WSPULSE_NODE_MODULES (configure's
// variable; `make distcheck` points it at the source tree's, since the
// unpacked tarball has none), else tests/node_modules of the source tree,
// else of the build tree.
export const nodeModules = [process.env.WSPULSE_NODE_MODULES,
  path.join(srcdir, 'tests', 'node_modules'),
  path.join(builddir, 'tests', 'node_modules')].filter(Boolean);

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

/** require.resolve(id) in those folders (e.g. 'vue/dist/vue.global.prod.js'). */
export function resolveNodeModule(id) {
  return require.resolve(id, { paths: nodeModules.map((d) => path.dirname(d)) });
}

/** Launch headless Chromium; throws with a clear message if it is missing.
 * extraArgs: more command-line switches (e.g. host-resolver rules). */
export async function launch(extraArgs = []) {
  let chromium;
  try {
    ({ chromium } = require(resolveNodeModule('playwright-core')));
  } catch {
    throw new Error(`playwright-core missing in ${nodeModules.join(', ')}: ` +
      'run scripts/install-deps.sh (npm ci in tests/), or configure WSPULSE_NODE_MODULES=DIR');
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
