import type { AddressInfo } from "node:net";
import { advertisedUrl, announceReplica, connectNats, createLogger, createRedis, createMetrics, prepareStreams, runUntilSignalled, startTracing } from "@palimpsest/platform";
import { loadSyncConfig } from "./config.ts";
import { buildSyncApp } from "./app.ts";

const config = loadSyncConfig();
const log = createLogger("sync", config.logLevel, config.replicaId);
// Off unless OTEL_EXPORTER_OTLP_ENDPOINT is set; flushed on SIGTERM by runUntilSignalled.
startTracing(config, "sync", log);

await runUntilSignalled(log, async () => {
  // Presence and heartbeats it publishes come back to its own subscriptions only to be dropped.
  const nc = await connectNats(config, `sync:${config.replicaId}`, log, { noEcho: true });
  await prepareStreams(nc, config.streamReplicas, log);
  const redis = createRedis(config.redisUrl);
  const app = await buildSyncApp({ config, nc, redis, log, metrics: createMetrics("sync") });
  await app.http.listen({ host: config.host, port: config.port });
  const port = (app.http.server.address() as AddressInfo).port;
  log.info({ port }, "sync listening");
  // Announced only once it listens: a gateway may connect the moment it hears of us.
  const announcer = announceReplica(nc, {
    service: "sync",
    replicaId: config.replicaId,
    url: advertisedUrl({ explicit: config.advertiseUrl, scheme: "ws", host: config.host, port }),
    log,
  });
  return {
    async close() {
      // Gateways stop sending new clients here before the clients we have are told to move.
      await announcer.leave();
      await app.close();
      await nc.drain();
      redis.disconnect();
    },
  };
});
