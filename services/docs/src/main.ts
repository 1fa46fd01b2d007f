import { connectNats, createDb, createLogger, createMetrics, prepareStreams, migrateToLatest, runUntilSignalled, startTracing, refuseBuiltInCredentials } from "@palimpsest/platform";
import { loadDocsConfig, refuseBuiltInWebhookKey } from "./config.ts";
import { docsMigrations, type DocsDb } from "./schema.ts";
import { buildDocsApp } from "./app.ts";

const config = loadDocsConfig();
refuseBuiltInCredentials(config, { postgres: true });
refuseBuiltInWebhookKey(config);
const log = createLogger("docs", config.logLevel, config.replicaId);
// Off unless OTEL_EXPORTER_OTLP_ENDPOINT is set; flushed on SIGTERM by runUntilSignalled.
startTracing(config, "docs", log);

await runUntilSignalled(log, async () => {
  const nc = await connectNats(config, `docs:${config.replicaId}`, log);
  await prepareStreams(nc, config.streamReplicas, log);
  const db = createDb<DocsDb>(config.databaseUrl);
  await migrateToLatest(db, "docs", docsMigrations);
  const app = await buildDocsApp({ config, nc, db, log, metrics: createMetrics("docs") });
  await app.http.listen({ host: config.host, port: config.port });
  log.info({ port: config.port }, "docs listening");
  return {
    async close() {
      await app.close();
      await nc.drain();
      await db.destroy();
    },
  };
});
