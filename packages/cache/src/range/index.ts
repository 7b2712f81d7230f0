/**
 * Range requests served from a full body (RFC 9110 §14): parsing the Range header, turning the
 * 200 head into a 206 or 416, and cutting the body, single range or `multipart/byteranges`.
 */
export { RangeBodyFilter } from './body-filter.js';
export { ifRangeMatches, rangeHeaderFilter } from './header-filter.js';
export { multipartFooter, multipartLength, multipartPartHeader } from './multipart.js';
export { DEFAULT_MAX_MULTIPART_RANGES, parseRangeHeader, randomBoundary } from './parse.js';
export type { BoundaryGenerator, ByteRange, MultiRange, RangeType } from './parse.js';
