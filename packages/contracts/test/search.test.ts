import { describe, expect, it } from "vitest";
import { markSnippet, normalizeSearchQuery, searchableBody, SEARCH_BODY_MAX_CHARS, snippetSegments, SNIPPET_START, SNIPPET_STOP } from "../src/shared.ts";

const S = SNIPPET_START;
const E = SNIPPET_STOP;

describe("search snippets", () => {
  it("given a headline with markers, when marked, then the words are in <mark> and the rest is escaped", () => {
    expect(markSnippet(`a <b>&"x' ${S}plum${E} tart`)).toBe("a &lt;b&gt;&amp;&quot;x&#39; <mark>plum</mark> tart");
  });

  it("given an unclosed or stray marker, when marked, then the tags still pair up", () => {
    expect(markSnippet(`${E}x ${S}y`)).toBe("x <mark>y</mark>");
    expect(markSnippet(`${S}${S}y${E}${E}`)).toBe("<mark>y</mark>");
  });

  it("given a marked snippet, when split, then the runs are plain text with the original characters", () => {
    const snippet = markSnippet(`<img src=x onerror=alert(1)> ${S}plum${E} & pie`);
    expect(snippetSegments(snippet)).toEqual([
      { text: "<img src=x onerror=alert(1)> ", marked: false },
      { text: "plum", marked: true },
      { text: " & pie", marked: false },
    ]);
  });

  it("given a snippet with other tags, when split, then they stay literal text", () => {
    expect(snippetSegments("<b>x</b><mark>y</mark>")).toEqual([
      { text: "<b>x</b>", marked: false },
      { text: "y", marked: true },
    ]);
  });
});

describe("search queries and indexed text", () => {
  it("given control characters and runs of spaces, when normalized, then they are single spaces, trimmed", () => {
    expect(normalizeSearchQuery(" plum\u0000\u0002  tart\n")).toBe("plum tart");
    expect(normalizeSearchQuery("\u0001 \t")).toBe("");
  });

  it("given a document's text, when made searchable, then markers and NUL are gone, lines stay, and it is capped", () => {
    expect(searchableBody(`a${S}b\u0000c\nd\te`)).toBe("a b c\nd\te");
    expect(searchableBody("x".repeat(SEARCH_BODY_MAX_CHARS + 10))).toHaveLength(SEARCH_BODY_MAX_CHARS);
  });
});
