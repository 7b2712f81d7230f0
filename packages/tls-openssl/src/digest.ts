/**
 * `SslDigest`: what a downstream TLS handshake established (Pingora's `SslDigest`), kept on the
 * connection so every request on it can read it without touching OpenSSL again.
 */
import { createHash } from 'node:crypto';
import type * as net from 'node:net';
import type * as tls from 'node:tls';

/** The client's certificate, when one was presented (mutual TLS). */
export interface ClientCertificate {
  /** Subject fields (`CN`, `O`, …) as node parses them. */
  readonly subject: Readonly<Record<string, string | string[] | undefined>>;
  /** Issuer fields. */
  readonly issuer: Readonly<Record<string, string | string[] | undefined>>;
  /** Serial number, upper-case hex. */
  readonly serialNumber: string;
  /** SHA-256 fingerprint, `AA:BB:…`. */
  readonly fingerprint256: string;
  readonly validFrom: string;
  readonly validTo: string;
  /** The certificate in DER. */
  readonly raw: Buffer;
}

/**
 * TLS facts of one downstream connection.
 *
 * @example
 * ```ts
 * const ssl = session.digest().sslDigest;
 * if (ssl?.clientCert !== undefined) log(`client ${ssl.clientCert.subject.CN} over ${ssl.version}`);
 * ```
 */
export interface SslDigest {
  /** Negotiated protocol version, e.g. `TLSv1.3` (Pingora's `version`). */
  readonly version: string;
  /** Negotiated cipher (OpenSSL name for TLS 1.2, IANA name for TLS 1.3). */
  readonly cipher: string;
  /** SNI host name sent by the client. */
  readonly servername: string | undefined;
  /** Negotiated ALPN protocol (`h2`, `http/1.1`), if any. */
  readonly alpn: string | undefined;
  /** The session was resumed (ticket), not a full handshake. */
  readonly resumed: boolean;
  /** The client certificate, when the listener asked for one and the client sent it. */
  readonly clientCert: ClientCertificate | undefined;
  /** The client certificate chained to the listener's CA. */
  readonly clientCertVerified: boolean;
  /** Subject organization of the client certificate (Pingora's `organization`). */
  readonly organization: string | undefined;
  /** Serial number of the client certificate (Pingora's `serial_number`). */
  readonly serialNumber: string | undefined;
  /** SHA-256 of the client certificate's DER (Pingora's `cert_digest`); empty without one. */
  readonly certDigest: Buffer;
  /** What `handshakeCompleteCallback` returned (Pingora's `extension`). */
  extension: unknown;
}

const DIGEST = Symbol.for('pingora-ts.sslDigest');
type WithDigest = net.Socket & { [DIGEST]?: SslDigest };
const EMPTY = Buffer.alloc(0);

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Reads the digest of a socket whose handshake just completed. `withClientCert` (the listener
 * asked for client certificates) decides whether the peer certificate is looked at at all, so
 * plain TLS listeners never pay for parsing it.
 */
export function buildSslDigest(socket: tls.TLSSocket, withClientCert: boolean): SslDigest {
  let clientCert: ClientCertificate | undefined;
  if (withClientCert) {
    const c = socket.getPeerCertificate();
    if (c !== null && c.raw !== undefined) {
      clientCert = {
        subject: c.subject,
        issuer: c.issuer,
        serialNumber: c.serialNumber,
        fingerprint256: c.fingerprint256,
        validFrom: c.valid_from,
        validTo: c.valid_to,
        raw: c.raw,
      };
    }
  }
  const alpn = socket.alpnProtocol;
  const servername = (socket as tls.TLSSocket & { servername?: string | false | null }).servername;
  return {
    version: socket.getProtocol() ?? '',
    cipher: socket.getCipher()?.name ?? '',
    servername: typeof servername === 'string' && servername !== '' ? servername : undefined,
    alpn: typeof alpn === 'string' ? alpn : undefined,
    resumed: socket.isSessionReused(),
    clientCert,
    clientCertVerified: clientCert !== undefined && socket.authorized,
    organization: clientCert === undefined ? undefined : first(clientCert.subject.O),
    serialNumber: clientCert?.serialNumber,
    certDigest: clientCert === undefined ? EMPTY : createHash('sha256').update(clientCert.raw).digest(),
    extension: undefined,
  };
}

/** Stores `digest` on `socket` (the acceptor does this before the app sees the connection). */
export function attachSslDigest(socket: net.Socket, digest: SslDigest): void {
  (socket as WithDigest)[DIGEST] = digest;
}

/** The TLS digest of a downstream connection; `undefined` for plaintext connections. */
export function getSslDigest(socket: net.Socket | undefined | null): SslDigest | undefined {
  return socket == null ? undefined : (socket as WithDigest)[DIGEST];
}
