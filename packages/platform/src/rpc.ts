import { RequestError, TimeoutError, headers as natsHeaders, type Msg, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import {
  AppError,
  RpcRequestSchema,
  isErrorCode,
  parse,
  toAppError,
  type Caller,
  type RpcReply,
  type RpcRequest,
} from "@palimpsest/contracts";
import type { Logger } from "./logger.ts";
import type { Metrics } from "./metrics.ts";
import type { TokenVerifier } from "./tokens.ts";
import { SpanAttributes, SpanKind, recordErrorCode, traceContextOf, traceHeaders, tracingEnabled, withSpan, type Span } from "./tracing.ts";
import { replyInboxOf } from "./reply-inbox.ts";

export interface RpcContext {
  requestId: string;
  caller: Caller | undefined;
  /**
   * The caller's access token, verified, for a call this service makes on the caller's behalf:
   * the service called checks it again, and decides as it would for the caller.
   */
  token?: string;
  log: Logger;
  /**
   * Aborted once the caller has stopped waiting (its deadline, from the request's `Rpc-Deadline`
   * header, has passed): long work checks it and stops, since nobody will read the answer.
   */
  signal: AbortSignal;
  /** The same deadline in Unix milliseconds (Infinity when the request named none), for loops that do not yield to timers. */
  deadline: number;
}

/** Throws TIMEOUT when the caller has gone, so a long loop stops at its next step. */
export function throwIfAbandoned(ctx: Pick<RpcContext, "signal" | "deadline">): void {
  if (ctx.signal.aborted || Date.now() >= ctx.deadline) throw new AppError("TIMEOUT", "the caller stopped waiting for this answer");
}

export interface RpcResult {
  status?: number;
  body: unknown;
}

export type RpcHandler = (input: unknown, ctx: RpcContext) => Promise<RpcResult>;

export function requireCaller(ctx: RpcContext): Caller {
  if (!ctx.caller) throw new AppError("UNAUTHENTICATED", "sign in first");
  return ctx.caller;
}

/**
 * For calls about the account itself (its tokens, sessions, password): a person signed in, never
 * a script holding one of their API tokens.
 */
export function requireSessionCaller(ctx: RpcContext): Caller {
  const caller = requireCaller(ctx);
  if (caller.token) throw new AppError("API_TOKEN_NOT_ALLOWED", "an API token cannot do this; sign in to manage your account");
  return caller;
}

/**
 * Serves request/reply handlers on NATS with a queue group, so every replica of a service
 * shares the load. Each message is handled on its own so a slow call does not hold up the rest.
 * Errors become `{ok:false, error}` replies; unexpected ones are logged here, once.
 */
export interface ServeRpcOptions {
  log: Logger;
  metrics?: Metrics;
  /** Verifies the access token a request carries; its user and session become `ctx.caller`. */
  verifier: Pick<TokenVerifier, "verify">;
}

export function serveRpc(nc: NatsConnection, queue: string, handlers: Record<string, RpcHandler>, opts: ServeRpcOptions): Subscription[] {
  const { log } = opts;
  return Object.entries(handlers).map(([subject, handler]) =>
    nc.subscribe(subject, {
      queue,
      callback: (err, msg) => {
        if (err) {
          log.error({ err, subject }, "rpc subscription failed");
          return;
        }
        if (!tracingEnabled()) {
          void handle(subject, handler, msg, opts, undefined);
          return;
        }
        // The caller's trace continues here when the request carries one; the handler runs in this span.
        void withSpan(
          subject,
          { kind: SpanKind.SERVER, parent: traceContextOf(msg.headers) ?? null, attributes: rpcAttributes(subject) },
          (span) => handle(subject, handler, msg, opts, span),
        );
      },
    }),
  );
}

/** OpenTelemetry's rpc attributes: `rpc.docs.create` is service `docs`, method `create`. */
function rpcAttributes(subject: string): Record<string, string> {
  const [, service = "", ...method] = subject.split(".");
  return {
    [SpanAttributes.rpcSystem]: "nats",
    [SpanAttributes.rpcService]: service,
    [SpanAttributes.rpcMethod]: method.join("."),
    [SpanAttributes.destination]: subject,
  };
}

async function handle(subject: string, handler: RpcHandler, msg: Msg, { log, metrics, verifier }: ServeRpcOptions, span: Span | undefined): Promise<void> {
  const started = performance.now();
  let reply: RpcReply;
  let requestId = "unknown";
  let result: RpcResult;
  try {
    let raw: unknown;
    try {
      raw = msg.json<unknown>();
    } catch {
      throw new AppError("MALFORMED_JSON", "request is not valid JSON");
    }
    const req: RpcRequest = parse(RpcRequestSchema, raw, "request");
    requestId = req.requestId;
    let caller: Caller | undefined;
    if (req.token !== undefined) {
      const claims = await verifier.verify(req.token);
      caller = { userId: claims.userId, sessionId: claims.sessionId, ...(claims.token ? { token: claims.token } : {}) };
    }
    // With tracing on, the handler's log lines name the trace, so a log line leads to its trace.
    const deadline = deadlineOf(msg);
    const signal = deadline === undefined ? new AbortController().signal : AbortSignal.timeout(Math.max(0, deadline - Date.now()));
    const ctx: RpcContext = { requestId, caller, ...(caller && req.token !== undefined ? { token: req.token } : {}), signal, deadline: deadline ?? Infinity, log: log.child({ reqId: requestId, rpc: subject, ...(span ? { traceId: span.spanContext().traceId } : {}) }) };
    try {
      result = await handler(req.input, ctx);
    } finally {
      if (signal.aborted || (deadline !== undefined && Date.now() >= deadline)) metrics?.rpcAbandoned.inc({ subject });
    }
    reply = { ok: true, status: result.status ?? 200, body: result.body };
  } catch (err) {
    const appErr = toAppError(err);
    if (appErr.code === "INTERNAL") log.error({ err, reqId: requestId, rpc: subject, ...(span ? { traceId: span.spanContext().traceId } : {}) }, "rpc handler failed");
    reply = { ok: false, ...appErr.toBody() };
  }
  if (span) {
    span.setAttributes({ [SpanAttributes.rpcOutcome]: reply.ok ? "ok" : "error", [SpanAttributes.requestId]: requestId });
    if (!reply.ok) recordErrorCode(span, reply.error.code, reply.error.message);
  }
  metrics?.rpcDuration.observe(
    { subject, outcome: reply.ok ? "ok" : reply.error.code },
    (performance.now() - started) / 1000,
  );
  if (!msg.reply) return;
  // The outcome travels in headers and the payload is the body alone, so the gateway can pass a
  // large body (a version of a long document) to its client without parsing and re-encoding it.
  if (reply.ok) {
    try {
      const h = natsHeaders();
      h.set(RpcHeaders.outcome, "ok");
      h.set(RpcHeaders.status, String(reply.status));
      msg.respond(reply.body === undefined ? "" : JSON.stringify(reply.body), { headers: h });
      return;
    } catch (err) {
      // Larger than a NATS message, or not JSON: the caller hears so now instead of waiting out its deadline.
      log.error({ err, reqId: requestId, rpc: subject }, "rpc reply could not be sent");
      reply = { ok: false, ...new AppError("INTERNAL", "the answer could not be sent").toBody() };
    }
  }
  const h = natsHeaders();
  h.set(RpcHeaders.outcome, "error");
  msg.respond(JSON.stringify({ error: reply.error }), { headers: h });
}

/**
 * `Rpc-Deadline`: when the caller stops waiting, in Unix milliseconds; set from the request's
 * timeout so the service can stop work whose answer nobody will read.
 */
const RpcHeaders = { outcome: "Rpc-Outcome", status: "Rpc-Status", deadline: "Rpc-Deadline" } as const;

function deadlineOf(msg: Msg): number | undefined {
  const raw = msg.headers?.get(RpcHeaders.deadline);
  if (!raw) return undefined;
  const at = Number(raw);
  // Beyond an hour it is not a deadline anyone meant; treat it as none rather than trusting it.
  return Number.isSafeInteger(at) && at > 0 && at - Date.now() < 3_600_000 ? at : undefined;
}

/** A successful reply whose body is still the JSON bytes the service sent. */
export interface RawRpcReply {
  ok: true;
  status: number;
  json: Uint8Array;
}

function decodeReply(msg: Msg, subject: string): RpcReply | RawRpcReply {
  const outcome = msg.headers?.get(RpcHeaders.outcome);
  if (outcome === "ok") {
    const status = Number(msg.headers?.get(RpcHeaders.status));
    if (!Number.isInteger(status)) throw new AppError("INTERNAL", `malformed reply from ${subject}`);
    return { ok: true, status, json: msg.data };
  }
  let reply: unknown;
  try {
    reply = msg.json<unknown>();
  } catch {
    throw new AppError("INTERNAL", `malformed reply from ${subject}`);
  }
  if (outcome === "error") reply = { ok: false, ...(reply as object) };
  if (typeof reply !== "object" || reply === null || typeof (reply as RpcReply).ok !== "boolean") {
    throw new AppError("INTERNAL", `malformed reply from ${subject}`);
  }
  const r = reply as RpcReply;
  if (!r.ok && !isErrorCode(r.error?.code)) throw new AppError("INTERNAL", `unknown error code from ${subject}`);
  return r;
}

function parseBody(raw: RawRpcReply, subject: string): RpcReply {
  if (raw.json.byteLength === 0) return { ok: true, status: raw.status, body: undefined };
  try {
    return { ok: true, status: raw.status, body: JSON.parse(new TextDecoder().decode(raw.json)) as unknown };
  } catch {
    throw new AppError("INTERNAL", `malformed reply from ${subject}`);
  }
}

/** Calls a service; returns its reply or throws UNAVAILABLE / TIMEOUT when nobody answers in time. */
export async function callRpc(
  nc: NatsConnection,
  subject: string,
  request: RpcRequest,
  timeoutMs = 5_000,
): Promise<RpcReply> {
  const reply = await callRpcRaw(nc, subject, request, timeoutMs);
  return "json" in reply ? parseBody(reply, subject) : reply;
}

/** Like callRpc, but a successful reply's body is left as the JSON bytes the service sent. */
export async function callRpcRaw(
  nc: NatsConnection,
  subject: string,
  request: RpcRequest,
  timeoutMs = 5_000,
): Promise<RawRpcReply | Extract<RpcReply, { ok: false }>> {
  if (!tracingEnabled()) return requestRpc(nc, subject, request, timeoutMs, undefined);
  // A client span whose context goes with the request, so the service's span is its child.
  return withSpan(subject, { kind: SpanKind.CLIENT, attributes: rpcAttributes(subject) }, (span) => requestRpc(nc, subject, request, timeoutMs, span));
}

async function requestRpc(
  nc: NatsConnection,
  subject: string,
  request: RpcRequest,
  timeoutMs: number,
  span: Span | undefined,
): Promise<RawRpcReply | Extract<RpcReply, { ok: false }>> {
  try {
    const headers = (span ? traceHeaders() : undefined) ?? natsHeaders();
    headers.set(RpcHeaders.deadline, String(Date.now() + timeoutMs));
    const msg = await replyInboxOf(nc).request(subject, JSON.stringify(request), { timeout: timeoutMs, headers });
    const reply = decodeReply(msg, subject);
    if (span) {
      span.setAttributes({ [SpanAttributes.rpcOutcome]: reply.ok ? "ok" : "error", [SpanAttributes.requestId]: request.requestId });
      if (!reply.ok) recordErrorCode(span, reply.error.code, reply.error.message);
    }
    if (reply.ok && !("json" in reply)) {
      return { ok: true, status: reply.status, json: reply.body === undefined ? new Uint8Array() : new TextEncoder().encode(JSON.stringify(reply.body)) };
    }
    return reply;
  } catch (err) {
    if (err instanceof AppError) throw err;
    if (err instanceof RequestError && err.isNoResponders()) {
      throw new AppError("UNAVAILABLE", "the service is not available; try again shortly", { cause: err });
    }
    if (err instanceof TimeoutError || (err instanceof RequestError && err.cause instanceof TimeoutError)) {
      throw new AppError("TIMEOUT", "the service did not answer in time", { cause: err });
    }
    throw err;
  }
}

/** Calls a service and returns the body of a successful reply, rethrowing its error otherwise. */
export async function callRpcOk<T>(nc: NatsConnection, subject: string, request: RpcRequest, timeoutMs?: number): Promise<T> {
  const reply = await callRpc(nc, subject, request, timeoutMs);
  if (!reply.ok) throw new AppError(reply.error.code, reply.error.message, { details: reply.error.details });
  return reply.body as T;
}
