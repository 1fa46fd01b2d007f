// Rich text to HTML and back. Export writes a standalone page in the markup TipTap itself writes
// (checklists as `ul[data-type=taskList]`), so the file opens anywhere and pastes back into the
// editor. Import keeps only what the editor's schema holds: every other element is unwrapped to
// its text or dropped with its content (scripts, styles, frames), no attribute but a link's
// address, an image's address and text, a list's start and a checklist item's state survives,
// and addresses must pass the same rules as the editor's (no `javascript:`).
import { parseDocument } from "htmlparser2";
import { Element, Text, type ChildNode } from "domhandler";
import { isAllowedImageSrc, isAllowedLinkHref } from "@palimpsest/contracts";
import { mergeText, sortMarks, type PmMark, type PmNode } from "./prosemirror.ts";

// ---- export -------------------------------------------------------------------------------

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

const MARK_TAGS: Record<string, string> = { bold: "strong", italic: "em", strike: "s", underline: "u", code: "code" };

function attr(name: string, value: unknown): string {
  return typeof value === "string" || typeof value === "number" ? ` ${name}="${escapeHtml(String(value))}"` : "";
}

function safeHref(href: unknown): string | undefined {
  return typeof href === "string" && isAllowedLinkHref(href) ? href : undefined;
}

function safeSrc(src: unknown): string | undefined {
  return typeof src === "string" && isAllowedImageSrc(src) ? src : undefined;
}

function openTag(m: PmMark): string {
  // Any client of the document may have stored any address: the file carries only safe ones.
  if (m.type === "link") return `<a${attr("href", safeHref(m.attrs?.["href"]))}${attr("title", m.attrs?.["title"])}>`;
  const tag = MARK_TAGS[m.type];
  return tag ? `<${tag}>` : "";
}

function closeTag(m: PmMark): string {
  if (m.type === "link") return "</a>";
  const tag = MARK_TAGS[m.type];
  return tag ? `</${tag}>` : "";
}

function inlineHtml(nodes: readonly PmNode[]): string {
  return nodes
    .map((n) => {
      if (n.type === "hardBreak") return "<br>";
      if (n.type !== "text") return "";
      const marks = sortMarks(n.marks ?? []);
      return marks.map(openTag).join("") + escapeHtml(n.text ?? "") + [...marks].reverse().map(closeTag).join("");
    })
    .join("");
}

function blockHtml(node: PmNode): string {
  const content = node.content ?? [];
  const inner = () => content.map(blockHtml).join("");
  switch (node.type) {
    case "paragraph":
      return `<p>${inlineHtml(content)}</p>`;
    case "heading": {
      const level = Math.min(6, Math.max(1, Number(node.attrs?.["level"] ?? 1)));
      return `<h${level}>${inlineHtml(content)}</h${level}>`;
    }
    case "bulletList":
      return `<ul>${inner()}</ul>`;
    case "orderedList": {
      const start = Number(node.attrs?.["start"] ?? 1);
      return `<ol${start !== 1 ? attr("start", start) : ""}>${inner()}</ol>`;
    }
    case "listItem":
      return `<li>${inner()}</li>`;
    case "taskList":
      return `<ul data-type="taskList">${inner()}</ul>`;
    case "taskItem": {
      const checked = node.attrs?.["checked"] === true;
      return `<li data-type="taskItem" data-checked="${checked}"><label><input type="checkbox"${checked ? " checked" : ""}></label><div>${inner()}</div></li>`;
    }
    case "blockquote":
      return `<blockquote>${inner()}</blockquote>`;
    case "codeBlock": {
      const language = node.attrs?.["language"];
      return `<pre><code${typeof language === "string" && language ? attr("class", `language-${language}`) : ""}>${escapeHtml(content.map((t) => t.text ?? "").join(""))}</code></pre>`;
    }
    case "image":
      return `<img${attr("src", safeSrc(node.attrs?.["src"]))}${attr("alt", node.attrs?.["alt"])}${attr("title", node.attrs?.["title"])}>`;
    case "horizontalRule":
      return "<hr>";
    default:
      return content.some((c) => c.type === "text") ? `<p>${inlineHtml(content)}</p>` : inner();
  }
}

/** The rich text as a standalone HTML page titled `title`. */
export function toHtml(nodes: readonly PmNode[], title: string): string {
  const body = nodes.map(blockHtml).join("\n");
  return `<!doctype html>\n<html>\n<head>\n<meta charset="utf-8">\n<title>${escapeHtml(title)}</title>\n</head>\n<body>\n${body}\n</body>\n</html>\n`;
}

// ---- import -------------------------------------------------------------------------------

/** Dropped with everything inside them: nothing in them is the document's text. */
const DROPPED = new Set(["script", "style", "template", "iframe", "frame", "frameset", "object", "embed", "noscript", "head", "title", "svg", "math", "canvas", "audio", "video", "select", "textarea", "button", "form", "input", "meta", "link", "base"]);
const INLINE_MARKS: Record<string, PmMark> = {
  strong: { type: "bold" },
  b: { type: "bold" },
  em: { type: "italic" },
  i: { type: "italic" },
  s: { type: "strike" },
  del: { type: "strike" },
  strike: { type: "strike" },
  u: { type: "underline" },
  code: { type: "code" },
};
const BLOCKS = new Set(["p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "pre", "hr", "img", "div", "section", "article", "main", "header", "footer", "nav", "aside", "figure", "figcaption", "body", "html", "table", "thead", "tbody", "tr", "td", "th", "dl", "dt", "dd", "label"]);

function tagOf(node: ChildNode): string | null {
  return node instanceof Element ? node.name.toLowerCase() : null;
}

function textContent(node: ChildNode): string {
  if (node instanceof Text) return node.data;
  if (node instanceof Element && !DROPPED.has(node.name.toLowerCase())) return node.children.map(textContent).join("");
  return "";
}

function imageOf(el: Element): PmNode | null {
  const src = (el.attribs["src"] ?? "").trim();
  if (!isAllowedImageSrc(src)) return null;
  const alt = el.attribs["alt"];
  const title = el.attribs["title"];
  return { type: "image", attrs: { src, ...(alt ? { alt } : {}), ...(title ? { title } : {}) } };
}

function withMark(marks: readonly PmMark[], mark: PmMark): PmMark[] {
  return marks.some((m) => m.type === mark.type) ? [...marks] : [...marks, mark];
}

/** Inline content, with any image found in it (a block in the editor) as a separate item. */
function inlineNodes(nodes: readonly ChildNode[], marks: readonly PmMark[], out: PmNode[]): void {
  for (const node of nodes) {
    if (node instanceof Text) {
      const text = node.data.replace(/\s+/g, " ");
      if (text !== "") out.push(marks.length > 0 ? { type: "text", text, marks: sortMarks(marks) } : { type: "text", text });
      continue;
    }
    if (!(node instanceof Element)) continue;
    const tag = node.name.toLowerCase();
    if (DROPPED.has(tag)) continue;
    if (tag === "br") out.push({ type: "hardBreak" });
    else if (tag === "img") {
      const image = imageOf(node);
      if (image) out.push(image);
    } else if (tag === "a") {
      const href = (node.attribs["href"] ?? "").trim();
      const title = node.attribs["title"];
      inlineNodes(node.children, href && isAllowedLinkHref(href) ? withMark(marks, { type: "link", attrs: { href, ...(title ? { title } : {}) } }) : marks, out);
    } else {
      const mark = INLINE_MARKS[tag];
      inlineNodes(node.children, mark ? withMark(marks, mark) : marks, out);
    }
  }
}

/** Collapsed whitespace trimmed at the paragraph's edges and around line breaks; images split it. */
function paragraphsOf(inline: PmNode[], type = "paragraph", attrs?: Record<string, unknown>): PmNode[] {
  const out: PmNode[] = [];
  let run: PmNode[] = [];
  const flush = () => {
    const trimmed = trimRun(run);
    if (trimmed.length > 0) out.push({ type, ...(attrs ? { attrs } : {}), content: trimmed });
    run = [];
  };
  for (const n of inline) {
    if (n.type === "image") {
      flush();
      out.push(n);
    } else run.push(n);
  }
  flush();
  return out;
}

function trimRun(run: PmNode[]): PmNode[] {
  const nodes = mergeText(run).map((n) => ({ ...n }));
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i]!;
    if (n.type !== "text") continue;
    const prev = nodes[i - 1];
    const atStart = !prev || prev.type === "hardBreak" || (prev.type === "text" && /\s$/.test(prev.text ?? ""));
    if (atStart) n.text = (n.text ?? "").replace(/^\s+/, "");
  }
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    if (n.type !== "text") continue;
    const next = nodes[i + 1];
    if (!next || next.type === "hardBreak") n.text = (n.text ?? "").replace(/\s+$/, "");
  }
  const kept = nodes.filter((n) => n.type !== "text" || (n.text ?? "") !== "");
  return kept.some((n) => n.type === "text") ? kept : [];
}

function listItemOf(li: Element, task: boolean): PmNode {
  const content = blockNodes(li.children);
  if (content[0]?.type !== "paragraph") content.unshift({ type: "paragraph" });
  if (!task) return { type: "listItem", content };
  const box = findCheckbox(li);
  const checked = li.attribs["data-checked"] === "true" || (box !== null && box.attribs["checked"] !== undefined);
  return { type: "taskItem", attrs: { checked }, content };
}

function findCheckbox(el: Element): Element | null {
  for (const c of el.children) {
    if (!(c instanceof Element)) continue;
    if (c.name.toLowerCase() === "input" && (c.attribs["type"] ?? "").toLowerCase() === "checkbox") return c;
    // Only the item's own box: not one in a nested list.
    if (c.name.toLowerCase() === "label") {
      const inner = findCheckbox(c);
      if (inner) return inner;
    }
  }
  return null;
}

function listOf(el: Element): PmNode {
  const items = el.children.filter((c): c is Element => c instanceof Element && c.name.toLowerCase() === "li");
  const task = el.attribs["data-type"] === "taskList" || (items.length > 0 && items.some((li) => li.attribs["data-type"] === "taskItem" || findCheckbox(li) !== null));
  const content = items.map((li) => listItemOf(li, task));
  if (task) return { type: "taskList", content };
  if (el.name.toLowerCase() === "ul") return { type: "bulletList", content };
  const start = Number.parseInt(el.attribs["start"] ?? "1", 10);
  return { type: "orderedList", ...(Number.isFinite(start) && start !== 1 ? { attrs: { start } } : {}), content };
}

function blockNodes(nodes: readonly ChildNode[]): PmNode[] {
  const out: PmNode[] = [];
  let inline: ChildNode[] = [];
  const flush = () => {
    const found: PmNode[] = [];
    inlineNodes(inline, [], found);
    out.push(...paragraphsOf(found));
    inline = [];
  };
  for (const node of nodes) {
    const tag = tagOf(node);
    if (tag === null || (!BLOCKS.has(tag) && !DROPPED.has(tag))) {
      inline.push(node);
      continue;
    }
    flush();
    if (DROPPED.has(tag)) continue;
    const el = node as Element;
    if (tag === "p") {
      const found: PmNode[] = [];
      inlineNodes(el.children, [], found);
      out.push(...paragraphsOf(found));
    } else if (/^h[1-6]$/.test(tag)) {
      const found: PmNode[] = [];
      inlineNodes(el.children, [], found);
      out.push(...paragraphsOf(found, "heading", { level: Number(tag[1]) }));
    } else if (tag === "ul" || tag === "ol") out.push(listOf(el));
    else if (tag === "blockquote") {
      const content = blockNodes(el.children);
      if (content.length > 0) out.push({ type: "blockquote", content });
    } else if (tag === "pre") {
      const code = el.children.find((c): c is Element => c instanceof Element && c.name.toLowerCase() === "code");
      const language = /(?:^|\s)language-([\w+#.-]{1,40})/.exec(code?.attribs["class"] ?? "")?.[1];
      const text = textContent(el).replace(/\n$/, "");
      out.push({ type: "codeBlock", ...(language ? { attrs: { language } } : {}), ...(text ? { content: [{ type: "text", text }] } : {}) });
    } else if (tag === "hr") out.push({ type: "horizontalRule" });
    else if (tag === "img") {
      const image = imageOf(el);
      if (image) out.push(image);
    } else out.push(...blockNodes(el.children));
  }
  flush();
  return out;
}

/** HTML as rich text in the editor's nodes, sanitized: see the top of this file. */
export function fromHtml(html: string): PmNode[] {
  const dom = parseDocument(html, { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true });
  return blockNodes(dom.children);
}
