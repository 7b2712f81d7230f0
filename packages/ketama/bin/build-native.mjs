#!/usr/bin/env node
// Builds the optional native addon of an installed @pingora-ts/ketama, from the project that
// depends on it: `npx pingora-ts-ketama-build-native` (needs `node-gyp` and `node-addon-api`
// installed in the project, plus a C++ compiler and Python 3). Nothing runs at install time; the
// package works without this step, in TypeScript.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const projectDir = process.cwd();

function resolveFrom(spec) {
  for (const base of [projectDir, packageDir]) {
    try {
      return createRequire(join(base, 'package.json')).resolve(spec);
    } catch {
      // try the next base
    }
  }
  return undefined;
}

function die(message) {
  console.error(`[@pingora-ts/ketama] ${message}`);
  process.exit(1);
}

const gyp = resolveFrom('node-gyp/bin/node-gyp.js');
if (!gyp) die('node-gyp is not installed: npm install --save-dev node-gyp node-addon-api');
if (!resolveFrom('node-addon-api/package.json'))
  die('node-addon-api is not installed: npm install --save-dev node-addon-api');

// Local headers avoid a download; without them node-gyp fetches the headers of this Node version.
const local = resolve(dirname(process.execPath), '..');
const args = [gyp, 'rebuild'];
if (existsSync(join(local, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${local}`);

const result = spawnSync(process.execPath, args, {
  cwd: join(packageDir, 'native'),
  stdio: 'inherit',
  env: { ...process.env, PINGORA_TS_PROJECT_DIR: projectDir },
});
if (result.status !== 0)
  die(`node-gyp failed (exit ${result.status}); the TypeScript implementation stays in use`);

const addon = join(packageDir, 'native', 'build', 'Release', 'pingora_ketama.node');
if (!existsSync(addon)) die(`no addon at ${addon}`);
const { isNativeEnabled } = await import(new URL('../dist/index.js', import.meta.url).href);
if (!isNativeEnabled()) die('the addon was built but does not load (is PINGORA_TS_NATIVE=0 set?)');
console.log(`[@pingora-ts/ketama] native addon built and loaded: ${addon}`);
