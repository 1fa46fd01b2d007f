import { jetstreamManager } from "@nats-io/jetstream";
import { connectNats, createLogger, createMetrics, ensureStreams, runUntilSignalled } from "@palimpsest/platform";
import { loadSyncConfig } from "./config.ts";
import { buildSyncApp } from "./app.ts";

const config = loadSyncConfig();
const log = createLogger("sync", config.logLevel, config.replicaId);

await runUntilSignalled(log, async () => {
  const nc = await connectNats(config.natsUrl, `sync:${config.replicaId}`, log);
  await ensureStreams(await jetstreamManager(nc), config.streamReplicas);
  const app = await buildSyncApp({ config, nc, log, metrics: createMetrics("sync") });
  await app.http.listen({ host: config.host, port: config.port });
  log.info({ port: config.port }, "sync listening");
  return {
    async close() {
      await app.close();
      await nc.drain();
    },
  };
});
