/**
 * The browser-safe entry of the contracts package (`@palimpsest/contracts/shared`): what the web
 * app and the services must agree on, in modules that need neither Node built-ins nor Buffer.
 * The full entry (`@palimpsest/contracts`) exports all of this too, plus the modules that stay
 * on the server: the edit-chain and audit hashes (node:crypto), edit headers and NATS subjects.
 * test/browser-entry.test.ts bundles this file for the browser and fails on any Node-only import.
 */
export * from "./ids.ts";
export * from "./errors.ts";
export * from "./events.ts";
export * from "./schema.ts";
export * from "./api.ts";
export * from "./webhooks.ts";
export * from "./files.ts";
export * from "./email.ts";
export * from "./permissions.ts";
export * from "./collab.ts";
export * from "./collab-control.ts";
export * from "./presence.ts";
export * from "./doc-content.ts";
export * from "./search.ts";
export * from "./board-diff.ts";
export * from "./doc-transfer.ts";
