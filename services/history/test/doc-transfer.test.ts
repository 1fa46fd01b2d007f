import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import { AppError, type DocArchive } from "@palimpsest/contracts";
import { contentNodes, fileNameOf, prepareImport } from "../src/doc-transfer.ts";
import { fragmentToJson, jsonToDoc } from "../src/doc-formats/prosemirror.ts";
import { sample } from "./doc-sample.ts";

function archiveOf(state: Uint8Array, extra: Partial<DocArchive> = {}): string {
  const archive: DocArchive = {
    format: "palimpsest-archive",
    version: 1,
    document: { title: "Kept", kind: "text", exportedAt: new Date().toISOString(), version: 3 },
    comments: [],
    yjsState: Buffer.from(state).toString("base64"),
    ...extra,
  };
  return JSON.stringify(archive);
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (err) {
    return err instanceof AppError ? err.code : `not an AppError: ${String(err)}`;
  }
  return undefined;
}

describe("import - preparing a file", () => {
  it("takes an archive's state as it is, with its title and kind", () => {
    const doc = jsonToDoc(sample, "default");
    const prepared = prepareImport("archive", archiveOf(Y.encodeStateAsUpdate(doc)), undefined);
    expect(prepared).toMatchObject({ title: "Kept", kind: "text", comments: [] });
    const copy = new Y.Doc();
    Y.applyUpdate(copy, prepared.update!);
    expect(fragmentToJson(copy.getXmlFragment("default"))).toEqual(sample);
    expect(prepareImport("archive", archiveOf(Y.encodeStateAsUpdate(doc)), "Renamed").title).toBe("Renamed");
  });

  it("names Markdown and HTML after their first heading, and an empty file has no content to store", () => {
    expect(prepareImport("md", "Intro\n\n## Plan *B*\n", undefined).title).toBe("Plan B");
    expect(prepareImport("html", "<p>no heading</p>", undefined).title).toBe("Imported document");
    expect(prepareImport("md", "", undefined).update).toBeNull();
  });

  it("refuses archives that are not whole: broken JSON, wrong shape, a state that does not decode or builds on missing changes", () => {
    const doc = new Y.Doc();
    doc.getText("t").insert(0, "a");
    const sv = Y.encodeStateVector(doc);
    doc.getText("t").insert(1, "b");
    expect(codeOf(() => prepareImport("archive", "{", undefined))).toBe("MALFORMED_JSON");
    expect(codeOf(() => prepareImport("archive", JSON.stringify({ format: "palimpsest-archive" }), undefined))).toBe("VALIDATION_FAILED");
    expect(codeOf(() => prepareImport("archive", archiveOf(new Uint8Array([255, 255, 255, 1])), undefined))).toBe("MALFORMED_UPDATE");
    expect(codeOf(() => prepareImport("archive", archiveOf(Y.encodeStateAsUpdate(doc, sv)), undefined))).toBe("MALFORMED_UPDATE");
  });

  it("refuses documents nested deeper than an import may be", () => {
    const doc = new Y.Doc();
    let parent: Y.XmlFragment | Y.XmlElement = doc.getXmlFragment("default");
    for (let i = 0; i < 200; i++) {
      const child: Y.XmlElement = new Y.XmlElement("blockquote");
      parent.insert(0, [child]);
      parent = child;
    }
    expect(codeOf(() => prepareImport("archive", archiveOf(Y.encodeStateAsUpdate(doc)), undefined))).toBe("UPDATE_TOO_DEEP");
    expect(codeOf(() => prepareImport("html", "<ul><li>".repeat(200), undefined))).toBe("UPDATE_TOO_DEEP");
  });
});

describe("export - names and boards", () => {
  it("makes file names from titles", () => {
    expect(fileNameOf("Release plan: Q3 (draft)", "md")).toBe("Release-plan-Q3-draft.md");
    expect(fileNameOf("???", "archive")).toBe("document.palimpsest.json");
  });

  it("lists a board's cards", () => {
    const doc = new Y.Doc();
    const card = new Y.Map<unknown>();
    doc.getMap("board").set("c1", card);
    card.set("kind", "link");
    card.set("text", "Spec");
    card.set("url", "https://example.com/spec");
    expect(contentNodes(doc, "board")).toEqual([
      {
        type: "bulletList",
        content: [{ type: "listItem", content: [{ type: "paragraph", content: [{ type: "text", text: "Spec" }, { type: "text", text: " https://example.com/spec", marks: [{ type: "link", attrs: { href: "https://example.com/spec" } }] }] }] }],
      },
    ]);
  });
});
