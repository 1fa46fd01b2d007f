import { connectNats, createLogger, createMetrics, createS3, ensureBucket, runUntilSignalled } from "@palimpsest/platform";
import { loadFilesConfig } from "./config.ts";
import { buildFilesApp } from "./app.ts";

const config = loadFilesConfig();
const log = createLogger("files", config.logLevel, config.replicaId);

await runUntilSignalled(log, async () => {
  const nc = await connectNats(config.natsUrl, `files:${config.replicaId}`, log);
  const s3 = createS3(config);
  await ensureBucket(s3, config.s3Bucket);
  const app = await buildFilesApp({ config, nc, s3, log, metrics: createMetrics("files") });
  await app.http.listen({ host: config.host, port: config.port });
  log.info({ port: config.port }, "files listening");
  return {
    async close() {
      await app.close();
      await nc.drain();
      s3.destroy();
    },
  };
});
