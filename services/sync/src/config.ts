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
  maxMessageBytes: env.int("SYNC_MAX_MESSAGE_BYTES", 2 * 1024 * 1024, "largest WebSocket message accepted other than a document update (SYNC_MAX_UPDATE_BYTES)", { min: 1024 }),
  /**
   * A client back from being offline sends everything it did in one update (its sync step 2):
   * a long offline session can be far above an ordinary message, and refusing it would refuse it
   * on every reconnect. Updates are taken up to this size and stored as several events; above it
   * the connection is closed with 1009 and the web app tells its user instead of retrying.
   */
  maxUpdateBytes: env.int("SYNC_MAX_UPDATE_BYTES", 16 * 1024 * 1024, "largest document update a client may send (a catch-up after being offline, a very large paste); stored in parts of about 1 MiB", { min: 1024 }),
  /** A client that does not read its socket is cut off past this, so it cannot hold memory for everyone. */
  maxBufferedBytes: env.int("SYNC_MAX_BUFFERED_BYTES", 8 * 1024 * 1024, "outgoing bytes a slow client may have queued", { min: 64 * 1024 }),
  /**
   * A connection's intake budget, in bytes (each message also counts 64 bytes of server work).
   * Replaying a real 260k-keystroke trace one message per keystroke runs near 4 MB/s, inside it.
   */
  bytesPerSecond: env.int("SYNC_BYTES_PER_SECOND", 8 * 1024 * 1024, "bytes per second one /collab connection may send on average; a faster sender is paused", { min: 1024 }),
  burstBytes: env.int("SYNC_BURST_BYTES", 16 * 1024 * 1024, "bytes one /collab connection may send at once above its average", { min: 1024 }),
  /** Bounds what one connection makes the server hold: past it the socket is not read, so TCP slows the sender. */
  maxPendingBytes: env.int("SYNC_MAX_PENDING_BYTES", 8 * 1024 * 1024, "bytes one /collab connection may have received and not yet stored; the socket is paused past it", { min: 64 * 1024 }),
  /** EDITS never forgets, so what one account or one document may put there is bounded. */
  userQuotaBytes: env.int("SYNC_USER_QUOTA_BYTES", 1024 * 1024 * 1024, "bytes of edits one user may store in all documents (counted in the SYNC_QUOTAS KV bucket)", { min: 1024 }),
  docQuotaBytes: env.int("SYNC_DOC_QUOTA_BYTES", 256 * 1024 * 1024, "bytes of edits one document may store", { min: 1024 }),
  maxConnectionsPerUser: env.int("SYNC_MAX_CONNECTIONS_PER_USER", 64, "open /collab connections one user may have, over every sync replica (leases in Redis; per replica while Redis cannot answer)", { min: 1 }),
  maxDocumentsPerUser: env.int("SYNC_MAX_DOCUMENTS_PER_USER", 32, "documents one user may have open at once, over every sync replica", { min: 1 }),
  /**
   * y-websocket renews its awareness every 15 s (and answers the server's resync), so a live client
   * is never quiet this long, even in a background tab whose timers run once a minute.
   */
  idleTimeoutMs: env.int("SYNC_IDLE_TIMEOUT_MS", 5 * 60_000, "ms a /collab connection may send nothing before it is closed (1001; 0: never)", { min: 0 }),
  /**
   * Yjs collects a deleted type and renders nested types recursively: past ~1,500 levels deleting the
   * top overflows the stack of every reader, so an update nesting deeper is refused before it is stored.
   * Real documents (lists in quotes in tables) stay within a few dozen levels.
   */
  maxNestingDepth: env.int("SYNC_MAX_NESTING_DEPTH", 256, "deepest nesting of types (elements in elements, maps in maps) an update may create; deeper updates are refused (4422)", { min: 8, max: 1000 }),
  /**
   * A burst of reconnects (a replica died and its clients come here) would otherwise all be
   * worked on at once: each waits longer than the gateway does (3 s), the gateway gives up, the
   * client comes back, and the replica spends itself on opens nobody waits for. Past this, a new
   * connection is answered 503 at once: the gateway tries another replica or tells the client to
   * come back later (1013).
   */
  maxOpening: env.int("SYNC_MAX_OPENING", 128, "connections this replica authorizes and loads at once; more are answered 503 before the WebSocket handshake", { min: 1 }),
  maxConnectionsPerDoc: env.int("SYNC_MAX_CONNECTIONS_PER_DOC", 500, "open connections one document accepts", { min: 1 }),
  /** An idle document stays in memory this long after its last client left, so a reload is instant. */
  /**
   * Anti-entropy: a connection that sent an edit is asked this often for anything the server
   * lacks (a sync step 1; the client answers with what is missing, usually nothing), and every
   * connection six times as seldom. Heals an update lost in transit on any path, e.g. during a
   * failover, without waiting for a reconnect.
   */
  resyncMs: env.int("SYNC_RESYNC_MS", 10_000, "how often a connection that sent edits is asked for anything the server lacks; quiet connections every sixth time (0: never)", { min: 0 }),
  revocationRecheckMs: env.int("SYNC_REVOCATION_RECHECK_MS", 30_000, "how often open connections' sessions are checked against the revocation list, in case a revocation notice was lost (0: never)", { min: 0 }),
  idleUnloadMs: env.int("SYNC_IDLE_UNLOAD_MS", 30_000, "ms before an unused document is unloaded", { min: 0 }),
} as const;

export type SyncConfig = ConfigOf<typeof syncConfigSpec>;
export const loadSyncConfig = (source: NodeJS.ProcessEnv = process.env): SyncConfig => loadConfig(syncConfigSpec, source);
