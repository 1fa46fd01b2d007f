export { startSystem, type RunningSystem, type ServiceHandle, type SystemOptions } from "./system.ts";
export { TestApi, type ApiResponse } from "./api-client.ts";
export {
  ManagedProcess,
  freePort,
  portAnswers,
  repoRoot,
  startServiceProcess,
  startStores,
  waitUntil,
  type StoreSet,
} from "../stores/index.ts";
