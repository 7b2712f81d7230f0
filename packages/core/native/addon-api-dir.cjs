// Prints node-addon-api's header directory for binding.gyp (node-gyp runs it from native/), or
// nothing when node-addon-api cannot be found: binding.gyp then declares an empty target, so a
// `node-gyp rebuild` that a package manager runs on install succeeds without building anything
// and graceful upgrades simply report that socket hand-over is unavailable. The package's own
// directory is tried first, then the project running the build (under pnpm a dependency does not
// see the project's node_modules): INIT_CWD, set by npm and pnpm, or the current directory.
const path = require('node:path');

const places = [
  path.join(__dirname, '..'),
  process.env.PINGORA_TS_PROJECT_DIR,
  process.env.INIT_CWD,
  process.cwd(),
];

for (const place of places.filter(Boolean)) {
  try {
    const manifest = require.resolve('node-addon-api/package.json', { paths: [place] });
    process.stdout.write(path.dirname(manifest));
    process.exit(0);
  } catch {
    // not installed there; look further
  }
}
process.stderr.write(
  '[@pingora-ts/core] node-addon-api not found: the fd-passing addon for graceful upgrades is not built\n',
);
