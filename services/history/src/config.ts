import { commonConfig, env, loadConfig, type ConfigOf } from "@palimpsest/platform";

export const historyConfigSpec = {
  ...commonConfig,
  port: env.int("PORT", 8085, "history service HTTP port (health, metrics)", { min: 0, max: 65535 }),
  editLogFlushMs: env.int("EDIT_LOG_FLUSH_MS", 200, "how long the edit log (history's read model of EDITS) gathers edits before writing them in one transaction; history lists versions this much later", { min: 1, max: 60_000 }),
  snapshotEveryEdits: env.int("SNAPSHOT_EVERY_EDITS", 1_000, "a document gets a new snapshot after this many edits", { min: 1 }),
  snapshotChunkEdits: env.int("SNAPSHOT_CHUNK_EDITS", 100, "between snapshots, this many updates are stored merged as one chunk", { min: 1 }),
  snapshotEverySeconds: env.int("SNAPSHOT_EVERY_SECONDS", 60, "... or after this many seconds with new edits", { min: 1 }),
  snapshotInlineMaxBytes: env.int("SNAPSHOT_INLINE_MAX_BYTES", 256 * 1024, "larger snapshots go to the object store", { min: 0 }),
  snapshotSweepMs: env.int("SNAPSHOT_SWEEP_MS", 2_000, "how often documents are checked for a due snapshot", { min: 100 }),
  diffMaxVersions: env.int("DIFF_MAX_VERSIONS", 2_000, "a diff walks at most this many versions (each one's effect is attributed to its author); a larger range is refused with DIFF_TOO_LARGE", { min: 1 }),
  diffMaxRenderedChars: env.int("DIFF_MAX_RENDERED_CHARS", 50_000_000, "a diff renders at most this many characters in all (versions walked times the document's length); beyond, DIFF_TOO_LARGE", { min: 1 }),
  auditExportsPerUser: env.int("AUDIT_EXPORTS_PER_USER", 2, "audit export pages one user may have in progress at once on a replica; more get 429", { min: 1 }),
  auditExportsTotal: env.int("AUDIT_EXPORTS_TOTAL", 8, "audit export pages in progress at once on a replica, for everyone; more get 429", { min: 1 }),
} as const;

export type HistoryConfig = ConfigOf<typeof historyConfigSpec>;
export const loadHistoryConfig = (source: NodeJS.ProcessEnv = process.env): HistoryConfig => loadConfig(historyConfigSpec, source);
