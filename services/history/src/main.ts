import { connectNats, createS3, createDb, createLogger, createMetrics, prepareStreams, migrateToLatest, runUntilSignalled, startTracing, refuseBuiltInCredentials } from "@palimpsest/platform";
import { loadHistoryConfig, refuseBuiltInAuditKeyEncryption } from "./config.ts";
import { historyMigrations, type HistoryDb } from "./schema.ts";
import { buildHistoryApp } from "./app.ts";

const config = loadHistoryConfig();
refuseBuiltInCredentials(config, { postgres: true, s3: true });
refuseBuiltInAuditKeyEncryption(config);
const log = createLogger("history", config.logLevel, config.replicaId);
// Off unless OTEL_EXPORTER_OTLP_ENDPOINT is set; flushed on SIGTERM by runUntilSignalled.
startTracing(config, "history", log);

await runUntilSignalled(log, async () => {
  const nc = await connectNats(config, `history:${config.replicaId}`, log);
  await prepareStreams(nc, config.streamReplicas, log);
  const db = createDb<HistoryDb>(config.databaseUrl);
  await migrateToLatest(db, "history", historyMigrations);
  const s3 = createS3(config);
  const app = await buildHistoryApp({ config, nc, db, s3, log, metrics: createMetrics("history") });
  await app.http.listen({ host: config.host, port: config.port });
  log.info({ port: config.port }, "history listening");
  return {
    async close() {
      await app.close();
      await nc.drain();
      await db.destroy();
      s3.destroy();
    },
  };
});
