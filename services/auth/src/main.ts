import { connectNats, createDb, createRedis, createLogger, createMetrics, prepareStreams, migrateToLatest, runUntilSignalled, startTracing, refuseBuiltInCredentials } from "@palimpsest/platform";
import { loadAuthConfig } from "./config.ts";
import { authMigrations, type AuthDb } from "./schema.ts";
import { buildAuthApp } from "./app.ts";

const config = loadAuthConfig();
refuseBuiltInCredentials(config, { postgres: true });
const log = createLogger("auth", config.logLevel, config.replicaId);
// Off unless OTEL_EXPORTER_OTLP_ENDPOINT is set; flushed on SIGTERM by runUntilSignalled.
startTracing(config, "auth", log);

await runUntilSignalled(log, async () => {
  const nc = await connectNats(config, `auth:${config.replicaId}`, log);
  await prepareStreams(nc, config.streamReplicas, log);
  const db = createDb<AuthDb>(config.databaseUrl);
  await migrateToLatest(db, "auth", authMigrations);
  const redis = createRedis(config.redisUrl);
  const app = await buildAuthApp({ config, nc, db, redis, log, metrics: createMetrics("auth") });
  await app.http.listen({ host: config.host, port: config.port });
  log.info({ port: config.port }, "auth listening");
  return {
    async close() {
      await app.close();
      await nc.drain();
      await db.destroy();
      redis.disconnect();
    },
  };
});
