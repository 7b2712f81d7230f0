/**
 * The response compression module (Pingora's `ResponseCompression`): compresses response bodies
 * with the best coding the client accepts, or decompresses an upstream-coded body the client cannot
 * take, streaming through a node:zlib transform with backpressure both ways.
 */
import type { Transform } from 'node:stream';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import type { RequestHeader, ResponseHeader } from '@pingora-ts/http';
import type { HttpModule } from '../module.js';
import { type AcceptEncoding, acceptWeight, chooseEncoding, parseAcceptEncoding } from './accept-encoding.js';
import {
  type CompressionAlgorithm,
  PREFERENCE,
  algorithmAvailable,
  checkLevel,
  clampLevel,
  createDecoder,
  createEncoder,
  parseContentCoding,
} from './algorithm.js';
import { addVaryAcceptEncoding, prepareRecodedHeader } from './headers.js';
import {
  MIN_COMPRESS_LENGTH,
  compressibleType,
  declaredLength,
  noTransform,
  transformableStatus,
} from './rules.js';

/** What the module did to one response's body. */
export type CompressionAction = 'compress' | 'decompress' | 'none';

/** Per-response figures for logging, from {@link ResponseCompression.getInfo}. */
export interface CompressionInfo {
  /** The coding produced (compress) or removed (decompress); `undefined` when nothing was done. */
  algorithm: CompressionAlgorithm | undefined;
  action: CompressionAction;
  /** Body bytes that entered the (de)compressor so far. */
  bytesIn: number;
  /** Body bytes it produced so far. */
  bytesOut: number;
}

/** Settings of a {@link ResponseCompression}; all default to off. */
export interface ResponseCompressionOptions {
  /** Compression level for every coding, clamped to each one's range; 0 (default) disables compression. */
  level?: number;
  /** Decompress gzip/br/zstd upstream bodies the client does not accept. Default false. */
  decompress?: boolean;
  /** Keep a strong ETag strong when the body is re-coded. Default false (weakened). */
  preserveEtag?: boolean;
}

/**
 * Compresses (or decompresses) one response. Settings may be adjusted until the response header
 * has been filtered; after that the decision is made and an adjustment throws.
 *
 * Never touched: 1xx, 204, 304, 206 or `Content-Range`, responses to HEAD, bodyless responses,
 * `Cache-Control: no-transform`. Compression also skips bodies already coded, bodies shorter than
 * {@link MIN_COMPRESS_LENGTH} and types that do not shrink (see `compressibleType`). When it acts it
 * sets or removes `Content-Encoding`, removes `Content-Length` and `Accept-Ranges`, weakens a strong
 * ETag unless `preserveEtag`; whenever the outcome depends on the client's `Accept-Encoding` (even
 * if this client gets the body as is), it adds `Vary: Accept-Encoding`.
 *
 * @example
 * ```ts
 * const c = new ResponseCompression({ level: 6 });
 * c.requestHeaderFilter(req);              // Accept-Encoding: gzip, br;q=0.9
 * c.responseHeaderFilter(resp, false);     // 200 text/html, 10 KB → Content-Encoding: gzip
 * upstreamBody.pipe(c.responseBodyStream()!).pipe(client);
 * c.getInfo();                             // { algorithm: 'gzip', action: 'compress', bytesIn, bytesOut }
 * ```
 */
export class ResponseCompression implements HttpModule {
  readonly #levels: Record<CompressionAlgorithm, number>;
  #decompress: boolean;
  #preserveEtag: boolean;
  /** The request's Accept-Encoding values joined, `undefined` when it sent none. */
  #acceptEncoding: string | undefined;
  #head = false;
  #decided = false;
  #action: CompressionAction = 'none';
  #algorithm: CompressionAlgorithm | undefined;
  #sizeHint: number | undefined;
  #stream: Transform | undefined;
  #bytesOut = 0;

  constructor(options: ResponseCompressionOptions = {}) {
    const level = options.level ?? 0;
    this.#levels = {
      gzip: clampLevel('gzip', level),
      br: clampLevel('br', level),
      zstd: clampLevel('zstd', level),
    };
    this.#decompress = options.decompress ?? false;
    this.#preserveEtag = options.preserveEtag ?? false;
  }

  /** Sets one level for every coding (clamped into each one's range); 0 disables compression. */
  adjustLevel(level: number): void {
    checkLevel(level);
    this.#checkPhase();
    for (const a of PREFERENCE) this.#levels[a] = clampLevel(a, level);
  }

  /** Sets the level of one coding (clamped into its range); 0 stops offering that coding. */
  adjustAlgorithmLevel(algorithm: CompressionAlgorithm, level: number): void {
    this.#checkPhase();
    this.#levels[algorithm] = clampLevel(algorithm, level);
  }

  /** Turns decompression of upstream-coded bodies the client cannot take on or off. */
  adjustDecompression(enabled: boolean): void {
    this.#checkPhase();
    this.#decompress = enabled;
  }

  /** Whether a strong ETag stays strong when the body is re-coded. */
  adjustPreserveEtag(enabled: boolean): void {
    this.#checkPhase();
    this.#preserveEtag = enabled;
  }

  /**
   * Before the response header: whether the module may act (a non-zero level or decompression
   * on). After it: whether it is re-coding this body.
   */
  isEnabled(): boolean {
    if (this.#decided) return this.#action !== 'none';
    const l = this.#levels;
    return l.gzip > 0 || l.br > 0 || l.zstd > 0 || this.#decompress;
  }

  /** What was done to the body and how many bytes went in and came out so far. */
  getInfo(): CompressionInfo {
    const stream = this.#stream as (Transform & { bytesWritten?: number }) | undefined;
    return {
      algorithm: this.#algorithm,
      action: this.#action,
      bytesIn: stream?.bytesWritten ?? 0,
      bytesOut: this.#bytesOut,
    };
  }

  /** Remembers the client's Accept-Encoding and whether the method is HEAD; the request is not modified. */
  requestHeaderFilter(req: RequestHeader): void {
    this.#head = req.method === 'HEAD';
    const values = req.headers.getAll('accept-encoding');
    this.#acceptEncoding =
      values.length === 0 ? undefined : values.length === 1 ? values[0] : values.join(',');
  }

  /** Decides compress / decompress / nothing for the final response header and edits it to match. */
  responseHeaderFilter(resp: ResponseHeader, endOfStream: boolean): void {
    if (this.#decided) return;
    const status = resp.status;
    if (status < 200) {
      // Interim responses carry no body; decide on the final one. A 101 switches protocols: the
      // bytes after it are not an HTTP body, so nothing may be re-coded.
      if (status === 101) this.#decided = true;
      return;
    }
    const enabled = this.isEnabled();
    this.#decided = true;
    if (!enabled || endOfStream || this.#head || !transformableStatus(resp) || noTransform(resp)) return;
    const contentEncoding = resp.headers.get('content-encoding');
    if (contentEncoding !== undefined && contentEncoding.trim().toLowerCase() !== 'identity') {
      this.#decideDecompression(resp, contentEncoding);
    } else {
      this.#decideCompression(resp);
    }
  }

  /**
   * The transform the body goes through: an encoder or decoder chosen by
   * {@link responseHeaderFilter}, or `undefined` to leave the body alone. Made on the first call;
   * later calls return the same stream.
   */
  responseBodyStream(): Transform | undefined {
    if (this.#stream !== undefined || this.#action === 'none') return this.#stream;
    const algorithm = this.#algorithm!;
    const stream =
      this.#action === 'compress'
        ? createEncoder(algorithm, this.#levels[algorithm], this.#sizeHint)
        : createDecoder(algorithm);
    // Counting at push costs nothing per byte and, unlike a 'data' listener, leaves the stream paused.
    const push = stream.push;
    stream.push = (chunk: unknown, encoding?: BufferEncoding): boolean => {
      if (chunk != null) this.#bytesOut += (chunk as Buffer).length;
      return push.call(stream, chunk, encoding);
    };
    this.#stream = stream;
    return stream;
  }

  /** Frees the coder's native memory when the response was abandoned before its body was sent. */
  responseDoneFilter(): void {
    const stream = this.#stream;
    if (stream !== undefined && !stream.destroyed && !stream.readableEnded) stream.destroy();
  }

  #decideCompression(resp: ResponseHeader): void {
    const candidates = PREFERENCE.filter((a) => this.#levels[a] > 0 && algorithmAvailable(a));
    if (candidates.length === 0 || !compressibleType(resp.headers.get('content-type'))) return;
    const length = declaredLength(resp);
    if (length !== undefined && length < MIN_COMPRESS_LENGTH) return;
    addVaryAcceptEncoding(resp);
    const accept = this.#accept();
    const algorithm = accept === undefined ? undefined : chooseEncoding(accept, candidates);
    if (algorithm === undefined) return;
    this.#action = 'compress';
    this.#algorithm = algorithm;
    this.#sizeHint = length;
    resp.insertHeader('Content-Encoding', algorithm);
    prepareRecodedHeader(resp, this.#preserveEtag);
  }

  #decideDecompression(resp: ResponseHeader, contentEncoding: string): void {
    if (!this.#decompress) return;
    const algorithm = parseContentCoding(contentEncoding);
    if (algorithm === undefined || !algorithmAvailable(algorithm)) return;
    addVaryAcceptEncoding(resp);
    // A client that sent no Accept-Encoding is, by RFC 9110, fine with any coding; in practice it is
    // a script or `curl` without --compressed that cannot decode one, so it gets the plain body.
    const accept = this.#accept();
    if (accept !== undefined && acceptWeight(accept, algorithm) > 0) return;
    this.#action = 'decompress';
    this.#algorithm = algorithm;
    resp.removeHeader('content-encoding');
    prepareRecodedHeader(resp, this.#preserveEtag);
  }

  #accept(): AcceptEncoding | undefined {
    const value = this.#acceptEncoding;
    return value === undefined ? undefined : parseAcceptEncoding(value);
  }

  #checkPhase(): void {
    if (this.#decided) {
      throw PingoraError.explain(
        ErrorType.InternalError,
        'response compression settings cannot change after the response header was filtered',
      );
    }
  }
}
