import type { FastifyInstance } from "fastify";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import type { Kysely } from "kysely";
import { rpc } from "@palimpsest/contracts";
import {
  addOpsRoutes,
  createHttpApp,
  dbReady,
  ensureCheckpointTable,
  jetstreamOf,
  natsReady,
  runProjection,
  serveReadiness,
  serveRpc,
  type Logger,
  type Metrics,
  type ProjectionRunner,
} from "@palimpsest/platform";
import { historyProjectionSpecs } from "./projections.ts";
import { createHistoryQueries } from "./history-queries.ts";
import type { HistoryConfig } from "./config.ts";
import type { HistoryDb } from "./schema.ts";

export interface HistoryDeps {
  config: HistoryConfig;
  nc: NatsConnection;
  db: Kysely<HistoryDb>;
  log: Logger;
  metrics: Metrics;
}

export interface HistoryApp {
  http: FastifyInstance;
  projections: ProjectionRunner[];
  close(): Promise<void>;
}

export async function buildHistoryApp(deps: HistoryDeps): Promise<HistoryApp> {
  const { config, nc, db, log, metrics } = deps;
  await ensureCheckpointTable(db);
  const queries = createHistoryQueries(db, nc);
  let shuttingDown = false;
  const subs: Subscription[] = serveRpc(nc, "history", { [rpc.history.list]: queries.list, [rpc.history.activity]: queries.activity }, log, metrics);
  const common = { db, databaseUrl: config.databaseUrl, js: jetstreamOf(nc), log, metrics };
  const projections = historyProjectionSpecs.map(({ spec, batchSize }) => runProjection({ ...common, spec, ...(batchSize ? { batchSize } : {}) }));
  const checks = { nats: () => natsReady(nc), postgres: () => dbReady(db) };
  subs.push(serveReadiness(nc, "history", checks, () => shuttingDown));
  const http = createHttpApp(log, metrics);
  addOpsRoutes(http, "history", checks, metrics, () => shuttingDown);
  return {
    http,
    projections,
    async close() {
      shuttingDown = true;
      for (const s of subs) s.unsubscribe();
      await Promise.all(projections.map((p) => p.stop()));
      await http.close();
    },
  };
}
