/**
 * What operator tools (scripts/, the image's commands) may use of the history service: its settings
 * and its read models. Tools import this entry, never the internals.
 */
import type { ReadModels } from "@palimpsest/platform";
import { historyConfigSpec, loadHistoryConfig, type HistoryConfig } from "./config.ts";
import { historyProjectionSpecs } from "./projections.ts";
import { historyMigrations, type HistoryDb } from "./schema.ts";

export { historyConfigSpec as configSpec, loadHistoryConfig as loadConfig, type HistoryConfig as Config, type HistoryDb as Db };

export const readModels: ReadModels<HistoryDb> = { service: "history", migrations: historyMigrations, projections: historyProjectionSpecs };

/** A document's text as the history view shows it: what an audit compares a replay against. */
export { renderDocument } from "./render-document.ts";
