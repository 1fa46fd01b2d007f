import { describe, expect, it } from "vitest";
import { boardCardSummary, diffBoards } from "../src/board-diff.ts";

const note = (text: string, extra: Record<string, unknown> = {}) => ({ kind: "note", text, x: 10, y: 10, w: 200, h: 160, z: 1, color: "yellow", ...extra });

describe("the changes between two versions of a board", () => {
  it("given a card only in the newer version, then it was added; only in the older, deleted; with the authors that touched it", () => {
    const changes = diffBoards({ a: note("Old") }, { b: note("New") }, new Map([["b", ["ann"]], ["a", ["ben"]]]));
    expect(changes).toEqual([
      { cardId: "b", change: "added", aspects: [], after: boardCardSummary(note("New")), authors: ["ann"] },
      { cardId: "a", change: "deleted", aspects: [], before: boardCardSummary(note("Old")), authors: ["ben"] },
    ]);
  });

  it("given a card in both, then each thing a person sees that changed is named, and stacking alone is no change", () => {
    const before = { a: note("Plan"), t: { kind: "task", text: "Ship", done: false, x: 0, y: 300 }, l: { kind: "link", title: "Docs", url: "https://a.example", x: 0, y: 500 } };
    const after = {
      a: note("Plan B", { x: 50, w: 300, color: "pink", z: 9 }),
      t: { kind: "task", text: "Ship", done: true, x: 0, y: 300 },
      l: { kind: "link", title: "Docs", url: "https://b.example", x: 0, y: 500, z: 4 },
    };
    expect(diffBoards(before, after).map((c) => [c.cardId, c.change, c.aspects])).toEqual([
      ["a", "changed", ["moved", "resized", "text", "color"]],
      ["t", "changed", ["done"]],
      ["l", "changed", ["target"]],
    ]);
    expect(diffBoards({ a: note("x") }, { a: note("x", { z: 7 }) })).toEqual([]);
    expect(diffBoards({ t: { kind: "task", done: true } }, { t: { kind: "task", done: false } })[0]?.aspects).toEqual(["undone"]);
  });

  it("given cards anywhere, then the list reads like the board: added, changed, deleted, each top to bottom and left to right", () => {
    const changes = diffBoards({ d: note("gone"), c: note("c") }, { c: note("c2"), low: note("low", { y: 900 }), high: note("high", { y: 5, x: 400 }), left: note("left", { y: 5, x: 0 }) });
    expect(changes.map((c) => c.cardId)).toEqual(["left", "high", "low", "c", "d"]);
  });

  it("given what other clients may have written (missing fields, odd values, no board at all), then it reads them as empty", () => {
    expect(boardCardSummary({ kind: 3, x: "no", done: "yes" })).toEqual({ kind: "note", text: "", x: 0, y: 0, w: 0, h: 0, done: false, color: "", url: "", fileId: "" });
    expect(diffBoards(undefined, null)).toEqual([]);
    expect(diffBoards([], { a: 1 }).map((c) => c.change)).toEqual(["added"]);
  });
});
