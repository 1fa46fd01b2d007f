import { describe, expect, it } from "vitest";
import { AppError, GENESIS_HASH } from "@palimpsest/contracts";
import { decodeCursor, encodeCursor, type Cursor } from "../src/audit-cursor.ts";

const cursor: Cursor = {
  v: 1,
  docId: "doc-1",
  editCount: 12,
  editBound: 40,
  editLast: 41,
  eventBound: 7,
  fileBound: 9,
  edit: { next: 20, seq: 5, hash: "a".repeat(64) },
  event: { next: 3, seq: 2, hash: GENESIS_HASH },
  skip: 17,
  cpNext: 0,
  cpLast: -1,
};

function refusal(text: string, docId: string): AppError {
  try {
    decodeCursor(text, docId);
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error("the cursor was accepted");
}

describe("audit cursor", () => {
  it("given a cursor, when it is encoded and decoded for its document, then it comes back unchanged", () => {
    const text = encodeCursor(cursor);
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(text, "doc-1")).toEqual(cursor);
  });

  it("given text that is not a cursor, when it is decoded, then it is refused with VALIDATION_FAILED", () => {
    for (const text of ["", "not base64 at all!", Buffer.from("{").toString("base64url"), Buffer.from("null").toString("base64url")]) {
      const err = refusal(text, "doc-1");
      expect(err.code).toBe("VALIDATION_FAILED");
      expect(err.message).toBe("cursor is not valid");
    }
  });

  it("given a cursor with a field out of shape, when it is decoded, then it is refused with VALIDATION_FAILED", () => {
    const broken: unknown[] = [
      { ...cursor, v: 2 },
      { ...cursor, editCount: -1 },
      { ...cursor, skip: 1.5 },
      { ...cursor, edit: { ...cursor.edit, hash: "not-a-hash" } },
      { ...cursor, event: undefined },
    ];
    for (const c of broken) {
      const err = refusal(Buffer.from(JSON.stringify(c)).toString("base64url"), "doc-1");
      expect(err.code).toBe("VALIDATION_FAILED");
    }
  });

  it("given another document's cursor, when it is decoded, then it is refused with VALIDATION_FAILED", () => {
    const err = refusal(encodeCursor(cursor), "doc-2");
    expect(err.code).toBe("VALIDATION_FAILED");
    expect(err.message).toBe("cursor belongs to another document");
  });
});
