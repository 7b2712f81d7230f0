import { packageBuild } from '../tools/tsup.js';

// `shims` gives the CommonJS build an `import.meta.url`, which the optional native loader needs.
export default packageBuild({ shims: true });
