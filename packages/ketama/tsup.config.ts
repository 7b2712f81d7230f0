import { packageBuild } from '../tools/tsup.js';

// shims: the CJS build gets an `import.meta.url` shim, which the native loader needs.
export default packageBuild({ shims: true });
