import { Type, type Static } from "@sinclair/typebox";
import { DocKind } from "./events.ts";
import { SAFE_ID_PATTERN } from "./ids.ts";

/**
 * Full-text search over titles and content (`GET /api/search`), and the internal call the docs
 * service's index makes to history for a document's searchable text.
 *
 * Snippets are HTML with exactly one kind of tag, `<mark>…</mark>`, around the matched words;
 * everything else in them is escaped (`&`, `<`, `>`, `"`, `'`), so a client may insert the string
 * as HTML, or (as the web app does) split it with `snippetSegments` and render text nodes.
 */

/** Most characters of a query; longer ones are refused, not cut, so a client learns it. */
export const SEARCH_QUERY_MAX = 200;
/** Results per query unless the caller asks for fewer or more (up to SEARCH_LIMIT_MAX). */
export const SEARCH_LIMIT_DEFAULT = 20;
export const SEARCH_LIMIT_MAX = 50;
/**
 * Most characters of one document's text the index keeps. Postgres refuses a tsvector over 1 MB,
 * and a snippet is cut from the stored text on every query; what a document says after this many
 * characters is not found (titles always are).
 */
export const SEARCH_BODY_MAX_CHARS = 200_000;

export const SearchQuery = Type.Object(
  {
    q: Type.String({ minLength: 1, maxLength: SEARCH_QUERY_MAX }),
    /** Only the documents of this workspace (that the caller may read); `personal` for those in none. */
    workspaceId: Type.Optional(Type.String({ pattern: SAFE_ID_PATTERN })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: SEARCH_LIMIT_MAX })),
  },
  { additionalProperties: false },
);
export type SearchQuery = Static<typeof SearchQuery>;

export const SearchHit = Type.Object({
  docId: Type.String(),
  title: Type.String(),
  kind: DocKind,
  /** A passage around the matched words, HTML-escaped, the words inside `<mark>` tags. */
  snippet: Type.String(),
  /** Higher is better; only comparable within one answer. */
  score: Type.Number(),
});
export type SearchHit = Static<typeof SearchHit>;

export interface SearchResults {
  items: SearchHit[];
}

/** Internal (docs → history): the newest text of a document, as the search index stores it. */
export const SearchTextInput = Type.Object({ docId: Type.String({ pattern: SAFE_ID_PATTERN }) }, { additionalProperties: false });
export type SearchTextInput = Static<typeof SearchTextInput>;

export interface SearchTextView {
  /** The version the text is of (0: never edited). */
  seq: number;
  /** Rich text's paragraphs, or a board's card texts, one per line. */
  text: string;
}

// Control characters never reach a tsquery or the index: Postgres refuses NUL in text, and two of
// them mark the matched words inside the database (see SNIPPET_START).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;

/** A query as searched: control characters gone, spaces collapsed; "" means nothing to search for. */
export function normalizeSearchQuery(q: string): string {
  return q.replace(CONTROL, " ").replace(/\s+/g, " ").trim();
}

/** A document's text as indexed: no control characters but line breaks and tabs, at most SEARCH_BODY_MAX_CHARS. */
export function searchableBody(text: string): string {
  return text.replace(CONTROL, " ").slice(0, SEARCH_BODY_MAX_CHARS);
}

/**
 * What ts_headline puts around matched words: characters `searchableBody` and
 * `normalizeSearchQuery` remove, so they cannot come from a document or a query.
 */
export const SNIPPET_START = "\u0002";
export const SNIPPET_STOP = "\u0003";

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const UNESCAPES: Record<string, string> = Object.fromEntries(Object.entries(ESCAPES).map(([k, v]) => [v, k]));

/** ts_headline's output (with SNIPPET_START/STOP) → the contract's snippet: escaped text, `<mark>` tags. */
export function markSnippet(raw: string): string {
  let out = "";
  let open = false;
  for (const ch of raw) {
    if (ch === SNIPPET_START) {
      if (!open) out += "<mark>";
      open = true;
    } else if (ch === SNIPPET_STOP) {
      if (open) out += "</mark>";
      open = false;
    } else {
      out += ESCAPES[ch] ?? ch;
    }
  }
  return open ? `${out}</mark>` : out;
}

export interface SnippetSegment {
  text: string;
  marked: boolean;
}

/**
 * A snippet → plain-text runs, each marked or not, for rendering as text nodes. Reads only what
 * `markSnippet` writes; any other `<` stays literal text, so a snippet can never become markup.
 */
export function snippetSegments(snippet: string): SnippetSegment[] {
  const out: SnippetSegment[] = [];
  const unescape = (s: string) => s.replace(/&(?:amp|lt|gt|quot|#39);/g, (e) => UNESCAPES[e] ?? e);
  const parts = snippet.split(/(<mark>|<\/mark>)/);
  let marked = false;
  for (const part of parts) {
    if (part === "<mark>") marked = true;
    else if (part === "</mark>") marked = false;
    else if (part) out.push({ text: unescape(part), marked });
  }
  return out;
}
