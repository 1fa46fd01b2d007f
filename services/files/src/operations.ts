/**
 * What operator tools (scripts/, the image's commands) may use of the files service: its settings
 * and its read models. Tools import this entry, never the internals.
 */
import type { ReadModels } from "@palimpsest/platform";
import { filesConfigSpec, loadFilesConfig, type FilesConfig } from "./config.ts";
import { filesProjectionSpecs } from "./projections.ts";
import { filesMigrations, type FilesDb } from "./schema.ts";

export { filesConfigSpec as configSpec, loadFilesConfig as loadConfig, type FilesConfig as Config, type FilesDb as Db };

export const readModels: ReadModels<FilesDb> = { service: "files", migrations: filesMigrations, projections: filesProjectionSpecs };
