export { startSystem, type RunningSystem, type ServiceHandle, type SystemOptions } from "./system.ts";
export { TestApi, type ApiResponse } from "./api-client.ts";
export { scratchSchema, type ScratchSchema } from "./scratch-schema.ts";
export { OtlpSpanKind, spansOfExport, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "./otlp-receiver.ts";
import { natsServerBinaries as binariesUnder, repoRoot as root } from "../stores/index.ts";

/** The nats-server binaries to test on (see stores/binaries.ts). */
export const natsServerBinaries = () => binariesUnder(root);
export {
  ManagedProcess,
  freePort,
  mailTo,
  startMailServer,
  natsOptionsFromEnv,
  natsUserEnv,
  serviceDatabaseEnv,
  portAnswers,
  repoRoot,
  startServiceProcess,
  startNatsServer,
  startStores,
  waitUntil,
  type MailServer,
  type NatsCluster,
  type ReceivedMail,
  type NatsNode,
  type StoreSet,
} from "../stores/index.ts";
