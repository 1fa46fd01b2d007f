import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import { fromHtml, toHtml } from "../src/doc-formats/html.ts";
import { fromMarkdown, toMarkdown } from "../src/doc-formats/markdown.ts";
import { fragmentToJson, jsonToDoc } from "../src/doc-formats/prosemirror.ts";
import { p, sample, text } from "./doc-sample.ts";

describe("document formats - ProseMirror JSON and Yjs", () => {
  it("writes nodes into an XmlFragment and reads the same JSON back", () => {
    const doc = jsonToDoc(sample, "default");
    expect(fragmentToJson(doc.getXmlFragment("default"))).toEqual(sample);
    // The same through a Yjs update, as another client receives it.
    const copy = new Y.Doc();
    Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc));
    expect(fragmentToJson(copy.getXmlFragment("default"))).toEqual(sample);
  });

  it("reads marks as y-prosemirror stores them, attributes and all", () => {
    const doc = new Y.Doc();
    const para = new Y.XmlElement("paragraph");
    doc.getXmlFragment("default").insert(0, [para]);
    const t = new Y.XmlText();
    para.insert(0, [t]);
    t.insert(0, "go", { link: { href: "https://a.example/", target: "_blank", class: null }, bold: {} });
    expect(fragmentToJson(doc.getXmlFragment("default"))).toEqual([p(text("go", [{ type: "link", attrs: { href: "https://a.example/", target: "_blank" } }, { type: "bold" }]))]);
  });
});

describe("document formats - Markdown", () => {
  it("round-trips every node and mark", () => {
    const md = toMarkdown(sample);
    expect(fromMarkdown(md)).toEqual(sample);
    expect(toMarkdown(fromMarkdown(md))).toBe(md);
  });

  it("writes checklists, quotes and fences as GFM", () => {
    const md = toMarkdown(sample);
    expect(md).toContain("- [x] done\n- [ ] to do");
    expect(md).toContain("> A quote");
    expect(md).toContain("```ts\nconst a = 1;");
    expect(md).toContain("![a cat](https://example.com/cat.png \"Cat\")");
    expect(md).toContain("- two\n  - nested");
  });

  it("keeps text that looks like Markdown syntax as text, at the start of any line too", () => {
    const tricky = [p(text("- not a list"), { type: "hardBreak" }, text("1. nor this"), { type: "hardBreak" }, text("# nor a heading, > nor a quote")), p(text("==="))];
    expect(fromMarkdown(toMarkdown(tricky))).toEqual(tricky);
  });

  it("drops raw HTML and unsafe addresses from imported Markdown", () => {
    const nodes = fromMarkdown('<script>alert(1)</script>\n\nhi <img src=x onerror=alert(1)> [click](javascript:alert(1)) ![x](javascript:alert(2))\n');
    const json = JSON.stringify(nodes);
    expect(json).not.toMatch(/script|onerror|javascript/i);
    expect(nodes).toEqual([p(text("hi  click x"))]);
  });
});

describe("document formats - addresses in exports", () => {
  it("writes no unsafe address another client may have stored", () => {
    const stored = [p(text("run", [{ type: "link", attrs: { href: "javascript:alert(1)" } }])), { type: "image", attrs: { src: "javascript:alert(2)", alt: "x" } }];
    expect(toMarkdown(stored)).not.toContain("javascript");
    expect(toHtml(stored, "t")).not.toContain("javascript");
  });
});

describe("document formats - HTML", () => {
  it("round-trips every node and mark", () => {
    const html = toHtml(sample, "Plan");
    expect(fromHtml(html)).toEqual(sample);
    expect(toHtml(fromHtml(html), "Plan")).toBe(html);
  });

  it("sanitizes: no scripts, handlers, javascript: links or foreign attributes survive", () => {
    const nodes = fromHtml(
      '<h1 onclick="x()">Title<script>alert(1)</script></h1><p style="color:red">a <a href="javascript:alert(1)">bad</a> <a href=" JaVa\tScript:alert(2)">worse</a> <a href="https://ok.example/">good</a></p>' +
        '<img src="x" onerror="alert(1)"><img src="data:image/png;base64,AAAA"><iframe src="https://evil.example"></iframe><style>p{}</style><p>end</p>',
    );
    expect(nodes).toEqual([
      { type: "heading", attrs: { level: 1 }, content: [text("Title")] },
      p(text("a bad worse "), text("good", [{ type: "link", attrs: { href: "https://ok.example/" } }])),
      p(text("end")),
    ]);
  });

  it("reads checklists as the editor and other apps write them", () => {
    expect(fromHtml('<ul><li><input type="checkbox" checked> yes</li><li><input type="checkbox"> no</li></ul>')).toEqual([
      { type: "taskList", content: [{ type: "taskItem", attrs: { checked: true }, content: [p(text("yes"))] }, { type: "taskItem", attrs: { checked: false }, content: [p(text("no"))] }] },
    ]);
  });
});
