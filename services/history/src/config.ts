import { commonConfig, env, loadConfig, type ConfigOf } from "@palimpsest/platform";

export const historyConfigSpec = {
  ...commonConfig,
  port: env.int("PORT", 8085, "history service HTTP port (health, metrics)", { min: 0, max: 65535 }),
} as const;

export type HistoryConfig = ConfigOf<typeof historyConfigSpec>;
export const loadHistoryConfig = (source: NodeJS.ProcessEnv = process.env): HistoryConfig => loadConfig(historyConfigSpec, source);
