/**
 * The access log of the gateway: one record per request, written to the server logger at `info`
 * in the file's format, with the name of the route that handled the request.
 */
import { levelEnabled, type Logger } from '@pingora-ts/core';
import type { PingoraError } from '@pingora-ts/error';
import { type AccessLogRecord, accessLogRecord, formatAccessLog, type Session } from '@pingora-ts/proxy';
import type { GatewayCtx } from '../runtime/contracts.js';
import type { ObservabilitySection } from '../schema/index.js';

/** The `logging` phase of the gateway proxy. */
export type LoggingHook = (session: Session, error: PingoraError | undefined, ctx: GatewayCtx) => void;

/** Access log formats of the file. */
export type AccessLogFormat = 'readable' | 'json';

/** The format `access_log` asks for, or undefined when it is off. */
export function accessLogFormat(setting: ObservabilitySection['access_log']): AccessLogFormat | undefined {
  if (setting === false) return undefined;
  if (setting === true) return 'readable';
  return setting.format;
}

/**
 * The logging hook for `format`:
 * - `readable`: the proxy's access line (`GET /a 200 bytes=2 time=1.2ms upstream=… cache=hit …`)
 *   followed by `route=<name>`;
 * - `json`: the fields of `accessLogRecord` plus `route`, merged into the log record with the
 *   message `access`, so a JSON logger writes one object per request on one line.
 *
 * Nothing is built while the logger's level is above `info`.
 *
 * @example
 * ```ts
 * const logging = accessLogHook(server.logger, 'json');
 * // {"level":30,…,"method":"GET","path":"/a","status":200,…,"route":"api","msg":"access"}
 * ```
 */
export function accessLogHook(logger: Logger, format: AccessLogFormat): LoggingHook {
  if (format === 'json') {
    return (session, error, ctx) => {
      if (!levelEnabled(logger, 'info')) return;
      // The record is this request's own: add the route to it rather than copy it.
      const record: AccessLogRecord & { route?: string } = accessLogRecord(session, error);
      record.route = ctx?.route?.name;
      logger.info(record, 'access');
    };
  }
  return (session, error, ctx) => {
    if (!levelEnabled(logger, 'info')) return;
    const line = formatAccessLog(accessLogRecord(session, error));
    const route = ctx?.route?.name;
    logger.info(route === undefined ? line : `${line} route=${route}`);
  };
}
