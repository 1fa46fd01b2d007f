/**
 * What operator tools (scripts/, the image's commands) may use of the history service: its settings,
 * its read models, and rotating the keys that sign audit checkpoints. Tools import this entry, never the internals.
 */
import { KeyRing, type ReadModels } from "@palimpsest/platform";
import type { Kysely } from "kysely";
import { AuditSigningKeys } from "./audit-keys.ts";
import { historyConfigSpec, loadHistoryConfig, type HistoryConfig } from "./config.ts";
import { historyProjectionSpecs } from "./projections.ts";
import { historyMigrations, type HistoryDb } from "./schema.ts";

export { historyConfigSpec as configSpec, loadHistoryConfig as loadConfig, type HistoryConfig as Config, type HistoryDb as Db };

export const readModels: ReadModels<HistoryDb> = { service: "history", migrations: historyMigrations, projections: historyProjectionSpecs };

/** A document's text as the history view shows it: what an audit compares a replay against. */
export { renderDocument } from "./render-document.ts";

/** Makes a new key for signing audit checkpoints now and returns its `kid`; the old ones stay published. */
export function rotateAuditKey(db: Kysely<HistoryDb>, config: HistoryConfig): Promise<string> {
  return new AuditSigningKeys(db, KeyRing.parse(config.auditKeyEncryptionKeys, "AUDIT_KEY_ENCRYPTION_KEY"), config.auditKeyRotationDays * 86_400_000).rotate();
}
