import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { AppError, ServiceNames, rpc, toAppError, type ReadyResult, type ServiceName } from "@palimpsest/contracts";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import type { Logger } from "./logger.ts";
import type { Metrics } from "./metrics.ts";

export type ReadinessChecks = Record<string, () => Promise<boolean>>;

const REQUEST_ID_HEADER = "x-request-id";
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * A Fastify instance with what every service exposes: request ids (taken from
 * `x-request-id` when sane, else new, and echoed back), one error format, request metrics.
 */
export function createHttpApp(
  log: Logger,
  metrics: Metrics,
  opts: { bodyLimit?: number; trustProxy?: boolean | number | readonly string[]; notFound?: (req: FastifyRequest, reply: FastifyReply) => unknown } = {},
): FastifyInstance {
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    disableRequestLogging: true,
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    trustProxy: trustProxyOption(opts.trustProxy),
    // Unknown fields are refused, not silently dropped: a typo in a field name is an error.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: "array", useDefaults: true, allErrors: false } },
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers[REQUEST_ID_HEADER];
      return typeof given === "string" && SAFE_REQUEST_ID.test(given) ? given : randomUUID();
    },
    // Errors the router raises before any route or hook runs (an undecodable URL, an over-long
    // path parameter): answered in the same shape as every other refusal, not Fastify's own.
    frameworkErrors: (err, req, reply) => {
      const appErr = fastifyErrorToApp(err);
      void (reply as FastifyReply).header(REQUEST_ID_HEADER, req.id).status(appErr.status).send(appErr.toBody());
    },
  });
  app.addHook("onRequest", async (req, reply) => {
    reply.header(REQUEST_ID_HEADER, req.id);
  });
  app.addHook("onSend", async (req, reply, payload) => {
    if (!req.raw.complete && !req.raw.destroyed) {
      // Fastify and @fastify/reply-from ask to close the connection here; keep it while the rest of the body is read instead.
      reply.removeHeader("connection");
      discardRestOfBody(req.raw, req.log);
    }
    return payload;
  });
  app.addHook("onResponse", async (req, reply) => {
    const route = req.routeOptions.url ?? "unmatched";
    metrics.httpDuration.observe(
      { method: req.method, route, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    if (reply.statusCode >= 500) req.log.warn({ route, status: reply.statusCode }, "request failed");
  });
  app.setErrorHandler((err, req, reply) => {
    const appErr = fastifyErrorToApp(err);
    if (appErr.code === "INTERNAL") req.log.error({ err }, "request failed");
    void reply.status(appErr.status).send(appErr.toBody());
  });
  app.setNotFoundHandler((req, reply) => {
    if (opts.notFound) return opts.notFound(req, reply);
    return reply.status(404).send(new AppError("NOT_FOUND", `no route ${req.method} ${req.url.split("?")[0]}`).toBody());
  });
  return app;
}

/** How much of a body sent after its answer (a refusal) is read and thrown away, at most, before the connection is closed. */
const LINGER_MAX_BYTES = 64 * 1024 * 1024;
const LINGER_MAX_MS = 30_000;

/**
 * An answer given before the request's body has all arrived (a refusal: too large, not allowed,
 * too many): closing the connection now would reset it while the client is still sending, and
 * most clients (browsers, fetch) then report a network error, not the answer. So the rest of the
 * body is read and discarded, as nginx's lingering close does, up to a bound in bytes and time;
 * past it the connection is closed after all.
 */
function discardRestOfBody(req: IncomingMessage, log: FastifyBaseLogger): void {
  let bytes = 0;
  const stop = (why: string) => {
    clearTimeout(timer);
    log.info({ discardedBytes: bytes, why }, "closing a connection whose request body was refused");
    req.socket.destroy();
  };
  const timer = setTimeout(() => stop("time"), LINGER_MAX_MS);
  timer.unref();
  req.unpipe();
  req.on("data", (chunk: Buffer) => {
    bytes += chunk.byteLength;
    if (bytes > LINGER_MAX_BYTES) stop("size");
  });
  req.once("end", () => clearTimeout(timer));
  req.once("close", () => clearTimeout(timer));
  req.resume();
}

/**
 * A number is that many proxies in front, each trusted for the address it appends (Express's
 * hop semantics; Fastify itself trusts no one for a number). A list is the proxies' addresses.
 */
function trustProxyOption(tp: boolean | number | readonly string[] | undefined): boolean | string[] | ((addr: string, hop: number) => boolean) {
  if (typeof tp === "number") return (_addr, hop) => hop < tp;
  if (Array.isArray(tp)) return [...(tp as readonly string[])];
  return tp === true;
}

function fastifyErrorToApp(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = err as { code?: string; statusCode?: number; validation?: unknown; message?: string };
  if (e.validation) return new AppError("VALIDATION_FAILED", e.message ?? "invalid request");
  switch (e.code) {
    case "FST_ERR_BAD_URL":
      return new AppError("VALIDATION_FAILED", "the URL is not validly encoded");
    case "FST_ERR_MAX_PARAM_LENGTH":
      return new AppError("VALIDATION_FAILED", "a path parameter is too long");
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new AppError("PAYLOAD_TOO_LARGE", "request body is too large");
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new AppError("UNSUPPORTED_MEDIA_TYPE", "unsupported content type");
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return new AppError("MALFORMED_JSON", "body is not valid JSON");
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return new AppError("VALIDATION_FAILED", "body must not be empty");
  }
  if (e.statusCode === 400 && typeof e.message === "string") {
    return new AppError(/JSON/i.test(e.message) ? "MALFORMED_JSON" : "VALIDATION_FAILED", e.message);
  }
  // Any other refusal Fastify raises itself (a bad content length, an unparsable content type, ...)
  // is the client's: a 4xx in our shape, never an INTERNAL.
  if (typeof e.code === "string" && e.code.startsWith("FST_ERR_") && typeof e.statusCode === "number" && e.statusCode >= 400 && e.statusCode < 500) {
    if (e.statusCode === 413) return new AppError("PAYLOAD_TOO_LARGE", "request body is too large");
    if (e.statusCode === 415) return new AppError("UNSUPPORTED_MEDIA_TYPE", "unsupported content type");
    return new AppError("VALIDATION_FAILED", typeof e.message === "string" ? e.message : "invalid request");
  }
  return toAppError(err);
}

async function runChecks(checks: ReadinessChecks): Promise<Record<string, boolean>> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      const ok = await Promise.race([
        check().catch(() => false),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 3_000).unref()),
      ]);
      return [name, ok] as const;
    }),
  );
  return Object.fromEntries(entries);
}

/**
 * /healthz says the process is alive; /readyz says its own stores answer (so a load balancer
 * stops sending work when they do not); /metrics is Prometheus text. The same readiness is
 * answered on NATS so the gateway can report the whole system.
 */
export function addOpsRoutes(
  app: FastifyInstance,
  service: ServiceName,
  checks: ReadinessChecks,
  metrics: Metrics,
  isShuttingDown: () => boolean = () => false,
  opts: { metrics?: boolean } = {},
): void {
  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_req, reply) => {
    const result = await readiness(service, checks, isShuttingDown);
    return reply.status(result.ready ? 200 : 503).send(result);
  });
  if (opts.metrics !== false) addMetricsRoute(app, metrics);
}

/** Prometheus text of this process's registry at GET /metrics. */
export function addMetricsRoute(app: FastifyInstance, metrics: Metrics): void {
  app.get("/metrics", async (_req, reply) => {
    return reply.header("content-type", metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}

export async function readiness(
  service: ServiceName,
  checks: ReadinessChecks,
  isShuttingDown: () => boolean = () => false,
): Promise<ReadyResult> {
  const results = await runChecks(checks);
  const ready = !isShuttingDown() && Object.values(results).every(Boolean);
  return { service, ready, checks: results };
}

export function serveReadiness(
  nc: NatsConnection,
  service: ServiceName,
  checks: ReadinessChecks,
  isShuttingDown: () => boolean,
): Subscription {
  // No queue group: a caller can collect every replica's answer if it wants to.
  return nc.subscribe(rpc.ready(service), {
    callback: (_err, msg) => {
      void readiness(service, checks, isShuttingDown).then((r) => msg.respond(JSON.stringify(r)));
    },
  });
}

export const backendServices: readonly ServiceName[] = ServiceNames.filter((s) => s !== "gateway");
