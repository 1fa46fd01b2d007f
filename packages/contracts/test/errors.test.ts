import { describe, expect, it } from "vitest";
import { AppError, ErrorCodes, closeCodeOf, httpStatusOf, toAppError } from "../src/index.ts";
import { GENESIS_HASH, chainHash } from "../src/edit-chain.ts";

describe("error codes", () => {
  it("map every code to an HTTP status and a sendable WebSocket close code", () => {
    for (const code of Object.keys(ErrorCodes) as (keyof typeof ErrorCodes)[]) {
      expect(httpStatusOf(code)).toBeGreaterThanOrEqual(400);
      const close = closeCodeOf(code);
      expect(close === 1009 || close === 1011 || close === 1013 || (close >= 4000 && close <= 4999)).toBe(true);
    }
  });

  it("hides the message of unexpected errors", () => {
    const err = toAppError(new Error("db password is hunter2"));
    expect(err.code).toBe("INTERNAL");
    expect(JSON.stringify(err.toBody())).not.toContain("hunter2");
    expect(new AppError("NOT_FOUND", "x").status).toBe(404);
  });
});

describe("edit hash chain", () => {
  const edit = { docId: "d1", seq: 1, author: "u1", client: "c1", time: "2026-01-01T00:00:00.000Z", update: new Uint8Array([1, 2, 3]) };

  it("changes when any covered field or byte changes", () => {
    const h = chainHash(GENESIS_HASH, edit);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(chainHash(GENESIS_HASH, edit)).toBe(h);
    expect(chainHash(GENESIS_HASH, { ...edit, seq: 2 })).not.toBe(h);
    expect(chainHash(GENESIS_HASH, { ...edit, author: "u2" })).not.toBe(h);
    expect(chainHash(GENESIS_HASH, { ...edit, time: "2026-01-01T00:00:00.001Z" })).not.toBe(h);
    expect(chainHash(GENESIS_HASH, { ...edit, update: new Uint8Array([1, 2, 4]) })).not.toBe(h);
    expect(chainHash(h, edit)).not.toBe(h);
  });
});

import { EventEnvelope, EventPayloads, isValid } from "../src/index.ts";

describe("event schemas", () => {
  it("accept a well-formed event, refuse a bad time", () => {
    const ev = { id: "e1", type: "doc.renamed.v1", at: new Date().toISOString(), data: { docId: "d1", title: "T" } };
    expect(isValid(EventEnvelope, ev)).toBe(true);
    expect(isValid(EventPayloads["doc.renamed.v1"], ev.data)).toBe(true);
    expect(isValid(EventEnvelope, { ...ev, at: "yesterday-ish, roughly" })).toBe(false);
  });
});
