/**
 * One scan of an HTTP/2 request's raw fields for what the session must refuse or know before
 * anything else: connection-specific fields, `te`, `expect`, and a `host` that names another
 * authority than `:authority`.
 */
/** What the request's fields said, from one scan of the raw array (see {@link scanRequestFields}). */
export interface H2RequestScan {
  /** A connection-specific field or a TE other than `trailers` (RFC 9113 §8.2.2), else undefined. */
  malformed: string | undefined;
  /** `te: trailers` was sent: the client takes response trailers (gRPC always says so). */
  teTrailers: boolean;
  /** `expect: 100-continue` was sent. */
  expectContinue: boolean;
  /**
   * Two `host` fields, or a `host` naming another authority than `:authority`: the request is
   * answered 400, as an HTTP/1 request with two Host fields is (a phase could route on one name
   * while the origin serves the other).
   */
  badHost: string | undefined;
}

/**
 * Scans HTTP/2 request fields (lowercase names, pseudo-headers included). nghttp2 already refuses
 * most malformed requests before Node sees them; this is the second line, and it costs a length
 * switch per field.
 */
export function scanRequestFields(raw: readonly string[]): H2RequestScan {
  const out: H2RequestScan = {
    malformed: undefined,
    teTrailers: false,
    expectContinue: false,
    badHost: undefined,
  };
  let host: string | undefined;
  let authority: string | undefined;
  for (let i = 0; i < raw.length - 1; i += 2) {
    const name = raw[i]!;
    switch (name.length) {
      case 4:
        if (name === 'host') {
          if (host !== undefined) out.badHost = 'more than one host field';
          host = raw[i + 1]!;
        }
        break;
      case 2:
        if (name === 'te') {
          if (raw[i + 1]!.trim().toLowerCase() === 'trailers') out.teTrailers = true;
          else out.malformed = 'te other than "trailers"';
        }
        break;
      case 6:
        if (name === 'expect' && raw[i + 1]!.toLowerCase() === '100-continue') out.expectContinue = true;
        break;
      case 7:
        if (name === 'upgrade') out.malformed = 'connection-specific field upgrade';
        break;
      case 10:
        if (name === ':authority') authority = raw[i + 1]!;
        else if (name === 'connection' || name === 'keep-alive')
          out.malformed = `connection-specific field ${name}`;
        break;
      case 16:
        if (name === 'proxy-connection') out.malformed = 'connection-specific field proxy-connection';
        break;
      case 17:
        if (name === 'transfer-encoding') out.malformed = 'transfer-encoding in an HTTP/2 request';
        break;
    }
  }
  if (
    out.badHost === undefined &&
    host !== undefined &&
    authority !== undefined &&
    host.toLowerCase() !== authority.toLowerCase()
  ) {
    out.badHost = 'host field differs from :authority';
  }
  return out;
}
