import { commonConfig, env, loadConfig, type ConfigOf } from "@palimpsest/platform";

export const gatewayConfigSpec = {
  ...commonConfig,
  port: env.int("PORT", 8080, "public port: web app, /api, /collab", { min: 0, max: 65535 }),
  syncUrls: env.list("SYNC_URLS", ["ws://127.0.0.1:8083"], "sync replicas the gateway relays /collab to (comma-separated)"),
  webDist: env.string("WEB_DIST", "web/dist", "folder of the built web app served at /"),
  corsOrigins: env.list("CORS_ORIGINS", [], "origins allowed to call the API from a browser (comma-separated)"),
  bodyLimitBytes: env.int("BODY_LIMIT_BYTES", 1024 * 1024, "largest JSON request body", { min: 1024 }),
  rpcTimeoutMs: env.int("RPC_TIMEOUT_MS", 5_000, "how long a service may take to answer", { min: 100 }),
  /** Bytes of client messages held while the connection to a sync replica opens. */
  collabPendingBytes: env.int("COLLAB_PENDING_BYTES", 4 * 1024 * 1024, "client bytes buffered before the sync relay opens", { min: 64 * 1024 }),
  collabMaxMessageBytes: env.int("COLLAB_MAX_MESSAGE_BYTES", 2 * 1024 * 1024, "largest /collab message", { min: 1024 }),
  collabMaxBufferedBytes: env.int("COLLAB_MAX_BUFFERED_BYTES", 8 * 1024 * 1024, "outgoing bytes a slow /collab client may have queued", { min: 64 * 1024 }),
} as const;

export type GatewayConfig = ConfigOf<typeof gatewayConfigSpec>;
export const loadGatewayConfig = (source: NodeJS.ProcessEnv = process.env): GatewayConfig => loadConfig(gatewayConfigSpec, source);
