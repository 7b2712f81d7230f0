import { packageTest } from '../packages/tools/vitest.js';

export default packageTest('@pingora-ts/examples', { include: ['*.test.ts'] });
