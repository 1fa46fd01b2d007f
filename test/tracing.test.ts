import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it, vi } from "vitest";
import sharp from "sharp";
import { EditHeaders, Streams, TraceHeaders, subjects } from "@palimpsest/contracts";
import { OtlpSpanKind, startOtlpReceiver, type ReceivedSpan } from "@palimpsest/devkit";
import { useSystem, type SystemContext } from "./system.ts";
import { storedEdits } from "./stream-helpers.ts";

// The collector stand-in must listen before the services start: they are given its URL.
const receiver = await startOtlpReceiver();
afterAll(() => receiver.close());

const hex = (bytes: number) => randomBytes(bytes).toString("hex");

/** Types one edit through the gateway and waits until the stream holds it. */
async function typeOneEdit(ctx: SystemContext, token: string, docId: string): Promise<void> {
  const client = ctx.client(docId, token);
  await vi.waitFor(() => expect(client.provider.synced).toBe(true), { timeout: 10_000 });
  client.doc.getText("t").insert(0, "traced");
  await vi.waitFor(async () => expect(await storedEdits(ctx.jsm, docId)).toBe(1), { timeout: 10_000 });
}

function find(predicate: (s: ReceivedSpan) => boolean): ReceivedSpan | undefined {
  return receiver.spans.find(predicate);
}

describe("with OTEL_EXPORTER_OTLP_ENDPOINT set", () => {
  // A short export delay so the spans arrive within the test (the SDK's own OTEL_BSP_SCHEDULE_DELAY; 5 s by default).
  const ctx = useSystem("tracing-on", { env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: "100" } });

  it("follows a REST request from the caller's traceparent through the gateway, NATS and the docs service", async () => {
    const { api } = await ctx.anon.newUser("Tracer");
    const traceId = hex(16);
    const callerSpanId = hex(8);
    const res = await api.call<{ id: string }>("POST", "/api/docs", { title: "Traced", kind: "text" }, { traceparent: `00-${traceId}-${callerSpanId}-01` });
    expect(res.status).toBe(201);

    const inTrace = (service: string, name: string, kind: number) => find((s) => s.traceId === traceId && s.service === service && s.name === name && s.kind === kind);
    // Each process exports on its own schedule: wait for all four.
    await vi.waitFor(() => {
      expect(inTrace("gateway", "POST /api/docs", OtlpSpanKind.server)).toBeDefined();
      expect(inTrace("gateway", "rpc.docs.create", OtlpSpanKind.client)).toBeDefined();
      expect(inTrace("docs", "rpc.docs.create", OtlpSpanKind.server)).toBeDefined();
      expect(inTrace("docs", "send DOCS", OtlpSpanKind.producer)).toBeDefined();
    }, { timeout: 10_000 });
    const gatewayServer = inTrace("gateway", "POST /api/docs", OtlpSpanKind.server)!;
    const gatewayClient = inTrace("gateway", "rpc.docs.create", OtlpSpanKind.client)!;
    const docsServer = inTrace("docs", "rpc.docs.create", OtlpSpanKind.server)!;
    const docsAppend = inTrace("docs", "send DOCS", OtlpSpanKind.producer)!;
    // gateway span (child of the caller) -> its RPC call -> the docs service's handler (over NATS headers) -> the event's append.
    expect(gatewayServer).toMatchObject({ parentSpanId: callerSpanId, attributes: expect.objectContaining({ "http.route": "/api/docs", "http.response.status_code": 201 }) });
    expect(gatewayClient).toMatchObject({ parentSpanId: gatewayServer.spanId, attributes: expect.objectContaining({ "palimpsest.rpc.outcome": "ok" }) });
    expect(docsServer).toMatchObject({
      parentSpanId: gatewayClient.spanId,
      attributes: expect.objectContaining({ "rpc.system": "nats", "rpc.service": "docs", "rpc.method": "create", "palimpsest.rpc.outcome": "ok" }),
    });
    expect(docsAppend).toMatchObject({ parentSpanId: docsServer.spanId, attributes: expect.objectContaining({ "messaging.destination.name": subjects.docEvents(res.body.id) }) });

    // The stored event carries the append's context, for the projections that consume it.
    const stored = await ctx.jsm.streams.getMessage(Streams.docs, { last_by_subj: subjects.docEvents(res.body.id) });
    expect(stored?.header.get(TraceHeaders.parent)).toBe(`00-${traceId}-${docsAppend.spanId}-01`);
  });

  it("follows an upload the gateway relays to a files replica, on to the event it stores and the thumbnail made from it", async () => {
    const { api } = await ctx.anon.newUser("Uploader");
    const doc = await api.createDoc("With a picture");
    const traceId = hex(16);
    const image = await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 200, g: 10, b: 10 } } }).png().toBuffer();
    const form = new FormData();
    form.append("file", new Blob([new Uint8Array(image)], { type: "image/png" }), "red.png");
    const res = await fetch(`${api.baseUrl}/api/docs/${doc.id}/files`, {
      method: "POST",
      headers: { authorization: `Bearer ${api.token}`, traceparent: `00-${traceId}-${hex(8)}-01` },
      body: form,
    });
    expect(res.status).toBe(201);
    const inTrace = (service: string, name: string, kind: number) => find((s) => s.traceId === traceId && s.service === service && s.name === name && s.kind === kind);
    await vi.waitFor(() => {
      expect(inTrace("gateway", "POST /api/docs/:id/files", OtlpSpanKind.server)).toBeDefined();
      expect(inTrace("files", "POST /api/docs/:id/files", OtlpSpanKind.server)).toBeDefined();
      expect(inTrace("files", "send DOCS", OtlpSpanKind.producer)).toBeDefined();
      expect(find((s) => s.traceId === traceId && s.attributes["messaging.consumer.group.name"] === "files-thumbnails")).toBeDefined();
    }, { timeout: 15_000 });
    const gateway = inTrace("gateway", "POST /api/docs/:id/files", OtlpSpanKind.server)!;
    const files = inTrace("files", "POST /api/docs/:id/files", OtlpSpanKind.server)!;
    expect(files).toMatchObject({ parentSpanId: gateway.spanId, attributes: expect.objectContaining({ "http.response.status_code": 201 }) });
    // The file.uploaded event's append, and the thumbnail worker that consumed it (the durable consumer).
    const append = receiver.spans.filter((s) => s.traceId === traceId && s.service === "files" && s.name === "send DOCS");
    const worker = receiver.spans.filter((s) => s.traceId === traceId && s.service === "files" && s.kind === OtlpSpanKind.consumer && s.attributes["messaging.consumer.group.name"] === "files-thumbnails");
    expect(append.some((a) => a.parentSpanId === files.spanId)).toBe(true);
    expect(worker.length).toBeGreaterThan(0);
    expect(append.map((a) => a.spanId)).toContain(worker[0]!.parentSpanId);
  });

  it("records a refused call with its error code, not as a fault", async () => {
    const { api } = await ctx.anon.newUser("Refused");
    const traceId = hex(16);
    const res = await api.call("GET", `/api/docs/${"x".repeat(12)}`, undefined, { traceparent: `00-${traceId}-${hex(8)}-01` });
    expect(res.status).toBe(404);
    await vi.waitFor(() => expect(find((s) => s.traceId === traceId && s.service === "docs" && s.kind === OtlpSpanKind.server)).toBeDefined(), { timeout: 10_000 });
    const docsServer = find((s) => s.traceId === traceId && s.service === "docs" && s.kind === OtlpSpanKind.server)!;
    // NOT_FOUND is an answer, not a fault: its code is recorded, the status stays unset.
    expect(docsServer).toMatchObject({ statusCode: 0, attributes: expect.objectContaining({ "error.type": "NOT_FOUND", "palimpsest.rpc.outcome": "error" }) });
  });

  it("follows an edit from the sync replica's append through the stream to the fan-out and the projections, linked to its /collab connection", async () => {
    const { api, auth } = await ctx.anon.newUser("Typist");
    const doc = await api.createDoc("Edited");
    await typeOneEdit(ctx, auth.accessToken, doc.id);

    const subject = subjects.edits(doc.id);
    const producerOf = () => find((s) => s.service === "sync" && s.kind === OtlpSpanKind.producer && s.attributes["messaging.destination.name"] === subject);
    await vi.waitFor(() => expect(producerOf()).toBeDefined(), { timeout: 10_000 });
    const producer = producerOf()!;
    // An edit is a trace of its own, linked to the trace its connection was opened in.
    expect(producer).toMatchObject({ name: "send EDITS", parentSpanId: "", attributes: expect.objectContaining({ "palimpsest.stream.duplicate": false }) });
    const connectionOf = () => find((s) => s.service === "gateway" && s.name === "GET /collab/:docId" && s.attributes["palimpsest.doc_id"] === doc.id);
    await vi.waitFor(() => expect(connectionOf()).toBeDefined(), { timeout: 10_000 });
    const connection = connectionOf();
    expect(connection).toMatchObject({ kind: OtlpSpanKind.server });
    expect(producer.links).toEqual([{ traceId: connection!.traceId, spanId: connection!.spanId }]);
    // The replica's question to docs for the caller's role is in the connection's trace, answered
    // once: the gateway checks the token and the session itself and does not ask too.
    const inConnection = (service: string, kind: number) => receiver.spans.filter((s) => s.traceId === connection!.traceId && s.service === service && s.kind === kind);
    await vi.waitFor(() => {
      expect(inConnection("sync", OtlpSpanKind.client)).not.toHaveLength(0);
      expect(inConnection("docs", OtlpSpanKind.server)).toHaveLength(1);
    }, { timeout: 10_000 });
    expect(inConnection("gateway", OtlpSpanKind.client)).toHaveLength(0);

    // Consumers continue the edit's trace from the stored message's headers: the replica's fan-out and history's edit log;
    // docs' last-edit times follow the document's head, which the edit log writes in the same trace.
    // Docs follows the heads more than once (the last-edit times, webhooks' edit windows, search): its projection is named.
    const consumer = (service: string) =>
      find((s) => s.service === service && s.kind === OtlpSpanKind.consumer && s.traceId === producer.traceId && (service !== "docs" || s.attributes["palimpsest.projection"] === "docs-edit-heads"));
    await vi.waitFor(() => {
      expect(consumer("sync")).toBeDefined();
      expect(consumer("history")).toBeDefined();
      expect(consumer("docs")).toBeDefined();
    }, { timeout: 10_000 });
    expect(consumer("sync")).toMatchObject({ name: "process EDITS", parentSpanId: producer.spanId, attributes: expect.objectContaining({ "messaging.destination.name": subject }) });
    expect(consumer("history")).toMatchObject({ parentSpanId: producer.spanId, attributes: expect.objectContaining({ "palimpsest.projection": "edit-log" }) });
    expect(consumer("docs")).toMatchObject({ parentSpanId: consumer("history")!.spanId, attributes: expect.objectContaining({ "palimpsest.projection": "docs-edit-heads" }) });

    const stored = await ctx.jsm.streams.getMessage(Streams.edits, { last_by_subj: subject });
    expect(stored?.header.get(TraceHeaders.parent)).toBe(`00-${producer.traceId}-${producer.spanId}-01`);
    expect(receiver.rejected).toBe(0);
  });
});

describe("with tracing off (the default)", () => {
  const ctx = useSystem("tracing-off");

  it("stores edits and events exactly as before: no trace headers, even when the client sends a traceparent", async () => {
    const { api, auth } = await ctx.anon.newUser("Untraced");
    const spansBefore = receiver.spans.length;
    const res = await api.call<{ id: string }>("POST", "/api/docs", { title: "Untraced", kind: "text" }, { traceparent: `00-${hex(16)}-${hex(8)}-01` });
    expect(res.status).toBe(201);
    await typeOneEdit(ctx, auth.accessToken, res.body.id);

    const edit = await ctx.jsm.streams.getMessage(Streams.edits, { last_by_subj: subjects.edits(res.body.id) });
    expect(edit?.header.keys().sort()).toEqual([EditHeaders.author, EditHeaders.client, EditHeaders.replica, EditHeaders.time, "Nats-Msg-Id"].sort());
    const event = await ctx.jsm.streams.getMessage(Streams.docs, { last_by_subj: subjects.docEvents(res.body.id) });
    expect(event?.header.has(TraceHeaders.parent)).toBe(false);
    expect(event?.header.has(TraceHeaders.state)).toBe(false);
    expect(receiver.spans.length).toBe(spansBefore);
  });
});
