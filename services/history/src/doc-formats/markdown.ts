// Rich text to CommonMark (with GFM's checklists and strikethrough) and back. Export writes a
// canonical form, so export → import → export gives the same text; import reads any Markdown
// through marked's lexer and keeps what the editor's schema can hold.
import { Lexer, type Token, type Tokens } from "marked";
import { isAllowedImageSrc, isAllowedLinkHref } from "@palimpsest/contracts";
import { mergeText, sameMark, sortMarks, type PmMark, type PmNode } from "./prosemirror.ts";

// ---- export -------------------------------------------------------------------------------

/** Every ASCII punctuation a Markdown reader could take for syntax; CommonMark lets any be escaped. */
const SPECIAL = /[\\`*_[\]<>~&|!#]/g;

function escapeText(text: string): string {
  return text.replace(SPECIAL, "\\$&");
}

/** What would start another block at the start of a line: a list marker, a setext underline. */
function escapeLineStart(line: string): string {
  return line.replace(/^(\s*)([-+=])/, "$1\\$2").replace(/^(\s*\d+)([.)])/, "$1\\$2");
}

function codeSpan(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((s) => s.length));
  const fence = "`".repeat(longest + 1);
  const pad = text.startsWith("`") || text.endsWith("`") || /^ .* $/.test(text) ? " " : "";
  return `${fence}${pad}${text}${pad}${fence}`;
}

function quoteTitle(title: unknown): string {
  return typeof title === "string" && title !== "" ? ` "${title.replace(/["\\]/g, "\\$&")}"` : "";
}

function destination(href: string): string {
  return /[\s()<>]/.test(href) ? `<${href.replace(/[<>]/g, encodeURIComponent)}>` : href;
}

function opener(m: PmMark): string {
  switch (m.type) {
    case "link":
      return "[";
    case "bold":
      return "**";
    case "italic":
      return "*";
    case "strike":
      return "~~";
    default:
      return "";
  }
}

function closer(m: PmMark): string {
  if (m.type === "link") {
    // Any client of the document may have stored any address: the file carries only safe ones.
    const href = String(m.attrs?.["href"] ?? "");
    return `](${isAllowedLinkHref(href) ? destination(href) : ""}${quoteTitle(m.attrs?.["title"])})`;
  }
  return opener(m);
}

/**
 * Inline content with marks nested as a stack: marks that go on across text nodes stay open, so
 * `bold, bold+italic, bold` is `**a _b_ c**`. Blanks at a mark's edge go outside it, where
 * CommonMark still sees the delimiter.
 */
function inlineMarkdown(nodes: readonly PmNode[]): string {
  let out = "";
  const open: PmMark[] = [];
  let pendingBlank = "";
  const closeTo = (keep: number) => {
    while (open.length > keep) out += closer(open.pop()!);
  };
  for (const node of nodes) {
    if (node.type === "hardBreak") {
      closeTo(0);
      out += `${pendingBlank}\\\n`;
      pendingBlank = "";
      continue;
    }
    if (node.type !== "text" || !node.text) continue;
    const marks = (node.marks ?? []).filter((m) => m.type !== "underline");
    const code = marks.some((m) => m.type === "code");
    const wanted = marks.filter((m) => m.type !== "code");
    let keep = 0;
    while (keep < open.length && wanted.some((m) => sameMark(m, open[keep]!))) keep++;
    const fresh = sortMarks(wanted.filter((m) => !open.slice(0, keep).some((o) => sameMark(o, m))));
    const lead = code ? "" : (/^\s+/.exec(node.text)?.[0] ?? "");
    const trail = code ? "" : (/\s+$/.exec(node.text.slice(lead.length))?.[0] ?? "");
    const core = node.text.slice(lead.length, node.text.length - trail.length);
    if (keep < open.length) closeTo(keep);
    out += pendingBlank;
    pendingBlank = "";
    if (fresh.length > 0) {
      out += lead;
      for (const m of fresh) {
        out += opener(m);
        open.push(m);
      }
    } else out += lead.length > 0 ? escapeText(lead) : "";
    out += code ? codeSpan(core) : escapeText(core);
    pendingBlank = trail;
  }
  closeTo(0);
  out += pendingBlank;
  // After a hard break a line may start a list just as the first may.
  return out.split("\n").map(escapeLineStart).join("\n");
}

function indent(text: string, prefix: string, first = prefix): string {
  return text
    .split("\n")
    .map((line, i) => (line === "" ? "" : `${i === 0 ? first : prefix}${line}`))
    .join("\n");
}

function listItem(item: PmNode, marker: string): string {
  const pad = " ".repeat(marker.length);
  const parts: string[] = [];
  (item.content ?? []).forEach((child, i) => {
    const body = block(child);
    // A nested list follows its item's first paragraph directly, which keeps the list tight.
    const sep = i === 0 ? "" : child.type.endsWith("List") ? "\n" : "\n\n";
    parts.push(sep + body);
  });
  const text = parts.join("");
  return text === "" ? marker.trimEnd() : indent(text, pad, marker);
}

function block(node: PmNode): string {
  const content = node.content ?? [];
  switch (node.type) {
    case "paragraph":
      return inlineMarkdown(content);
    case "heading": {
      const level = Math.min(6, Math.max(1, Number(node.attrs?.["level"] ?? 1)));
      return `${"#".repeat(level)} ${inlineMarkdown(content)}`.trimEnd();
    }
    case "bulletList":
      return content.map((item) => listItem(item, "- ")).join("\n");
    case "orderedList": {
      const start = Number(node.attrs?.["start"] ?? 1);
      return content.map((item, i) => listItem(item, `${start + i}. `)).join("\n");
    }
    case "taskList":
      return content.map((item) => listItem(item, item.attrs?.["checked"] === true ? "- [x] " : "- [ ] ")).join("\n");
    case "blockquote":
      return blocks(content)
        .split("\n")
        .map((line) => (line === "" ? ">" : `> ${line}`))
        .join("\n");
    case "codeBlock": {
      const code = content.map((t) => t.text ?? "").join("");
      const longest = Math.max(2, ...(code.match(/`{3,}/g) ?? []).map((s) => s.length));
      const fence = "`".repeat(longest + 1);
      const language = typeof node.attrs?.["language"] === "string" ? node.attrs["language"] : "";
      return `${fence}${language}\n${code}\n${fence}`;
    }
    case "image": {
      const alt = String(node.attrs?.["alt"] ?? "");
      const src = String(node.attrs?.["src"] ?? "");
      return `![${escapeText(alt)}](${isAllowedImageSrc(src) ? destination(src) : ""}${quoteTitle(node.attrs?.["title"])})`;
    }
    case "horizontalRule":
      return "---";
    default:
      // A node this exporter does not know: its content, so no text is lost.
      return content.some((c) => c.type === "text") ? inlineMarkdown(content) : blocks(content);
  }
}

function blocks(nodes: readonly PmNode[]): string {
  return nodes.map(block).join("\n\n");
}

/** The rich text as Markdown, ending in one newline. */
export function toMarkdown(nodes: readonly PmNode[]): string {
  const text = blocks(nodes);
  return text === "" ? "" : `${text}\n`;
}

// ---- import -------------------------------------------------------------------------------

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name.startsWith("#")) {
      const code = name[1] === "x" || name[1] === "X" ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

function withMark(marks: readonly PmMark[], mark: PmMark): PmMark[] {
  return marks.some((m) => m.type === mark.type) ? [...marks] : [...marks, mark];
}

type Inline = PmNode;

function inlines(tokens: readonly Token[] | undefined, marks: readonly PmMark[]): Inline[] {
  const out: Inline[] = [];
  const text = (t: string, m: readonly PmMark[]) => {
    if (t !== "") out.push(m.length > 0 ? { type: "text", text: t, marks: sortMarks(m) } : { type: "text", text: t });
  };
  for (const token of tokens ?? []) {
    switch (token.type) {
      case "text":
        if ("tokens" in token && token.tokens && token.tokens.length > 0) out.push(...inlines(token.tokens, marks));
        else text(decodeEntities(token.text), marks);
        break;
      case "escape":
        text(token.text, marks);
        break;
      case "strong":
        out.push(...inlines(token.tokens, withMark(marks, { type: "bold" })));
        break;
      case "em":
        out.push(...inlines(token.tokens, withMark(marks, { type: "italic" })));
        break;
      case "del":
        out.push(...inlines(token.tokens, withMark(marks, { type: "strike" })));
        break;
      case "codespan":
        text(decodeEntities(token.text), withMark(marks, { type: "code" }));
        break;
      case "br":
        out.push({ type: "hardBreak" });
        break;
      case "link": {
        const link = token as Tokens.Link;
        const href = link.href;
        const inner = isAllowedLinkHref(href) ? withMark(marks, { type: "link", attrs: { href, ...(link.title ? { title: link.title } : {}) } }) : marks;
        out.push(...inlines(link.tokens, inner));
        break;
      }
      case "image": {
        const image = token as Tokens.Image;
        if (isAllowedImageSrc(image.href)) {
          out.push({ type: "image", attrs: { src: image.href, ...(image.text ? { alt: image.text } : {}), ...(image.title ? { title: image.title } : {}) } });
        } else if (image.text) text(image.text, marks);
        break;
      }
      // Raw HTML inside Markdown is dropped, tags and all: only the text around it stays.
      default:
        break;
    }
  }
  return out;
}

/** A paragraph's inline content; images are blocks in the editor, so they split it. */
function paragraphs(content: readonly Inline[]): PmNode[] {
  const out: PmNode[] = [];
  let run: Inline[] = [];
  const flush = () => {
    if (run.some((n) => n.type === "text")) out.push({ type: "paragraph", content: mergeText(run) });
    run = [];
  };
  for (const n of content) {
    if (n.type === "image") {
      flush();
      out.push(n);
    } else run.push(n);
  }
  flush();
  return out;
}

function listItems(list: Tokens.List): PmNode {
  const task = list.items.some((i) => i.task);
  const items = list.items.map((item): PmNode => {
    const content = blockNodes(item.tokens.filter((t) => t.type !== "checkbox"));
    if (content[0]?.type !== "paragraph") content.unshift({ type: "paragraph" });
    return task ? { type: "taskItem", attrs: { checked: item.checked === true }, content } : { type: "listItem", content };
  });
  if (task) return { type: "taskList", content: items };
  if (!list.ordered) return { type: "bulletList", content: items };
  const start = typeof list.start === "number" ? list.start : 1;
  return { type: "orderedList", ...(start !== 1 ? { attrs: { start } } : {}), content: items };
}

function blockNodes(tokens: readonly Token[]): PmNode[] {
  const out: PmNode[] = [];
  for (const token of tokens) {
    switch (token.type) {
      case "heading": {
        const content = mergeText(inlines(token.tokens, []).filter((n) => n.type !== "image"));
        out.push({ type: "heading", attrs: { level: Math.min(6, Math.max(1, token.depth)) }, ...(content.length > 0 ? { content } : {}) });
        break;
      }
      case "paragraph":
      case "text":
        out.push(...paragraphs(inlines("tokens" in token && token.tokens ? token.tokens : [{ type: "text", raw: token.raw, text: token.text }], [])));
        break;
      case "list":
        out.push(listItems(token as Tokens.List));
        break;
      case "blockquote": {
        const content = blockNodes(token.tokens ?? []);
        out.push({ type: "blockquote", content: content.length > 0 ? content : [{ type: "paragraph" }] });
        break;
      }
      case "code": {
        const lang = typeof token.lang === "string" ? token.lang.trim().split(/\s+/)[0] : "";
        out.push({ type: "codeBlock", ...(lang ? { attrs: { language: lang } } : {}), ...(token.text ? { content: [{ type: "text", text: token.text }] } : {}) });
        break;
      }
      case "hr":
        out.push({ type: "horizontalRule" });
        break;
      // Raw HTML blocks, tables and the rest are dropped: they are nothing the editor holds.
      default:
        break;
    }
  }
  return out;
}

/** Markdown as rich text in the editor's nodes; anything else it says (raw HTML, scripts) is left out. */
export function fromMarkdown(markdown: string): PmNode[] {
  return blockNodes(Lexer.lex(markdown.replace(/\r\n?/g, "\n"), { gfm: true }));
}
