import { ConfigError, KeyRing, commonConfig, env, loadConfig, type ConfigOf, type Field } from "@palimpsest/platform";

/** Local runs seal with this public key; production refuses it (refuseBuiltInAuditKeyEncryption). */
const LOCAL_AUDIT_KEY_ENCRYPTION_KEY = "bG9jYWwtb25seS1hdWRpdC1rZXktZW5jcnlwdGlvbiE=";

const auditKeyEncryptionText = env.list(
  "AUDIT_KEY_ENCRYPTION_KEY",
  [LOCAL_AUDIT_KEY_ENCRYPTION_KEY],
  "base64 AES-256 key(s) of 32 bytes sealing the private keys that sign audit checkpoints, comma-separated: the first seals, any opens (required with NODE_ENV=production; built-in default: local runs only)",
);
/** Checked when the config is read, so a bad key stops the start with the other config problems. */
const auditKeyEncryptionKeys: Field<readonly string[]> = {
  ...auditKeyEncryptionText,
  parse(raw) {
    const list = auditKeyEncryptionText.parse(raw);
    KeyRing.parse(list, "AUDIT_KEY_ENCRYPTION_KEY");
    return list;
  },
};

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
  auditKeyEncryptionKeys,
  auditKeyRotationDays: env.int("AUDIT_KEY_ROTATION_DAYS", 90, "a new key for signing audit checkpoints is made after this many days; the old ones stay published", { min: 1 }),
  auditCheckpointEverySeconds: env.int("AUDIT_CHECKPOINT_EVERY_SECONDS", 300, "how often each document edited since its last signed checkpoint gets a new one (an export always signs the head it ends at)", { min: 1 }),
} as const;

export type HistoryConfig = ConfigOf<typeof historyConfigSpec>;
export const loadHistoryConfig = (source: NodeJS.ProcessEnv = process.env): HistoryConfig => loadConfig(historyConfigSpec, source);

export function refuseBuiltInAuditKeyEncryption(config: Pick<HistoryConfig, "nodeEnv" | "auditKeyEncryptionKeys">): void {
  if (config.nodeEnv === "production" && config.auditKeyEncryptionKeys.includes(LOCAL_AUDIT_KEY_ENCRYPTION_KEY)) {
    throw new ConfigError(["AUDIT_KEY_ENCRYPTION_KEY is unset or holds the built-in local key: set the history service's own (NODE_ENV=production)"]);
  }
}
