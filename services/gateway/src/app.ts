import type { FastifyInstance } from "fastify";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import {
  addMetricsRoute,
  RevocationList,
  addOpsRoutes,
  createHttpApp,
  createTokenVerifier,
  apiTokenResolver,
  jwksFetcher,
  traceHttpServer,
  tracingEnabled,
  type Logger,
  type Redis,
  type Metrics,
} from "@palimpsest/platform";
import { apiRoutes, proxiedRoutes } from "./routes.ts";
import { registerFilesProxy } from "./files-proxy.ts";
import { UploadSlots } from "./upload-slots.ts";
import { openApiDocument } from "./openapi.ts";
import { CollabProxy } from "./collab-proxy.ts";
import { discoveredUpstreams, staticUpstreams, type Upstreams } from "./upstreams.ts";
import { addCorsAndSecurityHeaders, requestGuards } from "./http-policy.ts";
import { registerAuditKeysRoute, registerJwksRoute, registerRestRoutes } from "./rest-routes.ts";
import { registerInboxStream } from "./inbox-stream.ts";
import { webApp } from "./static-files.ts";
import { sessionCookies } from "./session-cookies.ts";
import { gatewayReadiness } from "./readiness.ts";
import { followControlNotices } from "./control-notices.ts";
import { DISCOVER, type GatewayConfig } from "./config.ts";

export interface GatewayDeps {
  config: GatewayConfig;
  nc: NatsConnection;
  redis: Redis;
  log: Logger;
  metrics: Metrics;
}

export interface GatewayApp {
  http: FastifyInstance;
  /** /metrics alone, for METRICS_PORT: the public port does not serve it. */
  metricsHttp: FastifyInstance;
  close(): Promise<void>;
}

/** The gateway from its dependencies and config, not yet listening: policy, REST, files, /collab and the web app. */
export async function buildGatewayApp(deps: GatewayDeps): Promise<GatewayApp> {
  const { config, nc, redis, log, metrics } = deps;
  // Redis down must not let a revoked token through: the local copy of the notices decides then, or nothing passes.
  const revocations = new RevocationList({ nc, redis, log });
  await revocations.start();
  // Signatures only: the guards read the session's revocation marker in their rate-limit round
  // trip to Redis, and decide with the revocation list from that answer.
  const verifier = createTokenVerifier({ fetchJwks: jwksFetcher(nc), resolveApiToken: apiTokenResolver(nc), issuer: config.jwtIssuer, audience: config.jwtAudience });
  const guards = requestGuards({ config, redis, verifier, revocations, log });
  const web = webApp(config.webDist, log);

  const http = createHttpApp(log, metrics, { bodyLimit: config.bodyLimitBytes, trustProxy: config.trustProxy, notFound: web.notFound });
  // A server span per request (continuing a caller's traceparent) when tracing is on; before any route.
  if (tracingEnabled()) traceHttpServer(http);
  let shuttingDown = false;

  addCorsAndSecurityHeaders(http, config);
  registerRestRoutes(http, apiRoutes, {
    nc,
    log,
    guards,
    rpcTimeoutMs: config.rpcTimeoutMs,
    sessionCookies: sessionCookies({ maxAgeSeconds: config.sessionCookieMaxAgeSeconds }),
  });

  const inbox = registerInboxStream(http, { nc, log, registry: metrics.registry, guard: guards.signedIn, verifier, revocations });

  // Sync and files replicas: a fixed list when configured (a Kubernetes Service), else those announcing themselves.
  const upstreamsOf = async (service: "sync" | "files", urls: readonly string[] | typeof DISCOVER): Promise<Upstreams> =>
    urls === DISCOVER ? discoveredUpstreams(nc, service, log, metrics.registry) : staticUpstreams(urls);
  const syncUpstreams = await upstreamsOf("sync", config.syncUrls);
  const filesUpstreams = await upstreamsOf("files", config.filesUrls);
  await registerFilesProxy(http, {
    routes: proxiedRoutes,
    upstreams: filesUpstreams,
    timeoutMs: config.filesProxyTimeoutMs,
    guard: guards.signedIn,
    slots: new UploadSlots(redis, config.filesUploadsPerUser, config.filesProxyTimeoutMs),
    bodyRate: { graceMs: config.filesUploadBodyGraceSeconds * 1000, minBytesPerSecond: config.filesUploadMinBytesPerSecond },
  });

  const openapi = openApiDocument(apiRoutes, proxiedRoutes);
  http.get("/api/openapi.json", async () => openapi);
  registerJwksRoute(http, nc, config.rpcTimeoutMs);
  registerAuditKeysRoute(http, nc, config.rpcTimeoutMs);
  const checks = gatewayReadiness(nc, redis, { syncReplicas: syncUpstreams, filesReplicas: filesUpstreams });
  addOpsRoutes(http, "gateway", checks, metrics, () => shuttingDown, { metrics: false });
  const metricsHttp = createHttpApp(log, metrics);
  addMetricsRoute(metricsHttp, metrics);
  await web.register(http);

  const collab = new CollabProxy({
    sync: syncUpstreams,
    verifier,
    log,
    registry: metrics.registry,
    maxBufferedBytes: config.collabMaxBufferedBytes,
    admit: guards.admitCollab,
  });
  http.server.on("upgrade", (req, socket, head) => collab.handleUpgrade(req, socket, head));
  const subs: Subscription[] = [followControlNotices(nc, collab, log)];

  return {
    http,
    metricsHttp,
    async close() {
      shuttingDown = true;
      for (const s of subs) s.unsubscribe();
      inbox.close();
      revocations.stop();
      await collab.close();
      await http.close();
      await metricsHttp.close();
      syncUpstreams.stop();
      filesUpstreams.stop();
    },
  };
}
