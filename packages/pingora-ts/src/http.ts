/**
 * @module pingora-ts/http
 *
 * Everything from `@pingora-ts/http`: Pingora's case-preserving RequestHeader/ResponseHeader on Node's flat raw header arrays, with hop-by-hop rules and HTTP/1 and HTTP/2 conversions.
 * Generated from members.json by `pnpm gen:meta`; do not edit.
 */
export * from '@pingora-ts/http';
