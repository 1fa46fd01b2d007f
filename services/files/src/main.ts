import type { AddressInfo } from "node:net";
import { advertisedUrl, announceReplica, connectNats, createDb, createRedis, createLogger, createMetrics, createS3, ensureBucket, prepareStreams, migrateToLatest, runUntilSignalled, startTracing, refuseBuiltInCredentials } from "@palimpsest/platform";
import { loadFilesConfig } from "./config.ts";
import { filesMigrations, type FilesDb } from "./schema.ts";
import { buildFilesApp } from "./app.ts";

const config = loadFilesConfig();
refuseBuiltInCredentials(config, { postgres: true, s3: true });
const log = createLogger("files", config.logLevel, config.replicaId);
// Off unless OTEL_EXPORTER_OTLP_ENDPOINT is set; flushed on SIGTERM by runUntilSignalled.
startTracing(config, "files", log);

await runUntilSignalled(log, async () => {
  const nc = await connectNats(config, `files:${config.replicaId}`, log);
  await prepareStreams(nc, config.streamReplicas, log);
  const db = createDb<FilesDb>(config.databaseUrl);
  await migrateToLatest(db, "files", filesMigrations);
  const s3 = createS3(config);
  await ensureBucket(s3, config.s3Bucket);
  const presignS3 = config.s3PublicEndpoint ? createS3({ ...config, s3Endpoint: config.s3PublicEndpoint }) : s3;
  const redis = createRedis(config.redisUrl);
  const app = await buildFilesApp({ config, nc, db, s3, presignS3, redis, log, metrics: createMetrics("files") });
  await app.http.listen({ host: config.host, port: config.port });
  const port = (app.http.server.address() as AddressInfo).port;
  log.info({ port }, "files listening");
  const announcer = announceReplica(nc, {
    service: "files",
    replicaId: config.replicaId,
    url: advertisedUrl({ explicit: config.advertiseUrl, scheme: "http", host: config.host, port }),
    log,
  });
  return {
    async close() {
      // Gateways stop sending transfers here first; the ones under way finish in app.close().
      await announcer.leave();
      await app.close();
      await nc.drain();
      await db.destroy();
      redis.disconnect();
      s3.destroy();
      if (presignS3 !== s3) presignS3.destroy();
    },
  };
});
