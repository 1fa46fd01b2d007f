import type { FastifyInstance } from "fastify";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import type { ServiceName } from "@palimpsest/contracts";
import { addOpsRoutes, createHttpApp, serveReadiness, type ReadinessChecks } from "./http-server.ts";
import type { Logger } from "./logger.ts";
import type { Metrics } from "./metrics.ts";
import { traceHttpServer, tracingEnabled } from "./tracing.ts";

export interface ServiceShell {
  /** The service's HTTP app, with /healthz, /readyz and /metrics already routed. */
  http: FastifyInstance;
  /** Subscriptions dropped when the service shuts down. */
  track(...subs: Subscription[]): void;
  isShuttingDown(): boolean;
  /** Reports not ready from now on and drops the tracked subscriptions: call first when closing. */
  beginShutdown(): void;
  /** Closes the HTTP app: call last. */
  close(): Promise<void>;
}

/**
 * What every service has around its own logic: the HTTP app with its operations routes, the same
 * readiness answered on NATS for the gateway, and an orderly shutdown.
 */
export function createServiceShell(opts: {
  service: ServiceName;
  nc: NatsConnection;
  log: Logger;
  metrics: Metrics;
  checks: ReadinessChecks;
  http?: Parameters<typeof createHttpApp>[2];
}): ServiceShell {
  let shuttingDown = false;
  const subs: Subscription[] = [];
  const isShuttingDown = () => shuttingDown;
  subs.push(serveReadiness(opts.nc, opts.service, opts.checks, isShuttingDown));
  const http = createHttpApp(opts.log, opts.metrics, opts.http);
  // Requests a service takes over HTTP (files' uploads and downloads, relayed by the gateway) continue the gateway's trace.
  if (tracingEnabled()) traceHttpServer(http);
  addOpsRoutes(http, opts.service, opts.checks, opts.metrics, isShuttingDown);
  return {
    http,
    track: (...more) => void subs.push(...more),
    isShuttingDown,
    beginShutdown() {
      shuttingDown = true;
      for (const s of subs.splice(0)) s.unsubscribe();
    },
    close: () => http.close(),
  };
}
