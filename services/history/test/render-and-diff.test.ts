import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import { AttributedDiff } from "../src/attributed-diff.ts";
import { renderDocument } from "../src/render-document.ts";
import { restoreUpdate } from "../src/restore.ts";

function richDoc(): Y.Doc {
  const doc = new Y.Doc();
  const f = doc.getXmlFragment("default");
  const h = new Y.XmlElement("heading");
  h.setAttribute("level", "2");
  h.insert(0, [new Y.XmlText("Plan")]);
  const p = new Y.XmlElement("paragraph");
  const t = new Y.XmlText();
  p.insert(0, [t]);
  const list = new Y.XmlElement("bulletList");
  const item = new Y.XmlElement("listItem");
  const ip = new Y.XmlElement("paragraph");
  ip.insert(0, [new Y.XmlText("one")]);
  item.insert(0, [ip]);
  list.insert(0, [item]);
  f.insert(0, [h, p, list]);
  t.insert(0, "Ship it ");
  t.insert(8, "now", { bold: true });
  return doc;
}

describe("rendering", () => {
  it("renders rich text as text and Markdown", () => {
    const r = renderDocument(richDoc());
    expect(r.text).toBe("Plan\nShip it now\none");
    expect(r.markdown).toBe("## Plan\n\nShip it **now**\n\n- one");
  });

  it("renders checklists and images in Markdown", () => {
    const doc = new Y.Doc();
    const tasks = new Y.XmlElement("taskList");
    const done = new Y.XmlElement("taskItem");
    done.setAttribute("checked", true as unknown as string);
    const dp = new Y.XmlElement("paragraph");
    dp.insert(0, [new Y.XmlText("write")]);
    done.insert(0, [dp]);
    const open = new Y.XmlElement("taskItem");
    open.setAttribute("checked", false as unknown as string);
    const op = new Y.XmlElement("paragraph");
    op.insert(0, [new Y.XmlText("ship")]);
    open.insert(0, [op]);
    tasks.insert(0, [done, open]);
    const image = new Y.XmlElement("image");
    image.setAttribute("src", "/api/files/f1");
    image.setAttribute("alt", "chart");
    doc.getXmlFragment("default").insert(0, [tasks, image]);
    const r = renderDocument(doc);
    expect(r.markdown).toBe("- [x] write\n- [ ] ship\n\n![chart](/api/files/f1)");
    expect(r.text).toBe("write\nship\nchart");
  });

  it("renders a board as JSON", () => {
    const doc = new Y.Doc();
    doc.getMap("board").set("c1", { kind: "note", text: "hi" });
    expect(renderDocument(doc).board).toEqual({ c1: { kind: "note", text: "hi" } });
  });
});

describe("restore update", () => {
  it("turns the current rich text into the target's, and merges with concurrent edits", () => {
    const target = richDoc();
    const current = new Y.Doc();
    Y.applyUpdate(current, Y.encodeStateAsUpdate(target));
    const p = current.getXmlFragment("default").get(1) as Y.XmlElement;
    (p.get(0) as Y.XmlText).insert(0, "Do not ");
    const update = restoreUpdate(current, target);
    expect(update).not.toBeNull();
    expect(renderDocument(current).text).toBe(renderDocument(target).text);
    // Already equal: nothing to store.
    expect(restoreUpdate(current, target)).toBeNull();
  });
});

describe("attributed diff", () => {
  it("keeps deleted original text, drops text inserted and deleted within the range", () => {
    const d = new AttributedDiff("abc");
    d.apply("abc", "aXbc", "u1");
    d.apply("aXbc", "aXYbc", "u2");
    d.apply("aXYbc", "aYbc", "u2");
    d.apply("aYbc", "aYc", "u1");
    expect(d.result()).toEqual([
      { kind: "same", text: "a" },
      { kind: "insert", text: "Y", userId: "u2" },
      { kind: "delete", text: "b", userId: "u1" },
      { kind: "same", text: "c" },
    ]);
  });
});
