/**
 * The read and write timeouts of one exchange, shared by the HTTP/1.x server session and both
 * upstream clients. A cleared FastTimer is final, so each wait gets a fresh one (unless the last
 * one was parked, see {@link IoTimers.parkRead}), and {@link IoTimers.refreshRead} covers every
 * read within it. The timers fire with the `IoTimers`
 * as their argument and report to the owner's one callback, so arming allocates no closure.
 */
import type { EventEmitter } from 'node:events';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import { type FastTimer, fastTimeout } from '@pingora-ts/timeout';

/** Durations in ms; `undefined` = no timeout. */
export interface IoTimeouts {
  readonly readTimeout: number | undefined;
  readonly writeTimeout: number | undefined;
}

/** No read or write timeout. */
export const NO_TIMEOUTS: IoTimeouts = Object.freeze({ readTimeout: undefined, writeTimeout: undefined });

/** No data came within the read timeout. */
export const READ_TIMEOUT = 0;
/** A blocked write did not drain within the write timeout. */
export const WRITE_TIMEOUT = 1;
export type TimeoutKind = typeof READ_TIMEOUT | typeof WRITE_TIMEOUT;

/** One exchange's read timer and write timer. */
export class IoTimers {
  private readTimer: FastTimer | undefined = undefined;
  private writeTimer: FastTimer | undefined = undefined;
  // False while no read wait is on; a timer left pending by `parkRead` then fires as a no-op.
  private readArmed = false;

  /**
   * @param onTimeout called when a wait runs out
   * @param timeouts the durations; callers may replace them between exchanges
   */
  constructor(
    private readonly onTimeout: (kind: TimeoutKind) => void,
    public timeouts: IoTimeouts = NO_TIMEOUTS,
  ) {}

  /** Starts a fresh read wait, ending the current one; none when `enabled` is false or no read timeout is set. */
  armRead(enabled: boolean): void {
    const ms = this.timeouts.readTimeout;
    const t = this.readTimer;
    if (ms === undefined || !enabled) {
      this.readArmed = false;
      t?.clear();
      this.readTimer = undefined;
      return;
    }
    this.readArmed = true;
    // A timer parked by the previous exchange is restarted (one store) instead of made anew.
    if (t?.pending && t.ms === ms) {
      t.refresh();
      return;
    }
    t?.clear();
    this.readTimer = fastTimeout(IoTimers.fireRead, ms, this);
  }

  /** Data arrived: the read wait starts over (a no-op once it fired or was cleared). */
  refreshRead(): void {
    if (this.readArmed) this.readTimer?.refresh();
  }

  /** Ends the read wait. */
  clearRead(): void {
    this.readArmed = false;
    this.readTimer?.clear();
  }

  /**
   * Ends the read wait but leaves its timer pending, for an owner that lives on (a pooled
   * upstream connection) and arms the next wait soon: {@link armRead} then restarts it, and if it
   * runs out first it fires as a no-op. The timer keeps this object reachable until then, so an
   * owner about to be dropped calls {@link clear} instead.
   */
  parkRead(): void {
    this.readArmed = false;
  }

  /**
   * A write was refused: starts a write wait unless one is pending; the next 'drain' of `output`
   * ends it. `ms` overrides the write timeout for this wait (a bound derived from a minimum send rate).
   */
  armWrite(output: EventEmitter, ms: number | undefined = this.timeouts.writeTimeout): void {
    if (ms === undefined || this.writeTimer?.pending === true) return;
    this.writeTimer = fastTimeout(IoTimers.fireWrite, ms, this);
    output.once('drain', this.onDrained);
  }

  /** Ends both waits. */
  clear(): void {
    this.readArmed = false;
    this.readTimer?.clear();
    this.writeTimer?.clear();
  }

  private readonly onDrained = (): void => {
    this.writeTimer?.clear();
  };

  private static fireRead(t: IoTimers): void {
    if (!t.readArmed) return;
    t.readArmed = false;
    t.onTimeout(READ_TIMEOUT);
  }

  private static fireWrite(t: IoTimers): void {
    t.onTimeout(WRITE_TIMEOUT);
  }
}

/** The error of an upstream exchange whose read or write wait ran out (HTTP/1.1 and HTTP/2 alike). */
export function upstreamTimeoutError(kind: TimeoutKind, timeouts: IoTimeouts): PingoraError {
  return kind === READ_TIMEOUT
    ? PingoraError.explain(ErrorType.ReadTimedout, `no response data for ${timeouts.readTimeout} ms`).asUp()
    : PingoraError.explain(
        ErrorType.WriteTimedout,
        `request write blocked for ${timeouts.writeTimeout} ms`,
      ).asUp();
}
