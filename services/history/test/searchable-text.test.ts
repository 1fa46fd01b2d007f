import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import { searchableText } from "../src/render-document.ts";

describe("searchable text", () => {
  it("given rich text, when made searchable, then each paragraph is a line", () => {
    const doc = new Y.Doc();
    const p = new Y.XmlElement("paragraph");
    p.insert(0, [new Y.XmlText("quince jam")]);
    doc.getXmlFragment("default").insert(0, [p]);
    expect(searchableText(doc)).toBe("quince jam");
  });

  it("given a board, when made searchable, then every card's words are there, and nothing else about the cards", () => {
    const doc = new Y.Doc();
    const board = doc.getMap("board");
    const note = new Y.Map<unknown>();
    note.set("kind", "note");
    note.set("text", new Y.Text("buy saffron"));
    note.set("color", "yellow");
    const link = new Y.Map<unknown>();
    link.set("kind", "link");
    link.set("title", new Y.Text("Recipe archive"));
    link.set("url", "https://example.com/secret-path");
    board.set("c1", note);
    board.set("c2", link);
    board.set("c3", { kind: "task", text: "plain object task" });
    const text = searchableText(doc);
    expect(text.split("\n").sort()).toEqual(["Recipe archive", "buy saffron", "plain object task"]);
    expect(text).not.toContain("example.com");
  });
});
