// Prints node-addon-api's header directory for binding.gyp (node-gyp runs this from native/).
// node-addon-api is a build-time tool, not a dependency of this package, so it is looked for beside
// the package and then in the project that runs the build: under pnpm a dependency cannot see the
// project's node_modules, hence INIT_CWD (set by npm and pnpm), PINGORA_TS_PROJECT_DIR and the cwd.
const path = require('node:path');

const bases = [
  path.join(__dirname, '..'),
  process.env.PINGORA_TS_PROJECT_DIR,
  process.env.INIT_CWD,
  process.cwd(),
];
for (const base of bases.filter(Boolean)) {
  try {
    const dir = path.dirname(require.resolve('node-addon-api/package.json', { paths: [base] }));
    process.stdout.write(dir);
    process.exit(0);
  } catch {}
}
process.stderr.write(
  'node-addon-api not found: install it (npm i -D node-addon-api) to build the native core\n',
);
process.exit(1);
