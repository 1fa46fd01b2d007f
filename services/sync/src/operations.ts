/** What operator tools (scripts/) may use of the sync service: its settings. Tools import this entry, never the internals. */
export { syncConfigSpec as configSpec, loadSyncConfig as loadConfig, type SyncConfig as Config } from "./config.ts";
