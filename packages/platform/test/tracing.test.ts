import { afterAll, describe, expect, it, vi } from "vitest";
import { headers as natsHeaders } from "@nats-io/transport-node";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { TraceHeaders } from "@palimpsest/contracts";
import pino from "pino";
import { commonConfig, loadConfig } from "../src/config.ts";
import {
  SpanKind,
  injectTraceHeaders,
  otlpTracesUrl,
  shutdownTracing,
  startTracing,
  traceContextOf,
  traceHeaders,
  traceHttpHeaders,
  tracingEnabled,
  withConsumerSpan,
  withSpan,
  type TracingSettings,
} from "../src/tracing.ts";
import { OtlpSpanKind, startOtlpReceiver, type OtlpReceiver } from "@palimpsest/devkit";

const log = pino({ level: "silent" });
const settings = (over: Partial<TracingSettings> = {}): TracingSettings => ({
  otlpEndpoint: undefined,
  otlpTracesEndpoint: undefined,
  otelServiceName: undefined,
  traceSampleRatio: 1,
  replicaId: "test-1",
  ...over,
});

describe("tracing settings", () => {
  it("reads OpenTelemetry's own variable names; off without an endpoint", () => {
    const off = loadConfig(commonConfig, {});
    expect(off.otlpEndpoint).toBeUndefined();
    expect(otlpTracesUrl(off)).toBeUndefined();
    expect(off.traceSampleRatio).toBe(1);
    const on = loadConfig(commonConfig, { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/", OTEL_SERVICE_NAME: "edge", OTEL_TRACES_SAMPLER_ARG: "0.25" });
    expect(otlpTracesUrl(on)).toBe("http://collector:4318/v1/traces");
    expect(on.otelServiceName).toBe("edge");
    expect(on.traceSampleRatio).toBe(0.25);
    // The signal-specific URL is used as is, as the OpenTelemetry specification says.
    expect(otlpTracesUrl({ otlpEndpoint: "http://a:4318", otlpTracesEndpoint: "http://b:4318/custom" })).toBe("http://b:4318/custom");
  });

  it("refuses a ratio outside 0-1 and an endpoint that is not a URL", () => {
    expect(() => loadConfig(commonConfig, { OTEL_TRACES_SAMPLER_ARG: "2" })).toThrow(/OTEL_TRACES_SAMPLER_ARG must be <= 1/);
    expect(() => loadConfig(commonConfig, { OTEL_TRACES_SAMPLER_ARG: "half" })).toThrow(/must be a number/);
    expect(() => loadConfig(commonConfig, { OTEL_EXPORTER_OTLP_ENDPOINT: "collector" })).toThrow(/not a URL/);
  });

  it("names the same headers the W3C propagator writes (one definition in contracts)", () => {
    expect(new W3CTraceContextPropagator().fields()).toEqual([TraceHeaders.parent, TraceHeaders.state]);
  });
});

describe("tracing off", () => {
  it("starts nothing and calls straight through: no span, no header", async () => {
    expect(startTracing(settings(), "docs", log)).toBe(false);
    expect(tracingEnabled()).toBe(false);
    expect(withSpan("x", {}, (span) => span)).toBeUndefined();
    await expect(withSpan("x", {}, async (span) => span)).resolves.toBeUndefined();
    const h = natsHeaders();
    injectTraceHeaders(h);
    expect(h.keys()).toEqual([]);
    expect(traceHeaders()).toBeUndefined();
    expect(traceHttpHeaders()).toEqual({});
    const incoming = natsHeaders();
    incoming.set(TraceHeaders.parent, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    expect(traceContextOf(incoming)).toBeUndefined();
    expect(withConsumerSpan("c", [{ headers: incoming }], {}, (span) => span)).toBeUndefined();
  });
});

describe("tracing on", () => {
  let receiver: OtlpReceiver;
  afterAll(async () => {
    await shutdownTracing();
    await receiver?.close();
  });

  it("carries the context through NATS headers and exports parent, child and linked spans over OTLP/HTTP", async () => {
    receiver = await startOtlpReceiver();
    expect(startTracing(settings({ otlpEndpoint: receiver.url, otelServiceName: "unit" }), "docs", log)).toBe(true);

    // A caller's span, its context written into NATS headers, continued on the "other side".
    let carried = natsHeaders();
    const callerIds = await withSpan("caller", { kind: SpanKind.CLIENT }, async (span) => {
      carried = traceHeaders() ?? natsHeaders();
      await new Promise((r) => setTimeout(r, 1));
      return span?.spanContext();
    });
    expect(callerIds).toBeDefined();
    expect(carried.get(TraceHeaders.parent)).toBe(`00-${callerIds!.traceId}-${callerIds!.spanId}-01`);
    const remote = traceContextOf(carried);
    expect(remote).toBeDefined();
    withSpan("handler", { kind: SpanKind.SERVER, parent: remote ?? null }, () => undefined);

    // A failure of the server's making marks the span failed; the error propagates unchanged.
    await expect(withSpan("broken", {}, async () => { throw new Error("boom"); })).rejects.toThrow("boom");

    // One traced message: its consumer span is the producer's child. Two: a new trace linking both.
    const other = natsHeaders();
    withSpan("other producer", { parent: null }, () => injectTraceHeaders(other));
    withConsumerSpan("one", [{ headers: carried }, { headers: undefined }], {}, () => undefined);
    withConsumerSpan("two", [{ headers: carried }, { headers: other }], {}, () => undefined);

    await shutdownTracing();
    expect(tracingEnabled()).toBe(false);
    await vi.waitFor(() => expect(receiver.spans.map((s) => s.name).sort()).toEqual(["broken", "caller", "handler", "one", "other producer", "two"]));
    expect(receiver.rejected).toBe(0);
    const byName = new Map(receiver.spans.map((s) => [s.name, s]));
    const caller = byName.get("caller")!;
    expect(caller.service).toBe("unit");
    expect(caller.kind).toBe(OtlpSpanKind.client);
    expect(byName.get("handler")).toMatchObject({ traceId: caller.traceId, parentSpanId: caller.spanId, kind: OtlpSpanKind.server });
    expect(byName.get("broken")).toMatchObject({ statusCode: 2, attributes: expect.objectContaining({ "error.type": "INTERNAL" }) });
    expect(byName.get("one")).toMatchObject({ traceId: caller.traceId, parentSpanId: caller.spanId, kind: OtlpSpanKind.consumer });
    const two = byName.get("two")!;
    expect(two.parentSpanId).toBe("");
    expect(two.traceId).not.toBe(caller.traceId);
    expect(two.links.map((l) => l.spanId).sort()).toEqual([caller.spanId, byName.get("other producer")!.spanId].sort());
  });
});
