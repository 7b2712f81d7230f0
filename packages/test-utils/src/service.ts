/**
 * Starts a pingora-ts `Service` whose listeners the test already added, and registers its stop.
 * Typed by shape (`Service` and `ShutdownController` of @pingora-ts/core fit), so this package
 * needs no dependency on core.
 */
import { onClose } from './closers.js';

/** The part of a core `Service` that {@link startService} uses. */
export interface StartableService<W> {
  start(watch: W): Promise<void>;
  stop(graceful: boolean, gracePeriodMs: number): Promise<void>;
  addresses(): ReadonlyArray<{ readonly kind: string; readonly port?: number }>;
}

/** The part of a core `ShutdownController` that {@link startService} uses. */
export interface ShutdownControl<W> {
  readonly watch: W;
  shutdown(graceful: boolean): unknown;
}

/**
 * Starts `service` under `ctl` and resolves with its first bound TCP port (0 if the first
 * listener is not TCP). {@link closeAll} shuts it down at once (not gracefully).
 *
 * @example
 * ```ts
 * const service = new Service('test proxy', new HttpServer(proxy), { logger });
 * service.addTcp('127.0.0.1:0');
 * const port = await startService(service, new ShutdownController());
 * ```
 */
export async function startService<W>(
  service: StartableService<W>,
  ctl: ShutdownControl<W>,
): Promise<number> {
  await service.start(ctl.watch);
  const bound = service.addresses()[0];
  onClose(async () => {
    ctl.shutdown(false);
    await service.stop(false, 0);
  });
  return bound?.kind === 'tcp' ? (bound.port ?? 0) : 0;
}
