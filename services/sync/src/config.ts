import { commonConfig, env, loadConfig, type ConfigOf } from "@palimpsest/platform";

export const syncConfigSpec = {
  ...commonConfig,
  port: env.int("PORT", 8083, "sync service port: /collab WebSockets, health, metrics", { min: 0, max: 65535 }),
  /**
   * Gateways find replicas by what they announce, so there is no list to keep up to date; set it
   * when the gateways must use another address than the one the replica listens on (a proxy, DNS).
   */
  advertiseUrl: env.optionalString("ADVERTISE_URL", "URL the gateways reach this replica at, announced over NATS (default ws://HOST:PORT for sync, http://HOST:PORT for files; HOST=0.0.0.0 announces this machine's address)"),
  /** A single WebSocket message above this closes the connection (1009); a large paste is far below it. */
  maxMessageBytes: env.int("SYNC_MAX_MESSAGE_BYTES", 2 * 1024 * 1024, "largest WebSocket message accepted", { min: 1024 }),
  /** A client that does not read its socket is cut off past this, so it cannot hold memory for everyone. */
  maxBufferedBytes: env.int("SYNC_MAX_BUFFERED_BYTES", 8 * 1024 * 1024, "outgoing bytes a slow client may have queued", { min: 64 * 1024 }),
  messagesPerSecond: env.int("SYNC_MESSAGES_PER_SECOND", 200, "messages per second one /collab connection may send; faster senders are paused", { min: 1 }),
  messageBurst: env.int("SYNC_MESSAGE_BURST", 400, "burst of messages one /collab connection may send at once", { min: 1 }),
  maxConnectionsPerDoc: env.int("SYNC_MAX_CONNECTIONS_PER_DOC", 500, "open connections one document accepts", { min: 1 }),
  /** An idle document stays in memory this long after its last client left, so a reload is instant. */
  /**
   * Anti-entropy: every connection is asked this often for anything the server lacks (a sync
   * step 1; the client answers with what is missing, usually nothing). Heals an update lost in
   * transit on any path, e.g. during a failover, without waiting for a reconnect.
   */
  resyncMs: env.int("SYNC_RESYNC_MS", 10_000, "how often each connection is asked for anything the server lacks (0: never)", { min: 0 }),
  revocationRecheckMs: env.int("SYNC_REVOCATION_RECHECK_MS", 30_000, "how often open connections' sessions are checked against the revocation list, in case a revocation notice was lost (0: never)", { min: 0 }),
  idleUnloadMs: env.int("SYNC_IDLE_UNLOAD_MS", 30_000, "ms before an unused document is unloaded", { min: 0 }),
} as const;

export type SyncConfig = ConfigOf<typeof syncConfigSpec>;
export const loadSyncConfig = (source: NodeJS.ProcessEnv = process.env): SyncConfig => loadConfig(syncConfigSpec, source);
