import { describe, expect, it } from "vitest";
import { MuxKind, MuxProtocolError, decodeMuxFrame, encodeMuxFrame, type MuxFrame } from "../src/index.ts";

describe("the gateway-replica channel's frames", () => {
  const frames: MuxFrame[] = [
    { kind: MuxKind.hello, stream: 0, hello: { replicaId: "sync-1", maxMessageBytes: 16 * 1024 * 1024, window: 8 * 1024 * 1024 } },
    { kind: MuxKind.open, stream: 7, open: { docId: "doc-1", token: "a.b.c", requestId: "req-1", trace: { traceparent: "00-x-y-01" } } },
    { kind: MuxKind.open, stream: 8, open: { docId: "doc-1", token: null, requestId: "req-2", trace: {} } },
    { kind: MuxKind.accept, stream: 7 },
    { kind: MuxKind.busy, stream: 9, reason: "opening 128 connections" },
    { kind: MuxKind.data, stream: 2 ** 32 - 1, data: new Uint8Array([0, 1, 2, 255]) },
    { kind: MuxKind.close, stream: 7, code: 4401, reason: "access token expired" },
    { kind: MuxKind.credit, stream: 7, bytes: 2 * 1024 * 1024 },
  ];

  it.each(frames.map((f) => [f.kind, f] as const))("given a frame of kind %i, when it is encoded and decoded, then it is the same frame", (_kind, f) => {
    expect(decodeMuxFrame(encodeMuxFrame(f))).toEqual(f);
  });

  it("given a frame inside a larger buffer, when it is decoded, then only its own bytes are read", () => {
    const inner = encodeMuxFrame({ kind: MuxKind.credit, stream: 3, bytes: 5 });
    const outer = new Uint8Array(inner.byteLength + 10);
    outer.set(inner, 6);
    expect(decodeMuxFrame(outer.subarray(6, 6 + inner.byteLength))).toEqual({ kind: MuxKind.credit, stream: 3, bytes: 5 });
  });

  it("given a close reason longer than a WebSocket allows, when it is encoded, then it is cut at a character boundary", () => {
    const f = decodeMuxFrame(encodeMuxFrame({ kind: MuxKind.close, stream: 1, code: 1000, reason: "é".repeat(100) }));
    expect(f).toMatchObject({ kind: MuxKind.close, code: 1000, reason: "é".repeat(61) });
  });

  it.each([
    ["a frame shorter than its header", new Uint8Array([MuxKind.data, 0, 0])],
    ["an unknown kind", new Uint8Array([42, 0, 0, 0, 1])],
    ["a hello on a client's stream", encodeMuxFrame({ kind: MuxKind.busy, stream: 0, reason: "x" })],
    ["an open whose JSON does not parse", new Uint8Array([MuxKind.open, 0, 0, 0, 1, 123])],
    ["an open with a field missing", new Uint8Array([MuxKind.open, 0, 0, 0, 1, ...new TextEncoder().encode(JSON.stringify({ docId: "d", token: null }))])],
    ["an open for a document id that is not subject-safe", new Uint8Array([MuxKind.open, 0, 0, 0, 1, ...new TextEncoder().encode(JSON.stringify({ docId: "doc.>", token: null, requestId: "r", trace: {} }))])],
    ["an accept with a body", new Uint8Array([MuxKind.accept, 0, 0, 0, 1, 0])],
    ["a close without its code", new Uint8Array([MuxKind.close, 0, 0, 0, 1, 3])],
    ["a credit of the wrong size", new Uint8Array([MuxKind.credit, 0, 0, 0, 1, 0, 0])],
    ["a reason that is not UTF-8", new Uint8Array([MuxKind.busy, 0, 0, 0, 1, 0xff])],
  ])("given %s, when it is decoded, then it is refused as a protocol error", (_what, bytes) => {
    expect(() => decodeMuxFrame(bytes)).toThrow(MuxProtocolError);
  });
});
