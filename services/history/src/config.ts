import { commonConfig, env, loadConfig, type ConfigOf } from "@palimpsest/platform";

export const historyConfigSpec = {
  ...commonConfig,
  port: env.int("PORT", 8085, "history service HTTP port (health, metrics)", { min: 0, max: 65535 }),
  snapshotEveryEdits: env.int("SNAPSHOT_EVERY_EDITS", 1_000, "a document gets a new snapshot after this many edits", { min: 1 }),
  snapshotChunkEdits: env.int("SNAPSHOT_CHUNK_EDITS", 100, "between snapshots, this many updates are stored merged as one chunk", { min: 1 }),
  snapshotEverySeconds: env.int("SNAPSHOT_EVERY_SECONDS", 60, "... or after this many seconds with new edits", { min: 1 }),
  snapshotInlineMaxBytes: env.int("SNAPSHOT_INLINE_MAX_BYTES", 256 * 1024, "larger snapshots go to the object store", { min: 0 }),
  snapshotSweepMs: env.int("SNAPSHOT_SWEEP_MS", 2_000, "how often documents are checked for a due snapshot", { min: 100 }),
} as const;

export type HistoryConfig = ConfigOf<typeof historyConfigSpec>;
export const loadHistoryConfig = (source: NodeJS.ProcessEnv = process.env): HistoryConfig => loadConfig(historyConfigSpec, source);
