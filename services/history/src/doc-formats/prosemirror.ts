// The rich text as ProseMirror JSON: the form every format converts through. Yjs keeps TipTap's
// nodes as Y.XmlElements named after the node, with its attributes, and its text as Y.XmlText
// whose formatting attributes are the marks (y-prosemirror's mapping), so the two convert
// without the editor's schema; the converters only ever write the nodes and marks below.
import * as Y from "yjs";

export interface PmMark {
  type: string;
  attrs?: Record<string, unknown>;
}

export interface PmNode {
  type: string;
  attrs?: Record<string, unknown>;
  content?: PmNode[];
  text?: string;
  marks?: PmMark[];
}

/** The block nodes of the web editor's schema (web/src/editor, web/src/files/image-extensions.ts). */
export const BlockTypes = ["paragraph", "heading", "bulletList", "orderedList", "listItem", "taskList", "taskItem", "blockquote", "codeBlock", "image", "horizontalRule"] as const;
/** Marks, outermost first: the order Markdown and HTML nest them in. */
export const MarkTypes = ["link", "bold", "italic", "strike", "underline", "code"] as const;
export type MarkType = (typeof MarkTypes)[number];

const markRank = (type: string): number => {
  const i = (MarkTypes as readonly string[]).indexOf(type);
  return i === -1 ? MarkTypes.length : i;
};

export function sortMarks(marks: readonly PmMark[]): PmMark[] {
  return [...marks].sort((a, b) => markRank(a.type) - markRank(b.type) || a.type.localeCompare(b.type));
}

export function sameMark(a: PmMark, b: PmMark): boolean {
  return a.type === b.type && JSON.stringify(a.attrs ?? {}) === JSON.stringify(b.attrs ?? {});
}

type Delta = { insert?: unknown; attributes?: Record<string, unknown> }[];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function textNodes(t: Y.XmlText): PmNode[] {
  const out: PmNode[] = [];
  for (const d of t.toDelta() as Delta) {
    if (typeof d.insert !== "string" || d.insert === "") continue;
    // y-prosemirror names a second mark of one type `type--<hash>`; the type is before the dashes.
    const marks = Object.entries(d.attributes ?? {}).map(([name, value]): PmMark => {
      const type = name.replace(/--.*$/, "");
      return isRecord(value) && Object.keys(value).length > 0 ? { type, attrs: withoutNulls(value) } : { type };
    });
    out.push(marks.length > 0 ? { type: "text", text: d.insert, marks: sortMarks(marks) } : { type: "text", text: d.insert });
  }
  return out;
}

function withoutNulls(attrs: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(attrs).filter(([, v]) => v !== null && v !== undefined));
}

function nodesOf(parent: Y.XmlFragment | Y.XmlElement): PmNode[] {
  const out: PmNode[] = [];
  for (const child of parent.toArray()) {
    if (child instanceof Y.XmlText) out.push(...textNodes(child));
    else if (child instanceof Y.XmlElement) {
      const attrs = withoutNulls(child.getAttributes() as Record<string, unknown>);
      const content = nodesOf(child);
      out.push({ type: child.nodeName, ...(Object.keys(attrs).length > 0 ? { attrs } : {}), ...(content.length > 0 ? { content } : {}) });
    }
  }
  return out;
}

/** The rich text of a Y.XmlFragment as ProseMirror JSON (the `content` of its `doc` node). */
export function fragmentToJson(fragment: Y.XmlFragment): PmNode[] {
  return nodesOf(fragment);
}

/** Appends `nodes` to a fragment or element, as TipTap would store them; call it inside a transaction. */
export function writeNodes(parent: Y.XmlFragment | Y.XmlElement, nodes: readonly PmNode[]): void {
  let i = 0;
  while (i < nodes.length) {
    const node = nodes[i]!;
    if (node.type === "text") {
      // A run of text nodes is one Y.XmlText, each with exactly its marks.
      const delta: { insert: string; attributes?: Record<string, unknown> }[] = [];
      for (; i < nodes.length && nodes[i]!.type === "text"; i++) {
        const t = nodes[i]!;
        if (!t.text) continue;
        const attributes = Object.fromEntries((t.marks ?? []).map((m) => [m.type, m.attrs ?? {}]));
        delta.push(Object.keys(attributes).length > 0 ? { insert: t.text, attributes } : { insert: t.text });
      }
      if (delta.length === 0) continue;
      const text = new Y.XmlText();
      parent.push([text]);
      text.applyDelta(delta);
      continue;
    }
    const el = new Y.XmlElement(node.type);
    parent.push([el]);
    for (const [key, value] of Object.entries(node.attrs ?? {})) {
      if (value !== null && value !== undefined) el.setAttribute(key, value as string);
    }
    writeNodes(el, node.content ?? []);
    i++;
  }
}

/** A new Yjs document holding `nodes` as its rich text, written as TipTap would store them. */
export function jsonToDoc(nodes: readonly PmNode[], fieldName: string): Y.Doc {
  const doc = new Y.Doc();
  doc.transact(() => writeNodes(doc.getXmlFragment(fieldName), nodes));
  return doc;
}

/** A node's text, marks dropped (titles, code). */
export function plainText(nodes: readonly PmNode[] | undefined): string {
  return (nodes ?? []).map((n) => (n.type === "text" ? (n.text ?? "") : n.type === "hardBreak" ? "\n" : plainText(n.content))).join("");
}

/** Adjacent text nodes with the same marks as one, as ProseMirror keeps them. */
export function mergeText(nodes: readonly PmNode[]): PmNode[] {
  const out: PmNode[] = [];
  for (const n of nodes) {
    const prev = out[out.length - 1];
    const sameMarks = (a: readonly PmMark[] = [], b: readonly PmMark[] = []) => a.length === b.length && a.every((m, i) => sameMark(m, b[i]!));
    if (prev && prev.type === "text" && n.type === "text" && sameMarks(prev.marks, n.marks)) out[out.length - 1] = { ...prev, text: (prev.text ?? "") + (n.text ?? "") };
    else out.push(n);
  }
  return out;
}
