import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<"method" | "route" | "status">;
  rpcDuration: Histogram<"subject" | "outcome">;
  /** Requests whose caller had stopped waiting before the handler finished. */
  rpcAbandoned: Counter<"subject">;
  projectionLagSeconds: Gauge<"projection">;
  projectedEvents: Counter<"projection">;
}

/** One registry per process, with Node's default metrics and the ones every service shares. */
export function createMetrics(service: string): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpDuration: new Histogram({
      name: "http_request_duration_seconds",
      help: "HTTP request duration",
      labelNames: ["method", "route", "status"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    rpcDuration: new Histogram({
      name: "rpc_handler_duration_seconds",
      help: "NATS request/reply handler duration",
      labelNames: ["subject", "outcome"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
    rpcAbandoned: new Counter({
      name: "rpc_abandoned_total",
      help: "requests whose caller's deadline passed before the handler finished",
      labelNames: ["subject"],
      registers: [registry],
    }),
    projectionLagSeconds: new Gauge({
      name: "projection_lag_seconds",
      help: "age of the newest event applied by a projection when it was applied",
      labelNames: ["projection"],
      registers: [registry],
    }),
    projectedEvents: new Counter({
      name: "projection_events_total",
      help: "events applied by a projection",
      labelNames: ["projection"],
      registers: [registry],
    }),
  };
}
