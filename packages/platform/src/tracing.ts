import type { IncomingHttpHeaders } from "node:http";
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  defaultTextMapGetter,
  isSpanContextValid,
  propagation,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanContext,
  type TextMapGetter,
  type TextMapSetter,
  type Tracer,
} from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler } from "@opentelemetry/sdk-trace-base";
import { ATTR_ERROR_TYPE, ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";
import { headers as natsHeaders, type MsgHdrs } from "@nats-io/transport-node";
import { TraceHeaders, httpStatusOf, isErrorCode, toAppError } from "@palimpsest/contracts";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Logger } from "./logger.ts";

/**
 * OpenTelemetry tracing, off unless an OTLP endpoint is configured.
 *
 * Off, nothing is registered: no SDK, no context manager, no propagator. Every helper here checks
 * one module variable first and then calls straight through, so a request or an edit pays a
 * function call and no allocation, and nothing is added to what goes over NATS or into the streams.
 *
 * On, each process exports its spans over OTLP/HTTP (JSON) in batches, and the W3C trace context
 * travels with the work: in NATS headers on RPC requests, on stored events and edits (so the
 * processes that consume them continue the trace), and in the upgrade the gateway relays to a
 * sync replica. Names of the attributes follow OpenTelemetry's semantic conventions where they
 * have one (messaging, rpc, http), and `palimpsest.*` otherwise.
 */

/** The settings tracing reads; every service's config has them (commonConfig). */
export interface TracingSettings {
  otlpEndpoint: string | undefined;
  otlpTracesEndpoint: string | undefined;
  otelServiceName: string | undefined;
  traceSampleRatio: number;
  replicaId: string;
}

export const SpanAttributes = {
  messagingSystem: "messaging.system",
  destination: "messaging.destination.name",
  operationType: "messaging.operation.type",
  messageId: "messaging.message.id",
  consumerGroup: "messaging.consumer.group.name",
  batchCount: "messaging.batch.message_count",
  rpcSystem: "rpc.system",
  rpcService: "rpc.service",
  rpcMethod: "rpc.method",
  httpMethod: "http.request.method",
  httpRoute: "http.route",
  httpStatus: "http.response.status_code",
  urlPath: "url.path",
  errorType: ATTR_ERROR_TYPE,
  requestId: "palimpsest.request_id",
  rpcOutcome: "palimpsest.rpc.outcome",
  streamSeq: "palimpsest.stream.sequence",
  duplicate: "palimpsest.stream.duplicate",
  docId: "palimpsest.doc_id",
  projection: "palimpsest.projection",
} as const;

export { SpanKind, type Span, type SpanContext, type Context as TraceContext };

let tracer: Tracer | undefined;
let provider: BasicTracerProvider | undefined;
const propagator = new W3CTraceContextPropagator();

/** The OTLP URL spans go to, or undefined when tracing is off (the traces endpoint is used as is; the base gets /v1/traces). */
export function otlpTracesUrl(settings: Pick<TracingSettings, "otlpEndpoint" | "otlpTracesEndpoint">): string | undefined {
  if (settings.otlpTracesEndpoint) return settings.otlpTracesEndpoint;
  if (!settings.otlpEndpoint) return undefined;
  return `${settings.otlpEndpoint.replace(/\/+$/, "")}/v1/traces`;
}

/**
 * Starts tracing for this process when an endpoint is configured; call once, before the service
 * connects to anything. Returns whether it is on.
 */
export function startTracing(settings: TracingSettings, service: string, log: Logger): boolean {
  const url = otlpTracesUrl(settings);
  if (!url || tracer) return tracer !== undefined;
  provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: settings.otelServiceName ?? service,
      "service.namespace": "palimpsest",
      "service.instance.id": settings.replicaId,
    }),
    // Parent-based: a request that arrives with a sampled (or unsampled) trace keeps that decision,
    // so one trace is never recorded in some processes and not in others.
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.traceSampleRatio) }),
    // Batched, so exporting costs the request path nothing but a push onto a queue; the queue is
    // bounded and drops spans when the collector cannot keep up (OTEL_BSP_* tune it).
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }))],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(propagator);
  trace.setGlobalTracerProvider(provider);
  tracer = provider.getTracer("palimpsest");
  log.info({ url, ratio: settings.traceSampleRatio }, "tracing on: exporting spans over OTLP/HTTP");
  return true;
}

export function tracingEnabled(): boolean {
  return tracer !== undefined;
}

/** Sends the spans still queued and stops tracing; called on shutdown (runUntilSignalled). Nothing to do when off. */
export async function shutdownTracing(): Promise<void> {
  const p = provider;
  if (!p) return;
  tracer = undefined;
  provider = undefined;
  try {
    await p.shutdown();
  } finally {
    trace.disable();
    propagation.disable();
    context.disable();
  }
}

export interface SpanStart {
  kind?: SpanKind;
  attributes?: Attributes;
  links?: Link[];
  /** The parent; by default the active context. `null` starts a new trace (an edit, a message with no context). */
  parent?: Context | null;
}

/**
 * Runs `fn` in a new span that is active while it runs (and across its awaits), ending it when
 * `fn` returns or its promise settles; a throw or rejection marks the span failed. When tracing is
 * off, `fn(undefined)` is all that happens.
 */
export function withSpan<T>(name: string, start: SpanStart, fn: (span: Span | undefined) => T): T {
  const t = tracer;
  if (!t) return fn(undefined);
  const parent = start.parent === null ? ROOT_CONTEXT : (start.parent ?? context.active());
  const span = t.startSpan(
    name,
    { kind: start.kind ?? SpanKind.INTERNAL, ...(start.attributes ? { attributes: start.attributes } : {}), ...(start.links ? { links: start.links } : {}), root: start.parent === null },
    parent,
  );
  let result: T;
  try {
    result = context.with(trace.setSpan(parent, span), fn, undefined, span);
  } catch (err) {
    recordFailure(span, err);
    span.end();
    throw err;
  }
  if (result instanceof Promise) {
    return result.then(
      (value: unknown) => {
        span.end();
        return value;
      },
      (err: unknown) => {
        recordFailure(span, err);
        span.end();
        throw err;
      },
    ) as T;
  }
  span.end();
  return result;
}

/** Marks a span failed. Expected refusals (an AppError answered with a 4xx status) only name their code: they are outcomes, not faults. */
export function recordFailure(span: Span, err: unknown): void {
  const appErr = toAppError(err);
  span.setAttribute(SpanAttributes.errorType, appErr.code);
  if (httpStatusOf(appErr.code) >= 500) {
    if (err instanceof Error) span.recordException(err);
    span.setStatus({ code: SpanStatusCode.ERROR, message: appErr.message });
  }
}

/** Records an error code a call ended with, the way recordFailure does, for code that answers errors instead of throwing them. */
export function recordErrorCode(span: Span, code: string, message?: string): void {
  span.setAttribute(SpanAttributes.errorType, code);
  if (!isErrorCode(code) || httpStatusOf(code) >= 500) span.setStatus({ code: SpanStatusCode.ERROR, ...(message ? { message } : {}) });
}

const natsSetter: TextMapSetter<MsgHdrs> = { set: (h, key, value) => h.set(key, value) };
const natsGetter: TextMapGetter<MsgHdrs> = {
  get: (h, key) => (h.has(key) ? h.get(key) : undefined),
  keys: (h) => h.keys(),
};

/** Writes the active (or given) trace context into NATS headers; nothing when tracing is off. */
export function injectTraceHeaders(h: MsgHdrs, ctx: Context = context.active()): void {
  if (!tracer) return;
  propagator.inject(ctx, h, natsSetter);
}

/** NATS headers holding the active trace context, or undefined when tracing is off or no span is active. */
export function traceHeaders(ctx: Context = context.active()): MsgHdrs | undefined {
  if (!tracer || !trace.getSpanContext(ctx)) return undefined;
  const h = natsHeaders();
  propagator.inject(ctx, h, natsSetter);
  return h;
}

/** The trace context a NATS message carries, or undefined (tracing off, or none sent). */
export function traceContextOf(h: MsgHdrs | undefined): Context | undefined {
  if (!tracer || !h?.has(TraceHeaders.parent)) return undefined;
  const ctx = propagator.extract(ROOT_CONTEXT, h, natsGetter);
  return trace.getSpanContext(ctx) ? ctx : undefined;
}

/** The trace context of an incoming HTTP request (its `traceparent`), or undefined. */
export function httpTraceContextOf(headers: IncomingHttpHeaders): Context | undefined {
  if (!tracer || headers[TraceHeaders.parent] === undefined) return undefined;
  const ctx = propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
  return trace.getSpanContext(ctx) ? ctx : undefined;
}

/** The active (or given) trace context as HTTP header fields, for a request written by hand; empty when off. */
export function traceHttpHeaders(ctx: Context = context.active()): Record<string, string> {
  const out: Record<string, string> = {};
  if (tracer) propagator.inject(ctx, out, { set: (carrier, key, value) => void (carrier[key] = value) });
  return out;
}

/** The span context of the active span (or of `ctx`), when there is a valid one: something to link to later. */
export function spanContextOf(ctx: Context = context.active()): SpanContext | undefined {
  if (!tracer) return undefined;
  const sc = trace.getSpanContext(ctx);
  return sc && isSpanContextValid(sc) ? sc : undefined;
}

/** Runs `fn` with `ctx` active (nothing changes when `ctx` is undefined). */
export function runInTraceContext<T>(ctx: Context | undefined, fn: () => T): T {
  return ctx ? context.with(ctx, fn) : fn();
}

/**
 * Consumer side of stored messages: runs `fn` in a span for handling `msgs`. One message with a
 * trace context becomes the span's parent, so the consumer shows up in the producer's trace; a
 * batch links to every message's context (a batch has many producers and one parent at most),
 * taking the first traced one as parent when it is the only one.
 */
export function withConsumerSpan<T>(
  name: string,
  msgs: readonly { headers?: MsgHdrs | undefined }[],
  attributes: Attributes,
  fn: (span: Span | undefined) => T,
): T {
  if (!tracer) return fn(undefined);
  const contexts: Context[] = [];
  for (const m of msgs) {
    const ctx = traceContextOf(m.headers);
    if (ctx) contexts.push(ctx);
    // Span links are capped by the SDK (128); more would only be dropped.
    if (contexts.length >= 128) break;
  }
  const links: Link[] = contexts.flatMap((ctx) => {
    const sc = trace.getSpanContext(ctx);
    return sc ? [{ context: sc }] : [];
  });
  const parent = contexts.length === 1 ? contexts[0] : null;
  return withSpan(name, { kind: SpanKind.CONSUMER, parent: parent ?? null, links, attributes: { ...attributes, [SpanAttributes.batchCount]: msgs.length } }, fn);
}

declare module "fastify" {
  interface FastifyRequest {
    traceSpan?: { span: Span; ctx: Context };
  }
}

/** Operations routes are polled constantly (probes, scrapes) and tell nothing about a request. */
const UNTRACED_PATHS = new Set(["/healthz", "/readyz", "/metrics"]);

/**
 * A server span per HTTP request, continuing an incoming `traceparent`. The span is made active
 * for the route's handler (and its preHandlers), so the RPC calls a request makes are its
 * children. Register right after creating the app, before its routes and plugins; only when
 * tracing is on.
 */
export function traceHttpServer(http: FastifyInstance): void {
  http.addHook("onRequest", (req, _reply, done) => {
    const t = tracer;
    const path = req.url.split("?")[0] ?? "/";
    if (!t || UNTRACED_PATHS.has(path)) {
      done();
      return;
    }
    const parent = httpTraceContextOf(req.headers) ?? ROOT_CONTEXT;
    const route = req.routeOptions.url;
    const span = t.startSpan(
      route ? `${req.method} ${route}` : req.method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          [SpanAttributes.httpMethod]: req.method,
          [SpanAttributes.urlPath]: path,
          [SpanAttributes.requestId]: req.id,
          ...(route ? { [SpanAttributes.httpRoute]: route } : {}),
        },
      },
      parent,
    );
    const ctx = trace.setSpan(parent, span);
    req.traceSpan = { span, ctx };
    context.with(ctx, done);
  });
  // The body is read between onRequest and here, outside any context we set: enter it again so
  // the handler runs in the request's span.
  http.addHook("preHandler", (req, _reply, done) => {
    if (req.traceSpan) context.with(req.traceSpan.ctx, done);
    else done();
  });
  http.addHook("onResponse", (req, reply, done) => {
    endHttpSpan(req, reply.statusCode);
    done();
  });
  http.addHook("onRequestAbort", (req, done) => {
    const t = req.traceSpan;
    if (t) t.span.setAttribute(SpanAttributes.errorType, "aborted");
    endHttpSpan(req, undefined);
    done();
  });
}

function endHttpSpan(req: FastifyRequest, status: number | undefined): void {
  const t = req.traceSpan;
  if (!t) return;
  req.traceSpan = undefined;
  if (status !== undefined) {
    t.span.setAttribute(SpanAttributes.httpStatus, status);
    if (status >= 500) {
      t.span.setAttribute(SpanAttributes.errorType, String(status));
      t.span.setStatus({ code: SpanStatusCode.ERROR });
    }
  }
  t.span.end();
}
