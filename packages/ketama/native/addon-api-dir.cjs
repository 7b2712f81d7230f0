// Prints node-addon-api's header directory for binding.gyp (node-gyp runs it from native/),
// or nothing when node-addon-api is not installed: binding.gyp then declares an empty
// target, so an implicit `node-gyp rebuild` run by a package manager on install (yarn, or pnpm
// with the build approved) succeeds without building anything instead of failing the install.
// It looks beside this package first, then in the project running the build: under pnpm a
// dependency cannot see the project's own node_modules, so the project is found through
// PINGORA_TS_PROJECT_DIR (set by bin/build-native.mjs), INIT_CWD (set by npm and pnpm) or the cwd.
const path = require('node:path');

const bases = [
  path.join(__dirname, '..'),
  process.env.PINGORA_TS_PROJECT_DIR,
  process.env.INIT_CWD,
  process.cwd(),
].filter(Boolean);

for (const base of bases) {
  try {
    const pkg = require.resolve('node-addon-api/package.json', { paths: [base] });
    process.stdout.write(path.dirname(pkg));
    process.exit(0);
  } catch {
    // try the next place
  }
}
process.stderr.write(
  '[@pingora-ts/ketama] node-addon-api not found: the native addon is skipped and the TypeScript implementation is used\n',
);
