import { describe, expect, it } from "vitest";
import { prefixWithin, replyBytes } from "../src/audit-reply-size.ts";

describe("audit reply size", () => {
  it("given text with quotes, backslashes, newlines and multi-byte characters, when measured, then it costs what JSON.stringify makes of it", () => {
    const line = `{"a":"b\\\\c","é":"😀"}\n`;
    expect(replyBytes(line)).toBe(Buffer.byteLength(JSON.stringify(line)) - 2);
  });

  it("given a line longer than the room, when cut, then the piece fits and is a prefix", () => {
    const line = `${JSON.stringify({ text: "x".repeat(500), q: '"'.repeat(50) })}\n`;
    const piece = prefixWithin(line, 120);
    expect(replyBytes(piece)).toBeLessThanOrEqual(120);
    expect(line.startsWith(piece)).toBe(true);
    expect(piece.length).toBeGreaterThan(0);
  });

  it("given lines mixing surrogate pairs with other characters, when cut at any room, then no piece ends inside a pair", () => {
    const line = `${JSON.stringify({ t: "a😀b😀😀c\"😀" })}\n`;
    for (let room = 2; room < replyBytes(line); room++) {
      const piece = prefixWithin(line, room);
      expect(line.startsWith(piece)).toBe(true);
      expect(replyBytes(piece)).toBeLessThanOrEqual(room);
      const last = piece.charCodeAt(piece.length - 1);
      expect(last >= 0xd800 && last <= 0xdbff).toBe(false);
    }
  });
});
