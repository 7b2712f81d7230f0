import { packageTest } from '../tools/vitest.js';

export default packageTest('@pingora-ts/gateway');
