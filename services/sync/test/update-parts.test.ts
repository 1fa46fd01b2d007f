import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import { splitUpdate } from "../src/update-parts.ts";

/** Two writers' edits to text, a map and nested types, with deletions: a catch-up after a day offline. */
function busyDocument(): Y.Doc {
  const a = new Y.Doc();
  const b = new Y.Doc();
  let seed = 7;
  const next = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % Math.max(1, n);
  for (let round = 0; round < 20; round++) {
    for (const d of [a, b]) {
      const t = d.getText("t");
      for (let i = 0; i < 50; i++) t.insert(next(t.length + 1), `word ${round}.${i} `);
      if (t.length > 40) t.delete(next(t.length - 20), 15);
      d.getMap("m").set(`k${round}`, { round, list: [1, 2, 3] });
      const frag = d.getXmlFragment("x");
      const p = new Y.XmlElement("paragraph");
      p.insert(0, [new Y.XmlText(`para ${round}`)]);
      frag.insert(frag.length, [p]);
    }
    Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)));
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)));
  }
  return a;
}

function contents(d: Y.Doc) {
  return { t: d.getText("t").toString(), m: d.getMap("m").toJSON(), x: d.getXmlFragment("x").toString() };
}

describe("cutting a catch-up into parts", () => {
  it("given an update above the part size, then every part is within it or one struct, and the parts applied in order make the same document", () => {
    const source = busyDocument();
    const update = Y.encodeStateAsUpdate(source);
    const parts = splitUpdate(update, 2048);
    expect(parts.length).toBeGreaterThan(5);
    // A part's own header (its client groups, their first clocks) comes on top of its structs.
    for (const p of parts) expect(p.byteLength <= 2048 + 64 || Y.decodeUpdate(p).structs.length === 1).toBe(true);
    const copy = new Y.Doc();
    for (const p of parts) Y.applyUpdate(copy, p);
    expect(contents(copy)).toEqual(contents(source));
    expect(Y.encodeStateVector(copy)).toEqual(Y.encodeStateVector(source));
    // Nothing waits for something missing: the deletions came last, after what they refer to.
    expect(copy.store.pendingStructs).toBeNull();
    expect(copy.store.pendingDs).toBeNull();
  });

  it("given parts applied in any order, then the document still converges", () => {
    const source = busyDocument();
    const parts = splitUpdate(Y.encodeStateAsUpdate(source), 1024);
    const copy = new Y.Doc();
    for (const p of [...parts].reverse()) Y.applyUpdate(copy, p);
    expect(contents(copy)).toEqual(contents(source));
  });

  it("given an update within the part size, then it is left whole", () => {
    const d = new Y.Doc();
    d.getText("t").insert(0, "short");
    const update = Y.encodeStateAsUpdate(d);
    expect(splitUpdate(update, 1024)).toEqual([update]);
  });
});
