import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import { DIFF_CHANGE_MARK, type RichDiff, type RichDiffNode } from "@palimpsest/contracts";
import { RichDiffBuilder } from "../src/rich-diff.ts";

/** Two people editing one document, each in their own Y.Doc, as two browsers do. */
function twoEditors() {
  const alice = new Y.Doc();
  const bob = new Y.Doc();
  const edits: { update: Uint8Array; userId: string }[] = [];
  const as = (doc: Y.Doc, userId: string, change: (f: Y.XmlFragment) => void) => {
    const before = Y.encodeStateVector(doc);
    change(doc.getXmlFragment("default"));
    const update = Y.encodeStateAsUpdate(doc, before);
    edits.push({ update, userId });
    for (const other of [alice, bob]) if (other !== doc) Y.applyUpdate(other, update);
  };
  return {
    alice: (change: (f: Y.XmlFragment) => void) => as(alice, "alice", change),
    bob: (change: (f: Y.XmlFragment) => void) => as(bob, "bob", change),
    /** Stores a person's whole state again, as a reconnecting client's sync step 2 is stored. */
    resend: (userId: "alice" | "bob") => edits.push({ update: Y.encodeStateAsUpdate(userId === "alice" ? alice : bob), userId }),
    /** The diff of everything after the first `base` edits. */
    diff(base: number): RichDiff {
      const start = new Y.Doc();
      for (const e of edits.slice(0, base)) Y.applyUpdate(start, e.update);
      const builder = new RichDiffBuilder(start);
      for (const e of edits.slice(base)) builder.apply(e.update, e.userId);
      const result = builder.result();
      builder.destroy();
      if (!result) throw new Error("no rich text");
      return result;
    },
  };
}

function paragraph(text: string, type = "paragraph"): Y.XmlElement {
  const p = new Y.XmlElement(type);
  p.insert(0, [new Y.XmlText(text)]);
  return p;
}

const textOf = (f: Y.XmlFragment, i: number): Y.XmlText => (f.get(i) as Y.XmlElement).get(0) as Y.XmlText;

/** The text runs of a block as [text, change kind, author, other marks]. */
function runs(node: RichDiffNode): [string, string | null, string | null, string[]][] {
  return (node.content ?? []).map((t) => {
    const change = t.marks?.find((m) => m.type === DIFF_CHANGE_MARK);
    return [t.text ?? "", (change?.attrs?.["kind"] as string) ?? null, (change?.attrs?.["userId"] as string) ?? null, (t.marks ?? []).filter((m) => m !== change).map((m) => m.type)];
  });
}

const blocks = (d: RichDiff): RichDiffNode[] => d.content.content ?? [];

describe("rich diff", () => {
  it("given a paragraph, when one person inserts and another deletes inside it, then the text keeps its place with each change marked by its author", () => {
    const e = twoEditors();
    e.alice((f) => f.insert(0, [paragraph("Ship it soon"), paragraph("Plan", "heading")]));
    e.bob((f) => textOf(f, 0).insert(8, "very "));
    e.alice((f) => textOf(f, 0).delete(0, 5));
    const d = e.diff(1);
    expect(blocks(d).map((b) => b.type)).toEqual(["paragraph", "heading"]);
    expect(runs(blocks(d)[0]!)).toEqual([
      ["Ship ", "delete", "alice", []],
      ["it ", null, null, []],
      ["very ", "insert", "bob", []],
      ["soon", null, null, []],
    ]);
    expect(runs(blocks(d)[1]!)).toEqual([["Plan", null, null, []]]);
    expect(d.totals).toEqual([
      { userId: "alice", inserted: 0, deleted: 5, formatted: 0 },
      { userId: "bob", inserted: 5, deleted: 0, formatted: 0 },
    ]);
  });

  it("given text, when a word is made bold, then it shows bold and reformatted by whoever did it", () => {
    const e = twoEditors();
    e.alice((f) => f.insert(0, [paragraph("make this bold")]));
    e.bob((f) => textOf(f, 0).format(10, 4, { bold: {} }));
    const d = e.diff(1);
    expect(runs(blocks(d)[0]!)).toEqual([
      ["make this ", null, null, []],
      ["bold", "format", "bob", ["bold"]],
    ]);
    expect(d.totals).toEqual([{ userId: "bob", inserted: 0, deleted: 0, formatted: 4 }]);
  });

  it("given a paragraph, when the editor replaces it by a heading with the same text, then one heading shows, reformatted, not a deletion and an insertion", () => {
    const e = twoEditors();
    e.alice((f) => f.insert(0, [paragraph("Results"), paragraph("body")]));
    // What y-prosemirror writes when a block changes kind: the old element out, a new one in.
    e.bob((f) => {
      f.delete(0, 1);
      const h = paragraph("Results", "heading");
      h.setAttribute("level", 2 as unknown as string);
      f.insert(0, [h]);
    });
    const d = e.diff(1);
    expect(blocks(d).map((b) => [b.type, b.attrs])).toEqual([
      ["heading", { level: 2 }],
      ["paragraph", undefined],
    ]);
    expect(runs(blocks(d)[0]!)).toEqual([["Results", "format", "bob", []]]);
    expect(d.totals).toEqual([{ userId: "bob", inserted: 0, deleted: 0, formatted: 7 }]);
  });

  it("given a block replaced by one of another kind placed apart from it among other new blocks, then it still shows as one reformatted block", () => {
    const e = twoEditors();
    e.alice((f) => f.insert(0, [paragraph("Plan")]));
    e.bob((f) => {
      f.delete(0, 1);
      f.insert(0, [paragraph("Plan", "heading")]);
      f.insert(1, [paragraph("next")]);
    });
    const d = e.diff(1);
    expect(blocks(d).map((b) => [b.type, ...runs(b)[0]!])).toEqual([
      ["heading", "Plan", "format", "bob", []],
      ["paragraph", "next", "insert", "bob", []],
    ]);
  });

  it("given a task, when it is ticked, then its text shows reformatted by whoever ticked it", () => {
    const e = twoEditors();
    e.alice((f) => {
      const list = new Y.XmlElement("taskList");
      const item = new Y.XmlElement("taskItem");
      item.setAttribute("checked", false as unknown as string);
      item.insert(0, [paragraph("write")]);
      list.insert(0, [item]);
      f.insert(0, [list]);
    });
    e.bob((f) => ((f.get(0) as Y.XmlElement).get(0) as Y.XmlElement).setAttribute("checked", true as unknown as string));
    const d = e.diff(1);
    const item = blocks(d)[0]!.content![0]!;
    expect(item.attrs).toEqual({ checked: true });
    expect(runs(item.content![0]!)).toEqual([["write", "format", "bob", []]]);
  });

  it("given a heading's level changed by one person and a word in it made bold by another, then each change keeps its own author", () => {
    const e = twoEditors();
    e.alice((f) => {
      const h = paragraph("big news", "heading");
      h.setAttribute("level", 1 as unknown as string);
      f.insert(0, [h]);
    });
    e.alice((f) => (f.get(0) as Y.XmlElement).setAttribute("level", 2 as unknown as string));
    e.bob((f) => textOf(f, 0).format(0, 3, { bold: {} }));
    const d = e.diff(1);
    expect(runs(blocks(d)[0]!)).toEqual([
      ["big", "format", "bob", ["bold"]],
      [" news", "format", "alice", []],
    ]);
    expect(d.totals).toEqual([
      { userId: "alice", inserted: 0, deleted: 0, formatted: 5 },
      { userId: "bob", inserted: 0, deleted: 0, formatted: 3 },
    ]);
  });

  it("given a block rewritten with the same text and formatting (as a restore writes it), then it shows unchanged", () => {
    const e = twoEditors();
    e.alice((f) => f.insert(0, [paragraph("same words")]));
    e.bob((f) => {
      f.delete(0, 1);
      f.insert(0, [paragraph("same words")]);
    });
    const d = e.diff(1);
    expect(runs(blocks(d)[0]!)).toEqual([["same words", null, null, []]]);
    expect(d.totals).toEqual([]);
  });

  it("given a paragraph deleted whole and one added, then both show, struck through and marked added, with their authors", () => {
    const e = twoEditors();
    e.alice((f) => f.insert(0, [paragraph("old"), paragraph("kept")]));
    e.alice((f) => f.delete(0, 1));
    e.bob((f) => f.insert(1, [paragraph("new", "heading")]));
    const d = e.diff(1);
    expect(blocks(d).map((b) => [b.type, ...runs(b)[0]!])).toEqual([
      ["paragraph", "old", "delete", "alice", []],
      ["paragraph", "kept", null, null, []],
      ["heading", "new", "insert", "bob", []],
    ]);
  });

  it("given neighbouring words deleted by two people, then each deletion keeps its own author", () => {
    const e = twoEditors();
    e.alice((f) => f.insert(0, [paragraph("onetwothree")]));
    e.alice((f) => textOf(f, 0).delete(0, 3));
    e.bob((f) => textOf(f, 0).delete(0, 3));
    const d = e.diff(1);
    expect(runs(blocks(d)[0]!)).toEqual([
      ["one", "delete", "alice", []],
      ["two", "delete", "bob", []],
      ["three", null, null, []],
    ]);
  });

  it("given someone typing on from where the earlier version ends, then only what they typed after it shows as added", () => {
    const e = twoEditors();
    e.alice((f) => f.insert(0, [paragraph("abc")]));
    // Yjs joins consecutive typing of one client into one item: it must be read in two parts.
    e.alice((f) => textOf(f, 0).insert(3, "def"));
    const d = e.diff(1);
    expect(runs(blocks(d)[0]!)).toEqual([
      ["abc", null, null, []],
      ["def", "insert", "alice", []],
    ]);
  });

  it("given a client's catch-up that repeats everything it knows, deletions included, then each deletion stays with whoever made it", () => {
    const e = twoEditors();
    e.alice((f) => f.insert(0, [paragraph("keep drop")]));
    e.alice((f) => textOf(f, 0).delete(4, 5));
    // Bob reconnects and sends his whole state (as a sync step 2 does), with one new word of his.
    e.bob((f) => textOf(f, 0).insert(4, "!"));
    e.resend("bob");
    const d = e.diff(1);
    expect(runs(blocks(d)[0]!)).toEqual([
      ["keep", null, null, []],
      [" drop", "delete", "alice", []],
      ["!", "insert", "bob", []],
    ]);
  });

  it("given an attribute value JSON cannot carry (a BigInt, which Yjs stores), then the diff is still made, with it as text", () => {
    const e = twoEditors();
    e.alice((f) => f.insert(0, [paragraph("odd")]));
    e.bob((f) => (f.get(0) as Y.XmlElement).setAttribute("weight", 10n as unknown as string));
    const d = e.diff(1);
    expect(blocks(d)[0]!.attrs).toEqual({ weight: "10" });
    expect(runs(blocks(d)[0]!)).toEqual([["odd", "format", "bob", []]]);
    expect(() => JSON.stringify(d)).not.toThrow();
  });

  it("given text typed and deleted again within the range, then it does not show", () => {
    const e = twoEditors();
    e.alice((f) => f.insert(0, [paragraph("base")]));
    e.bob((f) => textOf(f, 0).insert(4, " typo"));
    e.bob((f) => textOf(f, 0).delete(4, 5));
    const d = e.diff(1);
    expect(runs(blocks(d)[0]!)).toEqual([["base", null, null, []]]);
  });
});
