import type { PmNode } from "../src/doc-formats/prosemirror.ts";

export const text = (t: string, ...marks: PmNode["marks"][]): PmNode => (marks[0] ? { type: "text", text: t, marks: marks[0] } : { type: "text", text: t });
export const p = (...content: PmNode[]): PmNode => ({ type: "paragraph", content });

/** Every node and mark the editor writes, in the canonical form an import produces. */
export const sample: PmNode[] = [
  { type: "heading", attrs: { level: 1 }, content: [text("Release plan")] },
  p(text("Some "), text("bold", [{ type: "bold" }]), text(", "), text("italic", [{ type: "italic" }]), text(" and "), text("both", [{ type: "bold" }, { type: "italic" }]), text(", "), text("x < y & z", [{ type: "code" }]), text(", "), text("gone", [{ type: "strike" }]), text(" and a "), text("link", [{ type: "link", attrs: { href: "https://example.com/a?b=1" } }]), text(". Stars * and _under_ stay text.")),
  { type: "heading", attrs: { level: 2 }, content: [text("Lists")] },
  { type: "bulletList", content: [{ type: "listItem", content: [p(text("one"))] }, { type: "listItem", content: [p(text("two")), { type: "bulletList", content: [{ type: "listItem", content: [p(text("nested"))] }] }] }] },
  { type: "orderedList", content: [{ type: "listItem", content: [p(text("first"))] }, { type: "listItem", content: [p(text("second"))] }] },
  { type: "taskList", content: [{ type: "taskItem", attrs: { checked: true }, content: [p(text("done"))] }, { type: "taskItem", attrs: { checked: false }, content: [p(text("to do"))] }] },
  { type: "blockquote", content: [p(text("A quote"))] },
  { type: "codeBlock", attrs: { language: "ts" }, content: [text("const a = 1;\nif (a < 2) console.log(`*`);")] },
  { type: "image", attrs: { src: "https://example.com/cat.png", alt: "a cat", title: "Cat" } },
  p(text("line one"), { type: "hardBreak" }, text("line two")),
  { type: "horizontalRule" },
  p(text("The end.")),
];

