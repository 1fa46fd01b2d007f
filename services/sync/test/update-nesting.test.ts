import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import { UpdateRefused, appliedDepth, measureNesting, type NestingContext } from "../src/update-nesting.ts";

/** The context a room gives: what `doc` holds, nothing accepted in flight. */
function against(doc: Y.Doc): NestingContext {
  const memo = new Map<Y.Item, number>();
  return { knownEnd: (client) => Y.getState(doc.store, client), depthOf: (id) => appliedDepth(doc.store, id, memo, 1000) };
}

function nest(doc: Y.Doc, parent: Y.XmlFragment | Y.XmlElement, depth: number): Y.XmlElement | Y.XmlFragment {
  doc.transact(() => {
    for (let i = 0; i < depth; i++) {
      const child: Y.XmlElement = new Y.XmlElement("p");
      parent.insert(0, [child]);
      parent = child;
    }
  });
  return parent;
}

function measure(update: Uint8Array, ctx: NestingContext, max: number): number {
  const d = Y.decodeUpdate(update);
  return Math.max(0, ...measureNesting(d.structs, d.ds, ctx, max).map((s) => s.depth));
}

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof UpdateRefused) return err.reason;
    throw err;
  }
  return "accepted";
}

describe("measureNesting", () => {
  it("measures nesting within one update, deeper than the stack would allow for recursion", () => {
    const src = new Y.Doc();
    nest(src, src.getXmlFragment("default"), 3);
    expect(measure(Y.encodeStateAsUpdate(src), against(new Y.Doc()), 10)).toBe(3);

    const deep = new Y.Doc();
    nest(deep, deep.getXmlFragment("default"), 5_000);
    expect(refusal(() => measure(Y.encodeStateAsUpdate(deep), against(new Y.Doc()), 256))).toBe("too-deep");
  });

  it("adds an update's nesting to the depth its parent already has in the document", () => {
    const server = new Y.Doc();
    const client = new Y.Doc();
    const inner = nest(client, client.getXmlFragment("default"), 200);
    Y.applyUpdate(server, Y.encodeStateAsUpdate(client));
    const sv = Y.encodeStateVector(client);
    nest(client, inner as Y.XmlElement, 100);
    const more = Y.encodeStateAsUpdate(client, sv);
    expect(measure(more, against(server), 300)).toBe(300);
    expect(refusal(() => measure(more, against(server), 299))).toBe("too-deep");
    Y.applyUpdate(server, more);
    // Text typed next to existing content sits at its neighbour's depth.
    const sv2 = Y.encodeStateVector(client);
    client.getText("t").insert(0, "a");
    Y.applyUpdate(server, Y.encodeStateAsUpdate(client, sv2));
    const sv3 = Y.encodeStateVector(client);
    client.getText("t").insert(1, "b");
    expect(measure(Y.encodeStateAsUpdate(client, sv3), against(server), 300)).toBe(1);
  });

  it("refuses updates that build on structs or deletions the document does not have", () => {
    const client = new Y.Doc();
    client.getText("t").insert(0, "abc");
    const sv = Y.encodeStateVector(client);
    client.getText("t").insert(3, "d");
    const afterGap = Y.encodeStateAsUpdate(client, sv);
    expect(refusal(() => measure(afterGap, against(new Y.Doc()), 10))).toBe("missing-dependency");

    const other = new Y.Doc();
    other.getText("t").insert(0, "x");
    const server = new Y.Doc();
    Y.applyUpdate(server, Y.encodeStateAsUpdate(other));
    // Another client appends after "d", which only it and `client` have seen.
    const third = new Y.Doc();
    Y.applyUpdate(third, Y.encodeStateAsUpdate(client));
    const sv3 = Y.encodeStateVector(third);
    third.getText("t").insert(4, "e");
    expect(refusal(() => measure(Y.encodeStateAsUpdate(third, sv3), against(server), 10))).toBe("missing-dependency");

    // Deleting text the server never got.
    const sv4 = Y.encodeStateVector(client);
    client.getText("t").delete(0, 2);
    const deletion = Y.encodeStateAsUpdate(client, sv4);
    expect(Y.decodeUpdate(deletion).structs).toHaveLength(0);
    expect(refusal(() => measure(deletion, against(server), 10))).toBe("missing-dependency");
    Y.applyUpdate(server, Y.encodeStateAsUpdate(client, Y.encodeStateVector(server)));
    expect(refusal(() => measure(deletion, against(server), 10))).toBe("accepted");
  });
});
