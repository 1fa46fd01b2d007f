import { commonConfig, env, loadConfig, type ConfigOf } from "@palimpsest/platform";

export const docsConfigSpec = {
  ...commonConfig,
  port: env.int("PORT", 8082, "docs service HTTP port (health, metrics)", { min: 0, max: 65535 }),
} as const;

export type DocsConfig = ConfigOf<typeof docsConfigSpec>;
export const loadDocsConfig = (source: NodeJS.ProcessEnv = process.env): DocsConfig => loadConfig(docsConfigSpec, source);
