#!/usr/bin/env node
// Builds a package's optional native addon with node-gyp, against the headers of the Node that
// runs this script (never downloaded: the machine has no route to nodejs.org). Usage, from a
// package directory: `node ../tools/scripts/build-native.mjs`. The addon's binding.gyp lives in
// native/, not at the package root: a root binding.gyp makes pnpm run node-gyp during install. Exits 0 with a warning when the
// build fails and PINGORA_TS_NATIVE_REQUIRED is not set, because the TypeScript twin always works.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

const required = process.env.PINGORA_TS_NATIVE_REQUIRED === '1';
const cwd = existsSync(join(process.cwd(), 'native', 'binding.gyp'))
  ? join(process.cwd(), 'native')
  : process.cwd();

function headersDir() {
  const candidates = [process.env.npm_config_nodedir, resolve(dirname(process.execPath), '..'), '/usr'];
  for (const dir of candidates) {
    if (dir && existsSync(join(dir, 'include', 'node', 'node_api.h'))) return dir;
  }
  return undefined;
}

const nodedir = headersDir();
if (!nodedir) {
  fail('no Node headers found next to the running node (include/node/node_api.h)');
}
const require = createRequire(join(cwd, 'package.json'));
let gyp;
try {
  gyp = require.resolve('node-gyp/bin/node-gyp.js');
} catch {
  fail('node-gyp is not installed; add it as a devDependency to build the native addon');
}
const r = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`, '--loglevel=warn'], {
  cwd,
  stdio: 'inherit',
});
if (r.status !== 0) fail(`node-gyp exited with ${r.status}`);
console.log(`native addon built in ${join(cwd, 'build', 'Release')}`);

function fail(why) {
  console.warn(`[pingora-ts] native addon not built: ${why}; the TypeScript implementation is used.`);
  process.exit(required ? 1 : 0);
}
