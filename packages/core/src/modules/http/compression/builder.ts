/** Registers response compression on an app: one {@link ResponseCompression} per request. */
import type { HttpModuleBuilder } from '../module.js';
import { checkLevel } from './algorithm.js';
import { ResponseCompression, type ResponseCompressionOptions } from './response-compression.js';

/**
 * Makes a {@link ResponseCompression} per request (Pingora's `ResponseCompressionBuilder`). It runs
 * after the other modules on the response (low {@link order}), so their body filters see the body
 * as the upstream sent it and only the bytes that leave are coded.
 *
 * @example
 * ```ts
 * const proxy: ProxyHttp = {
 *   upstreamPeer: () => new HttpPeer('127.0.0.1:8080', false, ''),
 *   initDownstreamModules(modules) {
 *     modules.addModule(ResponseCompressionBuilder.enable(6));
 *   },
 * };
 * ```
 */
export class ResponseCompressionBuilder implements HttpModuleBuilder<ResponseCompression> {
  /** Runs late, like Pingora's (half the lowest 16-bit order). */
  readonly order = -16384;
  readonly #options: ResponseCompressionOptions;

  /** A builder whose modules start with `options` (compression off unless `level` is given). */
  constructor(options: ResponseCompressionOptions = {}) {
    checkLevel(options.level ?? 0);
    this.#options = { ...options };
  }

  /**
   * A builder compressing at `level` for every coding; 0 registers the module disabled, so that a
   * request can turn it on with `adjustLevel` (the default Pingora registers).
   * @throws RangeError for a level that is not a non-negative integer.
   */
  static enable(level: number): ResponseCompressionBuilder {
    return new ResponseCompressionBuilder({ level });
  }

  /** A fresh module for one request. */
  init(): ResponseCompression {
    return new ResponseCompression(this.#options);
  }
}
