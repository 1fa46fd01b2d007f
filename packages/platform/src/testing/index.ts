export { startSystem, type RunningSystem, type ServiceHandle, type SystemOptions } from "./system.ts";
export { TestApi, type ApiResponse } from "./api-client.ts";
export {
  ManagedProcess,
  freePort,
  natsOptionsFromEnv,
  natsUserEnv,
  portAnswers,
  repoRoot,
  startServiceProcess,
  startStores,
  waitUntil,
  type NatsCluster,
  type NatsNode,
  type StoreSet,
} from "../stores/index.ts";
