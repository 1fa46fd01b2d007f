import { pino, type Logger } from "pino";

export type { Logger };

/**
 * One structured logger per process. Children add `reqId`, `docId`, `connId`, `seq` and
 * `eventType`; errors go under `err` so pino serialises their stack.
 */
export function createLogger(service: string, level: string, replica: string): Logger {
  return pino({
    level,
    base: { svc: service, replica },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}
