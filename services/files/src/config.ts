import { commonConfig, env, loadConfig, type ConfigOf } from "@palimpsest/platform";

export const filesConfigSpec = {
  ...commonConfig,
  port: env.int("PORT", 8084, "files service HTTP port (health, metrics)", { min: 0, max: 65535 }),
} as const;

export type FilesConfig = ConfigOf<typeof filesConfigSpec>;
export const loadFilesConfig = (source: NodeJS.ProcessEnv = process.env): FilesConfig => loadConfig(filesConfigSpec, source);
