/** The disk storage: one machine's cache in files, shared by all its worker processes. */
export { DiskStorage } from './disk.js';
export type { DiskStorageOptions } from './disk.js';
export { DISK_FORMAT_VERSION } from './format.js';
