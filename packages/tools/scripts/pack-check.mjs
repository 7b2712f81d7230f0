#!/usr/bin/env node
// Checks every published package the way a user gets it: build, `pnpm pack`, publint and
// arethetypeswrong on the tarball, then install all tarballs into a fresh project outside the
// workspace and load each entry point with both `import` and `require`. A package passes when
// both module systems load, expose the same non-empty export names, and resolve to the built
// files (.js for import, .cjs for require). Every tarball must carry LICENSE, NOTICE and a README,
// and no test file.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
// Under `npx pnpm …` pnpm need not be on PATH; npm_execpath points at the running pnpm.
const execPath = process.env.npm_execpath ?? '';
const pnpm = /pnpm/.test(execPath) ? [process.execPath, execPath] : ['pnpm'];
const run = (cmd, args, opts = {}) =>
  execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', ...opts });

const packages = readdirSync(join(root, 'packages'))
  .map((dir) => ({ dir: join(root, 'packages', dir) }))
  .filter(({ dir }) => existsSync(join(dir, 'package.json')))
  .map(({ dir }) => ({ dir, pkg: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
  .filter(({ pkg }) => !pkg.private);

const failures = [];
const work = mkdtempSync(join(tmpdir(), 'pingora-ts-pack-'));
const tarballs = join(work, 'tarballs');

console.log(`building ${packages.length} packages`);
run(bin('turbo'), ['run', 'build', '--output-logs=errors-only'], { cwd: root, stdio: 'inherit' });

const tgz = new Map();
for (const { dir, pkg } of packages) {
  const out = run(pnpm[0], [...pnpm.slice(1), 'pack', '--pack-destination', tarballs], { cwd: dir });
  const file = out.trim().split('\n').pop().trim();
  tgz.set(pkg.name, file);
  // What a company's legal and security review looks for first: the licence travels with the
  // code, the package explains itself, and no test code (fixtures, keys, servers) ships.
  const listed = run('tar', ['-tzf', file])
    .split('\n')
    .filter(Boolean)
    .map((f) => f.replace(/^package\//, ''));
  for (const need of ['LICENSE', 'NOTICE', 'README.md', 'package.json']) {
    if (!listed.includes(need)) failures.push(`${pkg.name}: tarball has no ${need}`);
  }
  for (const legal of ['LICENSE', 'NOTICE']) {
    const copy = join(dir, legal);
    if (existsSync(copy) && readFileSync(copy, 'utf8') !== readFileSync(join(root, legal), 'utf8'))
      failures.push(`${pkg.name}: ${legal} differs from the repository's ${legal}`);
  }
  const tests = listed.filter(
    (f) => /\.test\.[cm]?[jt]s$/.test(f) || /(^|\/)(test|tests|__tests__)\//.test(f),
  );
  if (tests.length) failures.push(`${pkg.name}: tarball ships test files: ${tests.join(', ')}`);
  try {
    run(bin('publint'), ['--strict', dir]);
  } catch (e) {
    failures.push(`publint ${pkg.name}:\n${e.stdout}${e.stderr}`);
  }
  try {
    // node16 profile: subpath exports cannot resolve under the legacy node10 algorithm, which Node >= 20 users do not use.
    run(bin('attw'), [file, '--profile', 'node16', '--format', 'table-flipped']);
  } catch (e) {
    failures.push(`attw ${pkg.name}:\n${e.stdout}${e.stderr}`);
  }
}

// A user's project: every tarball as a dependency, and overrides so that the packages' own
// dependencies on each other resolve to the tarballs instead of the registry.
const app = join(work, 'app');
const deps = Object.fromEntries([...tgz].map(([name, file]) => [name, `file:${file}`]));
run('mkdir', ['-p', app]);
writeFileSync(
  join(app, 'package.json'),
  JSON.stringify(
    { name: 'pack-check-app', private: true, version: '1.0.0', dependencies: deps, overrides: deps },
    null,
    2,
  ),
);
run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, stdio: 'inherit' });

const entries = [];
// Data files exported as plain paths (a JSON Schema): loaded with require and checked to parse.
const dataEntries = [];
for (const { pkg } of packages) {
  for (const [key, target] of Object.entries(pkg.exports ?? {})) {
    if (key === './package.json') continue;
    const id = key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`;
    if (typeof target === 'string' && target.endsWith('.json')) dataEntries.push(id);
    else entries.push(id);
  }
}
const probe = `
const entries = ${JSON.stringify(entries)};
(async () => {
  const bad = [];
  for (const id of entries) {
    try {
      const cjs = require(id);
      const esm = await import(id);
      const ck = Object.keys(cjs).sort().join(',');
      const ek = Object.keys(esm).filter((k) => k !== 'default' && k !== 'module.exports').sort().join(',');
      if (!ck) bad.push(id + ': require() exports nothing');
      if (ck !== ek) bad.push(id + ': import and require export different names\\n  esm: ' + ek + '\\n  cjs: ' + ck);
      const rc = require.resolve(id);
      if (!rc.endsWith('.cjs')) bad.push(id + ': require resolved to ' + rc);
      console.log('ok ' + id + ' (' + ck.split(',').length + ' exports)');
    } catch (e) {
      bad.push(id + ': ' + (e && e.stack || e));
    }
  }
  for (const id of ${JSON.stringify(dataEntries)}) {
    try {
      const data = require(id);
      if (data === null || typeof data !== 'object') bad.push(id + ': not a JSON object');
      else console.log('ok ' + id + ' (JSON)');
    } catch (e) {
      bad.push(id + ': ' + (e && e.message || e));
    }
  }
  if (bad.length) { console.error(bad.join('\\n')); process.exit(1); }
})();
`;
writeFileSync(join(app, 'probe.cjs'), probe);
const esmProbe = `
const entries = ${JSON.stringify(entries)};
for (const id of entries) {
  const resolved = import.meta.resolve(id);
  if (!resolved.endsWith('.js')) { console.error(id + ': import resolved to ' + resolved); process.exit(1); }
}
console.log('ok: every entry resolves to ESM files under import');
`;
writeFileSync(join(app, 'probe.mjs'), esmProbe);
for (const file of ['probe.cjs', 'probe.mjs']) {
  try {
    process.stdout.write(run(process.execPath, [file], { cwd: app }));
  } catch (e) {
    failures.push(`${file}:\n${e.stdout}${e.stderr}`);
  }
}

// The `pingora-ts` command runs as installed: `--demo -t` loads the gateway from the tarballs and
// checks the bundled demo file.
try {
  process.stdout.write(run(join(app, 'node_modules', '.bin', 'pingora-ts'), ['--demo', '-t'], { cwd: app }));
} catch (e) {
  failures.push(`bin pingora-ts:\n${e.stdout}${e.stderr}`);
}

if (failures.length) {
  console.error(
    `\npack check FAILED (${failures.length}); work dir kept at ${work}\n\n${failures.join('\n\n')}`,
  );
  process.exit(1);
}
rmSync(work, { recursive: true, force: true });
console.log(
  `pack check passed: ${packages.length} packages, ${entries.length} entry points, import + require`,
);
