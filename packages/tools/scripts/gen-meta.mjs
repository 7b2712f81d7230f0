#!/usr/bin/env node
// Generates the meta package `pingora-ts` from packages/pingora-ts/members.json: one source file
// per member (`pingora-ts/<member>` re-exports `@pingora-ts/<member>`), the root re-exports, the
// exports map and the dependencies. With --check it writes nothing and fails on any drift, and
// on any published workspace package that the list forgets.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const metaDir = join(root, 'packages', 'pingora-ts');
const check = process.argv.includes('--check');
const biome = join(root, 'node_modules', '.bin', 'biome');

const { root: rootMembers, members } = JSON.parse(readFileSync(join(metaDir, 'members.json'), 'utf8'));
const problems = [];

const published = readdirSync(join(root, 'packages'))
  .filter((d) => existsSync(join(root, 'packages', d, 'package.json')))
  .map((d) => ({ dir: d, pkg: JSON.parse(readFileSync(join(root, 'packages', d, 'package.json'), 'utf8')) }))
  .filter(({ pkg }) => !pkg.private && pkg.name !== 'pingora-ts');
const byDir = new Map(published.map((p) => [p.dir, p.pkg]));

for (const { dir } of published) {
  if (!members.includes(dir)) problems.push(`packages/${dir} is published but missing from members.json`);
}
for (const m of new Set([...members, ...rootMembers])) {
  if (!byDir.has(m))
    problems.push(`members.json names "${m}", which is not a published package in packages/`);
}

const entry = (name) => ({
  '@pingora-ts/source': `./src/${name}.ts`,
  import: { types: `./dist/${name}.d.ts`, default: `./dist/${name}.js` },
  require: { types: `./dist/${name}.d.cts`, default: `./dist/${name}.cjs` },
});

const files = new Map();
for (const m of members) {
  const desc = byDir.get(m)?.description ?? '';
  files.set(
    join(metaDir, 'src', `${m}.ts`),
    `/**\n * @module pingora-ts/${m}\n *\n * Everything from \`@pingora-ts/${m}\`: ${desc}.\n * Generated from members.json by \`pnpm gen:meta\`; do not edit.\n */\nexport * from '@pingora-ts/${m}';\n`,
  );
}
files.set(
  join(metaDir, 'src', 'index.ts'),
  [
    '/**',
    ' * @module pingora-ts',
    ' *',
    ' * Cloudflare Pingora for Node.js. The root re-exports the packages most programs need',
    ` * (${rootMembers.map((m) => `\`@pingora-ts/${m}\``).join(', ')}); every member package is`,
    ' * also available as a subpath: `pingora-ts/<member>`.',
    ' * Generated from members.json by `pnpm gen:meta`; do not edit.',
    ' *',
    ' * @example',
    ' * ```ts',
    " * import { PingoraError, ErrorType } from 'pingora-ts';",
    " * import { RequestHeader } from 'pingora-ts/http';",
    ' * ```',
    ' */',
    ...rootMembers.map((m) => `export * from '@pingora-ts/${m}';`),
    '',
  ].join('\n'),
);

const pkgPath = join(metaDir, 'package.json');
const pkg = JSON.parse(readFileSync(pkgPath, 'utf8'));
pkg.exports = { '.': entry('index') };
for (const m of members) pkg.exports[`./${m}`] = entry(m);
pkg.exports['./package.json'] = './package.json';
pkg.dependencies = Object.fromEntries([...members].sort().map((m) => [`@pingora-ts/${m}`, 'workspace:*']));
files.set(pkgPath, `${JSON.stringify(pkg, null, 2)}\n`);

function format(path, text) {
  return execFileSync(
    biome,
    ['format', '--config-path', join(root, 'packages', 'tools'), `--stdin-file-path=${path}`],
    {
      input: text,
      encoding: 'utf8',
    },
  );
}

for (const [path, text] of files) {
  const want = format(path, text);
  const have = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  if (have === want) continue;
  if (check) problems.push(`${relative(root, path)} is out of date: run \`pnpm gen:meta\``);
  else writeFileSync(path, want);
}
const stale = readdirSync(join(metaDir, 'src')).filter(
  (f) =>
    f.endsWith('.ts') && !f.endsWith('.test.ts') && f !== 'index.ts' && !members.includes(f.slice(0, -3)),
);
for (const f of stale) problems.push(`packages/pingora-ts/src/${f} is not a member; delete it`);

if (problems.length) {
  console.error(`meta package check failed:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(
  `meta package ${check ? 'is up to date' : 'generated'}: ${members.length} subpaths, root re-exports ${rootMembers.join(', ')}`,
);
