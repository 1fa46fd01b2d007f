import * as Y from "yjs";
import { DocFields } from "@palimpsest/contracts";

export interface Rendered {
  /** Plain text: one line per paragraph, heading or list item. */
  text: string;
  /** The rich text as Markdown (headings, lists, quotes, code blocks, bold, italic, code, links). */
  markdown: string;
  /** Boards: the `board` map as JSON. */
  board?: unknown;
}

type Delta = { insert?: unknown; attributes?: Record<string, unknown> }[];

function inlineText(t: Y.XmlText): string {
  return (t.toDelta() as Delta).map((d) => (typeof d.insert === "string" ? d.insert : "")).join("");
}

function inlineMarkdown(t: Y.XmlText): string {
  return (t.toDelta() as Delta)
    .map((d) => {
      if (typeof d.insert !== "string") return "";
      let s = d.insert;
      const a = d.attributes ?? {};
      if (a["code"]) s = `\`${s}\``;
      if (a["bold"]) s = `**${s}**`;
      if (a["italic"]) s = `*${s}*`;
      const link = a["link"] as { href?: string } | undefined;
      if (link?.href) s = `[${s}](${link.href})`;
      return s;
    })
    .join("");
}

function children(node: Y.XmlFragment | Y.XmlElement): (Y.XmlElement | Y.XmlText)[] {
  return node.toArray().filter((c): c is Y.XmlElement | Y.XmlText => c instanceof Y.XmlElement || c instanceof Y.XmlText);
}

function blockText(node: Y.XmlElement | Y.XmlText, mode: "text" | "md"): string {
  if (node instanceof Y.XmlText) return mode === "md" ? inlineMarkdown(node) : inlineText(node);
  return children(node)
    .map((c) => blockText(c, mode))
    .join("");
}

function renderBlocks(node: Y.XmlFragment | Y.XmlElement, mode: "text" | "md", depth = 0): string[] {
  const lines: string[] = [];
  const indent = "  ".repeat(depth);
  for (const child of children(node)) {
    if (child instanceof Y.XmlText) {
      lines.push(blockText(child, mode));
      continue;
    }
    const name = child.nodeName;
    if (name === "bulletList" || name === "orderedList" || name === "taskList") {
      // One entry for the whole list, its items on consecutive lines: a tight list in Markdown.
      const items: string[] = [];
      children(child).forEach((item, i) => {
        if (!(item instanceof Y.XmlElement)) return;
        const [first = "", ...rest] = renderBlocks(item, mode, depth + 1);
        const checked = item.getAttribute("checked") as unknown;
        const marker = mode === "text" ? "" : name === "orderedList" ? `${i + 1}. ` : name === "taskList" ? `- [${checked === true || checked === "true" ? "x" : " "}] ` : "- ";
        items.push(`${indent}${marker}${first.trimStart()}`, ...rest);
      });
      lines.push(items.join("\n"));
    } else if (name === "heading") {
      const level = Number(child.getAttribute("level") ?? 1);
      lines.push(mode === "md" ? `${"#".repeat(Math.min(6, Math.max(1, level)))} ${blockText(child, mode)}` : blockText(child, mode));
    } else if (name === "codeBlock") {
      const code = blockText(child, "text");
      lines.push(mode === "md" ? `\`\`\`${String(child.getAttribute("language") ?? "")}\n${code}\n\`\`\`` : code);
    } else if (name === "blockquote") {
      lines.push(...renderBlocks(child, mode, depth).map((l) => (mode === "md" ? `> ${l}` : l)));
    } else if (name === "image") {
      const src = String(child.getAttribute("src") ?? "");
      const alt = String(child.getAttribute("alt") ?? "");
      lines.push(mode === "md" ? `![${alt}](${src})` : alt);
    } else if (name === "horizontalRule") {
      lines.push(mode === "md" ? "---" : "");
    } else if (children(child).some((c) => c instanceof Y.XmlElement)) {
      lines.push(...renderBlocks(child, mode, depth));
    } else {
      lines.push(`${name === "paragraph" ? "" : indent}${blockText(child, mode)}`);
    }
  }
  return lines;
}

/**
 * Renders a document for people: rich text (the XmlFragment `default`, TipTap's) as text and
 * Markdown, a plain Y.Text named `t` as itself, a board (the Y.Map `board`) as JSON.
 */
export function renderDocument(doc: Y.Doc): Rendered {
  const parts: Rendered = { text: "", markdown: "" };
  if (doc.share.has(DocFields.richText)) {
    const fragment = doc.getXmlFragment(DocFields.richText);
    parts.text = renderBlocks(fragment, "text").join("\n");
    parts.markdown = renderBlocks(fragment, "md").join("\n\n");
  } else if (doc.share.has(DocFields.plainText)) {
    parts.text = doc.getText(DocFields.plainText).toString();
    parts.markdown = parts.text;
  }
  if (doc.share.has(DocFields.board)) parts.board = doc.getMap(DocFields.board).toJSON();
  return parts;
}

function cardWords(card: unknown, field: string): string {
  const value = card instanceof Y.Map ? (card as Y.Map<unknown>).get(field) : typeof card === "object" && card !== null ? (card as Record<string, unknown>)[field] : undefined;
  if (value instanceof Y.Text) return value.toString();
  return typeof value === "string" ? value : "";
}

/**
 * What search finds in a document: its text as rendered above, and on a board each card's words
 * (a note's or task's text, an image's caption, a link's title; web/src/board/board-model.ts),
 * one card per line. Positions, colours and addresses are not words anyone searches for.
 */
export function searchableText(doc: Y.Doc): string {
  const lines = [renderDocument(doc).text];
  if (doc.share.has(DocFields.board)) {
    for (const card of doc.getMap(DocFields.board).values()) {
      for (const field of ["title", "text"]) {
        const words = cardWords(card, field).trim();
        if (words) lines.push(words);
      }
    }
  }
  return lines.filter((l) => l.length > 0).join("\n");
}
