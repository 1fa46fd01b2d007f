import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import { BoardChanges } from "../src/board-changes.ts";

/** An edit made on `source` by someone: the update it produced. */
function edit(source: Y.Doc, change: (board: Y.Map<unknown>) => void): Uint8Array {
  const before = Y.encodeStateVector(source);
  source.transact(() => change(source.getMap("board")));
  return Y.encodeStateAsUpdate(source, before);
}

function card(fields: Record<string, unknown>): Y.Map<unknown> {
  const m = new Y.Map<unknown>();
  for (const [k, v] of Object.entries(fields)) {
    if (k === "text") {
      const t = new Y.Text();
      t.insert(0, v as string);
      m.set(k, t);
    } else m.set(k, v);
  }
  return m;
}

describe("a board's changes over a range of edits", () => {
  it("given edits by several people, when followed, then each card's change names the people whose edits touched it", () => {
    const source = new Y.Doc();
    const start = new Y.Doc();
    Y.applyUpdate(start, edit(source, (b) => {
      b.set("a", card({ kind: "note", text: "Plan", x: 0, y: 0, w: 200, h: 160 }));
      b.set("gone", card({ kind: "note", text: "Old", x: 0, y: 400, w: 200, h: 160 }));
    }));
    const changes = new BoardChanges(start);
    const apply = (who: string, update: Uint8Array) => {
      changes.next(who);
      Y.applyUpdate(start, update);
    };
    apply("ann", edit(source, (b) => ((b.get("a") as Y.Map<unknown>).get("text") as Y.Text).insert(4, " B")));
    apply("ben", edit(source, (b) => (b.get("a") as Y.Map<unknown>).set("x", 120)));
    apply("ben", edit(source, (b) => b.set("t", card({ kind: "task", text: "Ship", done: false, x: 0, y: 200, w: 240, h: 84 }))));
    apply("cat", edit(source, (b) => b.delete("gone")));
    const result = changes.result()!;
    expect(result.map((c) => [c.cardId, c.change, c.aspects, c.authors])).toEqual([
      ["t", "added", [], ["ben"]],
      ["a", "changed", ["moved", "text"], ["ann", "ben"]],
      ["gone", "deleted", [], ["cat"]],
    ]);
    expect(result[1]!.before!.text).toBe("Plan");
    expect(result[1]!.after!.text).toBe("Plan B");
    changes.destroy();
  });

  it("given a text document, when followed, then it has no board changes and no board is made in it", () => {
    const doc = new Y.Doc();
    doc.getXmlFragment("default").insert(0, [new Y.XmlText("words")]);
    const changes = new BoardChanges(doc);
    expect(changes.result()).toBeUndefined();
    expect(doc.share.has("board")).toBe(false);
  });
});
