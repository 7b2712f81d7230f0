/**
 * The TLS stage of a listening service: after the connection filter, each connection on a TLS
 * listener runs its handshake (from `@pingora-ts/tls-openssl`) under the listener's handshake
 * timeout (Pingora's default: 60 s) before the app sees it. A failed or timed-out handshake is
 * logged (warn) and closes that connection only; a client that closes before sending anything is
 * logged at debug level.
 */
import type * as net from 'node:net';
import type * as tls from 'node:tls';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import { type FastTimer, fastTimeout } from '@pingora-ts/timeout';
import { TlsHandshake, type TlsSettings } from '@pingora-ts/tls-openssl';
import { type Logger, levelEnabled } from '../logger.js';

function onTimeout(hs: TlsHandshake): void {
  const r = hs.raw;
  const who = r.remoteAddress === undefined ? 'client' : `${r.remoteAddress}:${r.remotePort}`;
  hs.abort(
    PingoraError.explain(
      ErrorType.TLSHandshakeTimedout,
      `TLS handshake with ${who} not complete after ${hs.settings.handshakeTimeout} ms`,
    ).asDown(),
  );
}

/**
 * Runs the server side of a TLS handshake on `raw`; calls `onSecured` with the TLS socket once it
 * is complete (digest attached, `handshakeCompleteCallback` done). Failures are logged as warnings
 * ("Downstream handshake error", as Pingora) and the connection is closed.
 */
export function startTlsHandshake(
  raw: net.Socket,
  settings: TlsSettings,
  logger: Logger,
  onSecured: (socket: tls.TLSSocket) => void,
): void {
  let timer: FastTimer | undefined;
  const hs = new TlsHandshake(raw, settings, (err, socket) => {
    timer?.clear();
    if (err !== undefined) {
      // A client that closes without sending a byte is a TCP probe (load balancer health checks,
      // port scans), not a failed handshake: debug only. The error says everything (client
      // address, reason); its stack would only be noise.
      const probe = raw.bytesRead === 0 && err.type !== ErrorType.TLSHandshakeTimedout;
      if (!probe) logger.warn({ code: err.code }, `Downstream handshake error ${err}`);
      else if (levelEnabled(logger, 'debug'))
        logger.debug({ code: err.code }, `Downstream closed before TLS: ${err}`);
      return;
    }
    onSecured(socket!);
  });
  if (settings.handshakeTimeout > 0 && Number.isFinite(settings.handshakeTimeout)) {
    timer = fastTimeout(onTimeout, settings.handshakeTimeout, hs);
  }
  hs.start();
}
