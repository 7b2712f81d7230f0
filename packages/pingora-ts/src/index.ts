/**
 * @module pingora-ts
 *
 * Cloudflare Pingora for Node.js. The root re-exports the packages most programs need
 * (`@pingora-ts/core`, `@pingora-ts/proxy`, `@pingora-ts/error`, `@pingora-ts/http`); every member package is
 * also available as a subpath: `pingora-ts/<member>`.
 * Generated from members.json by `pnpm gen:meta`; do not edit.
 *
 * @example
 * ```ts
 * import { PingoraError, ErrorType } from 'pingora-ts';
 * import { RequestHeader } from 'pingora-ts/http';
 * ```
 */
export * from '@pingora-ts/core';
export * from '@pingora-ts/proxy';
export * from '@pingora-ts/error';
export * from '@pingora-ts/http';
