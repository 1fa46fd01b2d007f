import type { AddressInfo } from "node:net";
import { connectNats, createLogger, createMetrics, createRedis, runUntilSignalled, startTracing } from "@palimpsest/platform";
import { loadGatewayConfig } from "./config.ts";
import { buildGatewayApp } from "./app.ts";

const config = loadGatewayConfig();
const log = createLogger("gateway", config.logLevel, config.replicaId);
// Off unless OTEL_EXPORTER_OTLP_ENDPOINT is set; flushed on SIGTERM by runUntilSignalled.
startTracing(config, "gateway", log);

await runUntilSignalled(log, async () => {
  const nc = await connectNats(config, `gateway:${config.replicaId}`, log);
  const redis = createRedis(config.redisUrl);
  const app = await buildGatewayApp({ config, nc, redis, log, metrics: createMetrics("gateway") });
  await app.http.listen({ host: config.host, port: config.port });
  await app.metricsHttp.listen({ host: config.host, port: config.metricsPort });
  log.info({ port: config.port, metricsPort: (app.metricsHttp.server.address() as AddressInfo).port }, "gateway listening");
  return {
    async close() {
      await app.close();
      await nc.drain();
      redis.disconnect();
    },
  };
});
