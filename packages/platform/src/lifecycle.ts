import type { Logger } from "./logger.ts";
import { shutdownTracing } from "./tracing.ts";

export interface Running {
  /** Stops taking new work, finishes what is in flight, closes connections. */
  close(): Promise<void>;
}

/**
 * Runs a service until SIGTERM or SIGINT, then closes it gracefully within `graceMs`;
 * a second signal, or running out of time, exits at once.
 */
export async function runUntilSignalled(log: Logger, start: () => Promise<Running>, graceMs = 15_000): Promise<void> {
  let running: Running;
  try {
    running = await start();
  } catch (err) {
    log.fatal({ err }, "failed to start");
    process.exit(1);
  }
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, "second signal, exiting now");
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, "shutting down");
    const timer = setTimeout(() => {
      log.error({ graceMs }, "graceful shutdown timed out");
      process.exit(1);
    }, graceMs);
    timer.unref();
    running
      .close()
      // Spans of the last requests are still queued for export: send them before exiting.
      .then(() => shutdownTracing().catch((err: unknown) => log.warn({ err }, "could not flush traces")))
      .then(() => {
        log.info("stopped");
        process.exit(0);
      })
      .catch((err: unknown) => {
        log.error({ err }, "error during shutdown");
        process.exit(1);
      });
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.on("unhandledRejection", (err) => {
    log.error({ err }, "unhandled rejection");
  });
}
