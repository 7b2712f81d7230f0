/**
 * @module pingora-ts/core
 *
 * Everything from `@pingora-ts/core`: Pingora core for Node.js: Server, services, listeners, apps, HTTP sessions, upstream peers, connectors and pools.
 * Generated from members.json by `pnpm gen:meta`; do not edit.
 */
export * from '@pingora-ts/core';
