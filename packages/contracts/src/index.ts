/**
 * The full entry of the contracts package, for the services and tools: everything in the
 * browser-safe entry (shared.ts) and the modules that stay on the server.
 */
export * from "./shared.ts";
export * from "./subjects.ts";
export * from "./replicas.ts";
export * from "./edits.ts";
export * from "./edit-codec.ts";
export * from "./edit-chain.ts";
export * from "./edit-heads.ts";
export * from "./audit.ts";
export * from "./audit-checkpoint.ts";
export * from "./revocation.ts";
export * from "./mail.ts";
export * from "./collab-mux.ts";
