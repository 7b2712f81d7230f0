/**
 * Loading a gateway file: validation with every problem placed at its line and column, the
 * error that carries them, and the `ServerConf` of the `server` section.
 */
export { type ConfigProblem, formatProblem, formatPath, GatewayConfigError } from './problem.js';
export { suggestName } from './suggest.js';
export { type GatewayValidation, loadGatewayConfig, validateGatewayText } from './validate.js';
export { serverConfFromGateway } from './server-conf.js';
