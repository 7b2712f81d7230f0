/**
 * The router: routes from the file compiled into matchers, guards, responders and header and
 * path rules. {@link compileRoutes} is the entry point; the pieces are exported for reuse and tests.
 */
export { compileRoutes, compileRoute, DEFAULT_COMPRESSION_LEVEL } from './compile.js';
export type { RouteParts } from './compile.js';
export { compileMatch, requestUri } from './match.js';
export type { RouteMatcher } from './match.js';
export { routingUri, normalizePath } from './routing-path.js';
export { compileHeaderRules } from './header-rules.js';
export type { HeaderEdit } from './header-rules.js';
export { compileRewrite, rewriteUri } from './rewrite.js';
export type { PathRewrite } from './rewrite.js';
export { cidrGuard, cidrSet, parseIp } from './cidr.js';
export type { CidrSet } from './cidr.js';
export { DEFAULT_PURGE_ALLOW, purgeGuard } from './purge-guard.js';
export { redirectResponder, respondResponder, sendAnswer } from './responders.js';
export { staticResponder, decodePath } from './static-files.js';
export { contentTypeOf, DEFAULT_CONTENT_TYPE } from './mime.js';
