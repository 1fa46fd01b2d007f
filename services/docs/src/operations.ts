/**
 * What operator tools (scripts/, the image's commands) may use of the docs service: its settings
 * and its read models. Tools import this entry, never the internals.
 */
import type { ReadModels } from "@palimpsest/platform";
import { docsConfigSpec, loadDocsConfig, type DocsConfig } from "./config.ts";
import { docsProjectionSpecs } from "./projections.ts";
import { docsMigrations, docsProjections, type DocsDb } from "./schema.ts";
import { searchIndexSpec } from "./search-index.ts";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger, ProjectionSpec } from "@palimpsest/platform";

export { docsConfigSpec as configSpec, loadDocsConfig as loadConfig, type DocsConfig as Config, type DocsDb as Db };

export const readModels: ReadModels<DocsDb> = { service: "docs", migrations: docsMigrations, projections: docsProjectionSpecs };

/**
 * The search index, which fetches each document's text from history while it replays, so it
 * needs a connection; tools rebuild it with the other read models.
 */
export function searchIndex(nc: NatsConnection, log: Logger): { spec: ProjectionSpec<DocsDb>; tables: readonly string[]; batchSize: number } {
  return { spec: searchIndexSpec(nc, log), tables: docsProjections["docs-search"], batchSize: 200 };
}
