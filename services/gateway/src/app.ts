import fs from "node:fs";
import path from "node:path";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fastifyStatic from "@fastify/static";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { AUDIT_CONTENT_TYPE, AppError, decodeCollabControl, httpStatusOf, revokedSessionKey, rpc, subjects, type Caller, type ReadyResult } from "@palimpsest/contracts";
import {
  addOpsRoutes,
  backendServices,
  callRpc,
  callRpcRaw,
  createHttpApp,
  createTokenVerifier,
  jwksFetcher,
  natsReady,
  redisReady,
  traceHttpServer,
  tracingEnabled,
  type Logger,
  type Redis,
  type Metrics,
  type ReadinessChecks,
  type TokenVerifier,
} from "@palimpsest/platform";
import { apiRoutes, proxiedRoutes } from "./routes.ts";
import { registerFilesProxy } from "./files-proxy.ts";
import { openApiDocument } from "./openapi.ts";
import { CollabProxy } from "./collab-proxy.ts";
import { discoveredUpstreams, staticUpstreams, type Upstreams } from "./upstreams.ts";
import { ndjsonBody } from "./ndjson-pages.ts";
import { RateLimiter, rateLimitHeaders, type LimitDecision, type LimitPolicy } from "./rate-limiter.ts";
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
  verifier: TokenVerifier;
  close(): Promise<void>;
}

declare module "fastify" {
  interface FastifyRequest {
    caller?: Caller;
    accessToken?: string;
  }
}

const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "strict-origin-when-cross-origin",
  "cross-origin-opener-policy": "same-origin",
} as const;

export async function buildGatewayApp(deps: GatewayDeps): Promise<GatewayApp> {
  const { config, nc, redis, log, metrics } = deps;
  const limiter = new RateLimiter(redis);
  const policies = {
    auth: { name: "auth", limit: config.rateLimitAuthPerWindow, windowSeconds: config.rateLimitWindowSeconds },
    user: { name: "user", limit: config.rateLimitUserPerWindow, windowSeconds: config.rateLimitWindowSeconds },
    collab: { name: "collab-connect", limit: config.rateLimitCollabConnectsPerWindow, windowSeconds: config.rateLimitWindowSeconds },
  } as const satisfies Record<string, LimitPolicy>;

  /** Counts a request; Redis being down must not take the API down, so the limiter then lets it through. */
  async function limit(policy: LimitPolicy, subject: string, sessionId?: string): Promise<LimitDecision | undefined> {
    try {
      return await limiter.check(policy, subject, sessionId ? revokedSessionKey(sessionId) : undefined);
    } catch (err) {
      log.warn({ err, policy: policy.name }, "rate limiter unavailable; letting the request through");
      return undefined;
    }
  }

  function enforce(reply: FastifyReply, policy: LimitPolicy, decision: LimitDecision | undefined): void {
    if (!decision) return;
    reply.headers(rateLimitHeaders(policy, decision));
    if (decision.revoked) throw new AppError("SESSION_REVOKED", "this session has ended; sign in again");
    if (!decision.allowed) throw new AppError("RATE_LIMITED", `too many requests; try again in ${decision.resetSeconds} s`);
  }
  const verifier = createTokenVerifier({ fetchJwks: jwksFetcher(nc), issuer: config.jwtIssuer, audience: config.jwtAudience });
  const webDist = path.resolve(config.webDist);
  const hasWeb = fs.existsSync(path.join(webDist, "index.html"));
  if (!hasWeb) log.warn({ webDist }, "web app is not built; serving the API only");

  const http = createHttpApp(log, metrics, {
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    notFound: (req, reply) => {
      const url = req.url.split("?")[0] ?? "/";
      const isApi = url.startsWith("/api/") || url.startsWith("/collab/") || url.startsWith("/.well-known/");
      // A missing file (an old tab asking for a replaced bundle) is a 404, not the app page.
      const isFile = url.startsWith("/assets/") || /\.[A-Za-z0-9]{1,8}$/.test(url);
      // Client-side routes (/d/:id, /b/:id ...) all load the app's index page.
      if (hasWeb && (req.method === "GET" || req.method === "HEAD") && !isApi && !isFile) {
        return reply.header("cache-control", "no-cache").type("text/html").sendFile("index.html", { maxAge: 0 });
      }
      return reply.status(404).send(new AppError("NOT_FOUND", `no route ${req.method} ${url}`).toBody());
    },
  });
  // A server span per request (continuing a caller's traceparent) when tracing is on; before any route.
  if (tracingEnabled()) traceHttpServer(http);
  let shuttingDown = false;

  http.addHook("onSend", async (req, reply) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) reply.header(k, v);
    const origin = req.headers.origin;
    if (origin && config.corsOrigins.includes(origin)) {
      reply.header("access-control-allow-origin", origin);
      reply.header("vary", "Origin");
      reply.header("access-control-expose-headers", "x-request-id");
    }
  });
  http.options("/api/*", async (req, reply) => {
    const origin = req.headers.origin;
    if (!origin || !config.corsOrigins.includes(origin)) return reply.status(204).send();
    return reply
      .header("access-control-allow-methods", "GET,POST,PATCH,DELETE")
      .header("access-control-allow-headers", "authorization,content-type,x-request-id")
      .header("access-control-max-age", "600")
      .status(204)
      .send();
  });

  async function authenticate(req: FastifyRequest): Promise<Caller> {
    const header = req.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match?.[1]) throw new AppError("UNAUTHENTICATED", "send an access token as 'Authorization: Bearer <token>'");
    const claims = await verifier.verify(match[1]);
    req.accessToken = match[1];
    return { userId: claims.userId, sessionId: claims.sessionId };
  }

  for (const route of apiRoutes) {
    http.route({
      method: route.method,
      url: route.url,
      schema: route.schema,
      preHandler: route.auth
        ? async (req: FastifyRequest, reply: FastifyReply) => {
            req.caller = await authenticate(req);
            enforce(reply, policies.user, await limit(policies.user, req.caller.userId, req.caller.sessionId));
          }
        : async (req: FastifyRequest, reply: FastifyReply) => {
            enforce(reply, policies.auth, await limit(policies.auth, req.ip));
          },
      handler: async (req: FastifyRequest, reply: FastifyReply) => {
        const input = route.input({
          params: (req.params ?? {}) as Record<string, unknown>,
          query: (req.query ?? {}) as Record<string, unknown>,
          body: req.body,
          headers: req.headers,
        });
        const request = (cursor?: string) => ({
          requestId: req.id,
          // The service verifies the token itself: the bus carries proof of who is calling, not a claim.
          ...(req.accessToken ? { token: req.accessToken } : {}),
          input: cursor === undefined ? input : { ...(input as Record<string, unknown>), cursor },
        });
        if (route.ndjsonPages) {
          const call = (cursor?: string) => callRpc(nc, route.subject, request(cursor), config.rpcTimeoutMs);
          const first = await call();
          if (!first.ok) return reply.status(httpStatusOf(first.error.code)).send({ error: first.error });
          return reply.status(200).type(`${AUDIT_CONTENT_TYPE}; charset=utf-8`).header("cache-control", "no-store").send(ndjsonBody(first, call, log));
        }
        // The service's JSON goes to the client as it came: a large body is not parsed and re-encoded here.
        const reply_ = await callRpcRaw(nc, route.subject, request(), config.rpcTimeoutMs);
        if (!reply_.ok) return reply.status(httpStatusOf(reply_.error.code)).send({ error: reply_.error });
        if (reply_.status === 204 || reply_.json.byteLength === 0) return reply.status(reply_.status).send();
        return reply.status(reply_.status).type("application/json; charset=utf-8").send(Buffer.from(reply_.json.buffer, reply_.json.byteOffset, reply_.json.byteLength));
      },
    });
  }

  // Sync and files replicas: a fixed list when configured (a Kubernetes Service), else those announcing themselves.
  const upstreamsOf = async (service: "sync" | "files", urls: readonly string[] | typeof DISCOVER): Promise<Upstreams> =>
    urls === DISCOVER ? discoveredUpstreams(nc, service, log, metrics.registry) : staticUpstreams(urls);
  const syncUpstreams = await upstreamsOf("sync", config.syncUrls);
  const filesUpstreams = await upstreamsOf("files", config.filesUrls);
  await registerFilesProxy(http, {
    routes: proxiedRoutes,
    upstreams: filesUpstreams,
    timeoutMs: config.filesProxyTimeoutMs,
    guard: async (req, reply) => {
      req.caller = await authenticate(req);
      enforce(reply, policies.user, await limit(policies.user, req.caller.userId, req.caller.sessionId));
    },
  });

  const openapi = openApiDocument(apiRoutes, proxiedRoutes);
  http.get("/api/openapi.json", async () => openapi);
  http.get("/.well-known/jwks.json", async (_req, reply) => {
    const r = await callRpc(nc, rpc.auth.jwks, { requestId: _req.id, input: {} }, config.rpcTimeoutMs);
    if (!r.ok) throw new AppError(r.error.code, r.error.message);
    return reply.header("cache-control", "public, max-age=60").send(r.body);
  });

  const checks: ReadinessChecks = { nats: () => natsReady(nc), redis: () => redisReady(redis) };
  for (const svc of backendServices) {
    checks[svc] = async () => {
      const msg = await nc.request(rpc.ready(svc), "", { timeout: 2_000 });
      return msg.json<ReadyResult>().ready === true;
    };
  }
  // A gateway that has heard from no replica cannot serve /collab or files yet (it asked at start; answers take milliseconds).
  for (const [name, upstreams] of [["syncReplicas", syncUpstreams], ["filesReplicas", filesUpstreams]] as const) {
    if (upstreams.mode === "discovered") checks[name] = async () => upstreams.count() > 0;
  }
  addOpsRoutes(http, "gateway", checks, metrics, () => shuttingDown);

  if (hasWeb) {
    // Files are looked up per request, so a rebuilt web/dist is served without a restart.
    // Bundles have content hashes in their names and never change: cache them for good;
    // index.html must be revalidated so a deploy reaches every browser at once.
    await http.register(fastifyStatic, {
      root: webDist,
      wildcard: true,
      index: ["index.html"],
      cacheControl: false,
      setHeaders: (res, filePath) => {
        res.setHeader("cache-control", filePath.includes(`${path.sep}assets${path.sep}`) ? "public, max-age=31536000, immutable" : "no-cache");
      },
    });
  }

  const collab = new CollabProxy({
    sync: syncUpstreams,
    verifier,
    nc,
    log,
    registry: metrics.registry,
    maxBufferedBytes: config.collabMaxBufferedBytes,
    admit: async (grant) => {
      const decision = await limit(policies.collab, grant.userId, grant.sessionId);
      if (decision?.revoked) throw new AppError("SESSION_REVOKED", "this session has ended; sign in again");
      if (decision && !decision.allowed) throw new AppError("RATE_LIMITED", `too many connections; try again in ${decision.resetSeconds} s`);
    },
  });
  http.server.on("upgrade", (req, socket, head) => collab.handleUpgrade(req, socket, head));
  const subs: Subscription[] = [
    nc.subscribe(subjects.collabControl(), {
      callback: (_err, msg) => {
        try {
          const notice = decodeCollabControl(msg.string());
          if (notice?.type === "session.revoked") collab.closeSession(notice.sessionId);
        } catch {
          log.warn("ignoring malformed control message");
        }
      },
    }),
  ];

  return {
    http,
    verifier,
    async close() {
      shuttingDown = true;
      for (const s of subs) s.unsubscribe();
      await collab.close();
      await http.close();
      syncUpstreams.stop();
      filesUpstreams.stop();
    },
  };
}
