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
  trustProxy: env.bool("TRUST_PROXY", false, "take the client address from X-Forwarded-For (behind an ingress)"),
  rateLimitWindowSeconds: env.int("RATE_LIMIT_WINDOW_SECONDS", 60, "length of a rate-limit window", { min: 1 }),
  rateLimitAuthPerWindow: env.int("RATE_LIMIT_AUTH_PER_WINDOW", 20, "sign-in, sign-up and refresh calls per client address per window", { min: 1 }),
  rateLimitUserPerWindow: env.int("RATE_LIMIT_USER_PER_WINDOW", 600, "API calls per signed-in user per window", { min: 1 }),
  rateLimitCollabConnectsPerWindow: env.int("RATE_LIMIT_COLLAB_CONNECTS_PER_WINDOW", 120, "/collab connections a user may open per window", { min: 1 }),
  collabMessagesPerSecond: env.int("COLLAB_MESSAGES_PER_SECOND", 200, "messages per second one /collab connection may send", { min: 1 }),
  collabMessageBurst: env.int("COLLAB_MESSAGE_BURST", 400, "burst of messages one /collab connection may send at once", { min: 1 }),
} as const;

export type GatewayConfig = ConfigOf<typeof gatewayConfigSpec>;
export const loadGatewayConfig = (source: NodeJS.ProcessEnv = process.env): GatewayConfig => loadConfig(gatewayConfigSpec, source);
