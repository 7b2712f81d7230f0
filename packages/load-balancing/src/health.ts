/**
 * The health of one backend: Pingora's `Health` state machine (healthy + enabled + a counter of
 * consecutive contrary observations), and the plain-data {@link HealthUpdate} that carries a
 * verdict between processes.
 */

/**
 * A health verdict as plain data (structured-clone and JSON safe), so one checker can send it to
 * every worker process.
 */
export interface HealthUpdate {
  /** `Backend.hashKey()`. */
  key: string;
  /** `Backend.addr`, for logs. */
  addr: string;
  healthy: boolean;
  enabled: boolean;
}

/**
 * Health of one backend. It starts healthy and enabled. Each check result that differs from the
 * current state increments a counter; when the counter reaches the threshold for that direction
 * the state flips and the counter resets. A result that agrees with the state resets the counter,
 * so only *consecutive* contrary results count.
 *
 * @example
 * ```ts
 * const h = new Health();
 * h.observe(false, 2); // false: one failure, still healthy
 * h.observe(false, 2); // true: flipped to unhealthy
 * h.ready;             // false
 * ```
 */
export class Health {
  /** Last verdict of the checks. */
  healthy = true;
  /** Whether the backend may take traffic regardless of health (`setEnable`). */
  enabled = true;
  /** Consecutive results contrary to `healthy`. */
  consecutiveCounter = 0;

  /** Healthy and enabled. */
  get ready(): boolean {
    return this.healthy && this.enabled;
  }

  /**
   * Records one check result; returns true when it flipped `healthy`.
   * @param threshold consecutive contrary results needed to flip (values below 1 act as 1).
   */
  observe(healthy: boolean, threshold: number): boolean {
    if (healthy === this.healthy) {
      this.consecutiveCounter = 0;
      return false;
    }
    this.consecutiveCounter++;
    if (this.consecutiveCounter < threshold) return false;
    this.healthy = healthy;
    this.consecutiveCounter = 0;
    return true;
  }
}
