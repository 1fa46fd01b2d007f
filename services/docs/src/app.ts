import type { FastifyInstance } from "fastify";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import type { Kysely } from "kysely";
import { Streams, rpc, subjects } from "@palimpsest/contracts";
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
import { createDocuments } from "./documents.ts";
import { applyDocsBatch } from "./docs-projection.ts";
import type { DocsConfig } from "./config.ts";
import type { DocsDb } from "./schema.ts";

export interface DocsDeps {
  config: DocsConfig;
  nc: NatsConnection;
  db: Kysely<DocsDb>;
  log: Logger;
  metrics: Metrics;
}

export interface DocsApp {
  http: FastifyInstance;
  projection: ProjectionRunner;
  close(): Promise<void>;
}

export async function buildDocsApp(deps: DocsDeps): Promise<DocsApp> {
  const { config, nc, db, log, metrics } = deps;
  const js = jetstreamOf(nc);
  await ensureCheckpointTable(db);
  const docs = createDocuments(db, js);
  let shuttingDown = false;
  const subs: Subscription[] = serveRpc(
    nc,
    "docs",
    {
      [rpc.docs.create]: docs.create,
      [rpc.docs.list]: docs.list,
      [rpc.docs.get]: docs.get,
      [rpc.docs.access]: docs.access,
    },
    log,
    metrics,
  );
  const projection = runProjection({
    db,
    databaseUrl: config.databaseUrl,
    js,
    log,
    metrics,
    spec: { name: "docs", stream: Streams.docs, filterSubject: subjects.allDocEvents(), apply: applyDocsBatch },
  });
  const checks = { nats: () => natsReady(nc), postgres: () => dbReady(db) };
  subs.push(serveReadiness(nc, "docs", checks, () => shuttingDown));
  const http = createHttpApp(log, metrics);
  addOpsRoutes(http, "docs", checks, metrics, () => shuttingDown);
  return {
    http,
    projection,
    async close() {
      shuttingDown = true;
      for (const s of subs) s.unsubscribe();
      await projection.stop();
      await http.close();
    },
  };
}
