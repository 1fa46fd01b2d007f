/**
 * What operator tools (scripts/, the image's commands) may use of the docs service: its settings
 * and its read models. Tools import this entry, never the internals.
 */
import type { ReadModels } from "@palimpsest/platform";
import { docsConfigSpec, loadDocsConfig, type DocsConfig } from "./config.ts";
import { docsProjectionSpecs } from "./projections.ts";
import { docsMigrations, type DocsDb } from "./schema.ts";

export { docsConfigSpec as configSpec, loadDocsConfig as loadConfig, type DocsConfig as Config, type DocsDb as Db };

export const readModels: ReadModels<DocsDb> = { service: "docs", migrations: docsMigrations, projections: docsProjectionSpecs };
