import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { GENESIS_HASH, auditOrderKey, canonicalJson, eventChainHash, type ChainedEvent } from "../src/index.ts";

/**
 * The metadata events' chain of the audit export. The export computes it and the offline verifier
 * recomputes it from the file, so canonicalJson and the hash are a published format. The known
 * answers were checked once against `sha256sum`, e.g. for the first:
 *
 *   { printf '%s\n' 000…000 doc-1 1; printf '%s' '<canonical JSON below>'; } | sha256sum
 */

const created = {
  id: "e1",
  type: "doc.created.v1",
  at: "2026-01-01T00:00:00.000Z",
  actorId: "user-a",
  data: { docId: "doc-1", title: "Plan", kind: "text", ownerId: "user-a" },
};
const renamed = { id: "e2", type: "doc.renamed.v1", at: "2026-01-01T00:00:02.000Z", actorId: "user-a", data: { docId: "doc-1", title: "Plän «2»" } };
const trashed = { id: "e3", type: "doc.trashed.v1", at: "2026-01-01T00:00:03.000Z", actorId: "user-a", data: { docId: "doc-1" } };

const CREATED_JSON = '{"actorId":"user-a","at":"2026-01-01T00:00:00.000Z","data":{"docId":"doc-1","kind":"text","ownerId":"user-a","title":"Plan"},"id":"e1","type":"doc.created.v1"}';
const CREATED_HASH = "6f3572a6c9b12be290327acd95c844b637f2c3ff42e9e8eb764225cb26f2bd31";
const RENAMED_HASH = "c1a166e3f60a85b700288d21f1f18eddd43376c97ad419dddf0e95abbba705d4";

function chain(events: readonly unknown[]): string[] {
  const hashes: string[] = [];
  let previous = GENESIS_HASH;
  for (const [i, event] of events.entries()) {
    previous = eventChainHash(previous, { docId: "doc-1", seq: i + 1, event });
    hashes.push(previous);
  }
  return hashes;
}

function firstBreak(events: readonly unknown[], stored: readonly string[]): number {
  let previous = GENESIS_HASH;
  for (const [i, event] of events.entries()) {
    if (stored[i] !== eventChainHash(previous, { docId: "doc-1", seq: i + 1, event })) return i;
    previous = stored[i];
  }
  return events.length === stored.length ? -1 : events.length;
}

describe("canonical JSON", () => {
  it("writes a stored event with sorted keys and no whitespace", () => {
    expect(canonicalJson(created)).toBe(CREATED_JSON);
  });

  it("gives the same text for the same value, whatever order its keys were written in", () => {
    const shuffled = { data: { ownerId: "user-a", kind: "text", title: "Plan", docId: "doc-1" }, type: "doc.created.v1", id: "e1", actorId: "user-a", at: "2026-01-01T00:00:00.000Z" };
    expect(canonicalJson(shuffled)).toBe(CREATED_JSON);
  });

  it("sorts keys by UTF-16 code units and writes strings and numbers as JSON.stringify does", () => {
    expect(canonicalJson({ b: 1, a: [true, null, "x"], B: 0.5, é: "ü\n", "10": -0, "9": 1e21 })).toBe('{"10":0,"9":1e+21,"B":0.5,"a":[true,null,"x"],"b":1,"é":"ü\\n"}');
  });

  it("drops undefined members, writes undefined array items as null, and refuses what JSON cannot hold", () => {
    expect(canonicalJson({ a: undefined, b: [undefined, 1] })).toBe('{"b":[null,1]}');
    expect(() => canonicalJson(undefined)).toThrow(TypeError);
    expect(() => canonicalJson(() => 1)).toThrow(TypeError);
  });
});

describe("event chain hash", () => {
  it("gives the known answers for a fixed list of events", () => {
    expect(chain([created, renamed])).toEqual([CREATED_HASH, RENAMED_HASH]);
  });

  it("is sha256 of prevHash, docId and seq, each followed by a newline, then the canonical JSON", () => {
    const direct = createHash("sha256").update(`${GENESIS_HASH}\ndoc-1\n1\n${CREATED_JSON}`, "utf8").digest("hex");
    expect(direct).toBe(CREATED_HASH);
  });

  it("changes with the document, the position and any part of the event", () => {
    const base: ChainedEvent = { docId: "doc-1", seq: 1, event: created };
    const variants: ChainedEvent[] = [
      { ...base, docId: "doc-2" },
      { ...base, seq: 2 },
      { ...base, event: { ...created, at: "2026-01-01T00:00:00.001Z" } },
      { ...base, event: { ...created, data: { ...created.data, title: "Plan " } } },
      { ...base, event: { ...created, actorId: undefined } },
    ];
    const hashes = variants.map((v) => eventChainHash(GENESIS_HASH, v));
    expect(new Set([CREATED_HASH, ...hashes]).size).toBe(variants.length + 1);
  });

  it("depends on order", () => {
    expect(chain([renamed, created]).at(-1)).not.toBe(RENAMED_HASH);
  });

  it("exposes tampering at the event tampered with", () => {
    const events = [created, renamed, trashed];
    const stored = chain(events);
    expect(firstBreak(events, stored)).toBe(-1);
    expect(firstBreak([created, { ...renamed, actorId: "user-b" }, trashed], stored)).toBe(1);
    expect(firstBreak([created, trashed], [stored[0]!, stored[2]!])).toBe(1);
    expect(firstBreak([created, trashed, renamed], [stored[0]!, stored[2]!, stored[1]!])).toBe(1);
    expect(firstBreak([created, renamed], stored)).toBe(2);
  });
});

describe("audit order key", () => {
  it("is the time in milliseconds, and 0 for a time that does not parse", () => {
    expect(auditOrderKey("2026-01-01T00:00:01.500Z")).toBe(Date.UTC(2026, 0, 1, 0, 0, 1, 500));
    expect(auditOrderKey("not a time")).toBe(0);
    expect(auditOrderKey(undefined)).toBe(0);
    expect(auditOrderKey(1_700_000_000_000)).toBe(0);
  });
});
