/**
 * @module pingora-ts/timeout
 *
 * Everything from `@pingora-ts/timeout`: Pingora's fast timeouts for Node.js: deadlines rounded to 10 ms buckets sharing one unref'd timer each, O(1) allocation-free cancel and refresh.
 * Generated from members.json by `pnpm gen:meta`; do not edit.
 */
export * from '@pingora-ts/timeout';
