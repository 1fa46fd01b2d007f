import { describe, expect, it } from "vitest";
import { encodeEditHead, subjects } from "@palimpsest/contracts";
import { latestHeads } from "../src/search-index.ts";

const at = "2026-12-07T10:00:00.000Z";
const head = (docId: string, seq: number) => ({ subject: subjects.editHead(docId), data: encodeEditHead({ seq, at }) });
const erased = (docId: string) => ({ subject: subjects.editHead(docId), data: new Uint8Array(0) });

describe("search index batches", () => {
  it("given many heads of one document in a batch, when read, then its text is fetched once, for the newest", () => {
    expect([...latestHeads([head("a", 1), head("b", 4), head("a", 2), head("a", 3)])]).toEqual([
      ["a", 3],
      ["b", 4],
    ]);
  });

  it("given an erasure and heads, when read, then whichever came last in the stream wins", () => {
    expect(latestHeads([head("a", 5), erased("a")]).get("a")).toBeNull();
    expect(latestHeads([erased("a"), head("a", 1)]).get("a")).toBe(1);
  });

  it("given messages that are not heads, when read, then they are skipped", () => {
    const junk = { subject: subjects.editHead("a"), data: new TextEncoder().encode("{nope") };
    expect(latestHeads([junk, { subject: "other.subject", data: new Uint8Array(0) }]).size).toBe(0);
  });
});
