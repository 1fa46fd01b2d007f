import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import { UpdateRefused, appliedDepth, measureNesting, type NestingContext } from "../src/update-nesting.ts";

/** The context a room gives: what `doc` holds, nothing accepted in flight. */
function against(doc: Y.Doc): NestingContext {
  const memo = new Map<Y.Item, number>();
  return { depthOf: (id) => appliedDepth(doc.store, id, memo, 1000) };
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
  return Math.max(0, ...measureNesting(d.structs, ctx, max).map((s) => s.depth));
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

  it("accepts updates that build on structs the document does not have yet, counting their depth from what it knows", () => {
    // After a failover a client's next update may build on one another replica stored and this
    // room has not applied yet: refusing it would cut off an honest client.
    const client = new Y.Doc();
    const fragment = client.getXmlFragment("default");
    const leaf = nest(client, fragment, 3);
    const sv = Y.encodeStateVector(client);
    nest(client, leaf as Y.XmlElement, 2);
    const tail = Y.encodeStateAsUpdate(client, sv);
    expect(refusal(() => measure(tail, against(new Y.Doc()), 10))).toBe("accepted");
    expect(measure(tail, against(new Y.Doc()), 10)).toBe(2);
    // Still bounded: what the update adds on its own counts against the limit.
    expect(refusal(() => measure(tail, against(new Y.Doc()), 1))).toBe("too-deep");
  });
});
