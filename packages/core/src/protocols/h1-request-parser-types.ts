/**
 * What the HTTP/1.x request parser produces: the parsed head, and the error a refused request
 * becomes (the status to answer and why, for the log line and the differential test).
 */
import { ErrorType, PingoraError } from '@pingora-ts/error';

/** How a request body is delimited (RFC 9112 §6.3); a request is never read until close. */
export type RequestFraming = 'none' | 'length' | 'chunked';

/** The form of the request-target (RFC 9112 §3.2). */
export type TargetForm = 'origin' | 'absolute' | 'authority' | 'asterisk';

/** {@link ParsedRequestHead.expect}: no `Expect` field (or HTTP/1.0, where node ignores it). */
export const EXPECT_NONE = 0;
/** {@link ParsedRequestHead.expect}: `Expect: 100-continue`; send 100 when the body is first read. */
export const EXPECT_CONTINUE = 1;
/** {@link ParsedRequestHead.expect}: an expectation we cannot meet; node:http answers 417. */
export const EXPECT_OTHER = 2;

/** A parsed request head. Strings are latin1 (one char per byte). */
export interface ParsedRequestHead {
  method: string;
  /** The request-target as sent (fragment included). */
  target: string;
  targetForm: TargetForm;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1 — and for HTTP/1.2–1.9, served as the highest version we speak. */
  minorVersion: number;
  /** Flat [name, value, …] in wire order and case; values without surrounding whitespace. */
  rawHeaders: string[];
  framing: RequestFraming;
  /** The declared length for `length` framing, else -1. */
  contentLength: number;
  /** The connection may carry another request after this one (llhttp's `should_keep_alive`). */
  keepAlive: boolean;
  /** CONNECT, or `Upgrade` with a `Connection: upgrade` token: the session decides whether to switch. */
  upgrade: boolean;
  /** `Upgrade` is present, whether or not `Connection` names it (h2c offers must be stripped). */
  hasUpgradeField: boolean;
  /** One of EXPECT_NONE / EXPECT_CONTINUE / EXPECT_OTHER; always EXPECT_NONE on HTTP/1.0 (as node). */
  expect: number;
  /** Index in `rawHeaders` of the Host name, or -1. */
  hostIndex: number;
}

/** Why a request was refused; the differential test lists the ones where we are stricter than llhttp. */
export type RequestRejection =
  | 'method'
  | 'target'
  | 'target-form'
  | 'version'
  | 'http-0.9'
  | 'line-ending'
  | 'header-name'
  | 'header-value'
  | 'obs-fold'
  | 'content-length'
  | 'transfer-encoding'
  | 'chunk-size'
  | 'chunk-extension'
  | 'chunk-data'
  | 'trailer'
  | 'host-duplicate'
  | 'host-missing'
  | 'head-too-large'
  | 'too-many-headers'
  | 'data-after-close'
  | 'incomplete';

const STATUS_TYPES: Record<number, ErrorType> = {
  400: ErrorType.HTTPStatus(400),
  431: ErrorType.HTTPStatus(431),
  505: ErrorType.HTTPStatus(505),
};

/** A refused request: answer `status` (400, 431 or 505), log the message, close the connection. */
export class H1RequestError extends PingoraError {
  constructor(
    readonly status: 400 | 431 | 505,
    readonly rejection: RequestRejection,
    message: string,
  ) {
    super(STATUS_TYPES[status]!, 'Downstream', message);
  }
}

/** The error for a refused request; 400 unless said otherwise. */
export function refuse(
  rejection: RequestRejection,
  message: string,
  status: 400 | 431 | 505 = 400,
): H1RequestError {
  return new H1RequestError(status, rejection, message);
}
