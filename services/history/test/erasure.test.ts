import { describe, expect, it } from "vitest";
import { GENESIS_HASH } from "@palimpsest/contracts";
import { tombstoneFor } from "../src/erasure.ts";

const purge = { by: "owner-1", at: "2026-12-06T12:00:00.000Z", streamSeq: 42 };

describe("the erasure tombstone", () => {
  it("records where the edit chain stood once the edit log has the stream's last edit", () => {
    expect(tombstoneFor("doc-1", purge, { seq: 7, streamSeq: 300, hash: "h7" }, 300)).toEqual({
      docId: "doc-1",
      purgedBy: "owner-1",
      purgedAt: purge.at,
      purgeStreamSeq: 42,
      lastEditSeq: 7,
      lastEditStreamSeq: 300,
      editHead: "h7",
    });
  });

  it("waits while the edit log is behind the stream, so the head it records covers every stored edit", () => {
    expect(tombstoneFor("doc-1", purge, { seq: 6, streamSeq: 290, hash: "h6" }, 300)).toBeUndefined();
    expect(tombstoneFor("doc-1", purge, undefined, 300)).toBeUndefined();
  });

  it("for a document never edited (or whose stream was already purged by an earlier try), records the log's head or genesis", () => {
    expect(tombstoneFor("doc-1", { ...purge, by: null }, undefined, undefined)).toMatchObject({ lastEditSeq: 0, lastEditStreamSeq: 0, editHead: GENESIS_HASH });
    expect(tombstoneFor("doc-1", { ...purge, by: null }, undefined, undefined)).not.toHaveProperty("purgedBy");
    expect(tombstoneFor("doc-1", purge, { seq: 7, streamSeq: 300, hash: "h7" }, undefined)).toMatchObject({ lastEditSeq: 7, editHead: "h7" });
  });
});
