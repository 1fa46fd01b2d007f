import { authConfigSpec } from "../services/auth/src/config.ts";
import { docsConfigSpec } from "../services/docs/src/config.ts";
import { filesConfigSpec } from "../services/files/src/config.ts";
import { gatewayConfigSpec } from "../services/gateway/src/config.ts";
import { historyConfigSpec } from "../services/history/src/config.ts";
import { syncConfigSpec } from "../services/sync/src/config.ts";

export const configSpecs = {
  gateway: gatewayConfigSpec,
  auth: authConfigSpec,
  docs: docsConfigSpec,
  sync: syncConfigSpec,
  files: filesConfigSpec,
  history: historyConfigSpec,
} as const;
