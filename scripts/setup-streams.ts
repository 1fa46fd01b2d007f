/**
 * Creates the event streams, or brings their configuration up to date (new subjects, replica
 * count), with the admin NATS user: services may create a missing stream but never change one.
 * Run it before rolling out a release that adds a subject, and after growing the NATS cluster.
 * Usage: NATS_URL=... NATS_USER=admin NATS_PASSWORD=... STREAM_REPLICAS=3 npm run setup-streams
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { commonConfig, connectNats, createLogger, ensureStreams, loadConfig } from "@palimpsest/platform";

const config = loadConfig(commonConfig);
const log = createLogger("setup-streams", config.logLevel, config.replicaId);
const nc = await connectNats(config, "setup-streams", log);
try {
  const jsm = await jetstreamManager(nc);
  await ensureStreams(jsm, config.streamReplicas, { update: true });
  for await (const s of jsm.streams.list()) {
    log.info({ stream: s.config.name, subjects: s.config.subjects, replicas: s.config.num_replicas, messages: s.state.messages }, "stream ready");
  }
} finally {
  await nc.close();
}
