/**
 * @module pingora-ts/proxy
 *
 * Everything from `@pingora-ts/proxy`: Pingora proxy for Node.js: the ProxyHttp phases, Session and the HTTP proxy service.
 * Generated from members.json by `pnpm gen:meta`; do not edit.
 */
export * from '@pingora-ts/proxy';
