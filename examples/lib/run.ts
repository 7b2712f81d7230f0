/**
 * Runs an example's services either as a program (a `Server` with signals, until SIGTERM/SIGINT)
 * or inside a test (started on port 0, stopped by the returned `close`).
 */
import { Server, type ServerService, type Service } from '@pingora-ts/core';

/** What an example's `main()` gives back to a test. */
export interface Running {
  /** The first bound port of each listening service, in order. */
  ports: number[];
  close(): Promise<void>;
}

/** Starts `services` on a non-exiting server and reports their ports. */
export async function startServices(
  services: ServerService[],
  extra: Array<() => Promise<void>> = [],
): Promise<Running> {
  const server = new Server(null);
  server.addServices(services);
  await server.start();
  const ports = services
    .filter((s): s is Service => typeof (s as Service).addresses === 'function')
    .map((s) => {
      const a = s.addresses()[0];
      return a?.kind === 'tcp' ? a.port : 0;
    });
  return {
    ports,
    close: async () => {
      await server.shutdown({ graceful: false });
      for (const f of extra) await f();
    },
  };
}
