// What changed between two versions: the document with insertions, deletions and changes of
// formatting marked in the colour of whoever made them (the same colour as their caret and
// avatar), and a legend.

import { useMemo, type CSSProperties, type ReactNode } from "react";
import { getSchema } from "@tiptap/core";
import type { Extensions, JSONContent } from "@tiptap/react";
import type { DiffView } from "../api/types";
import { diffChangeMark } from "./diff-change-mark";
import type { People } from "./use-history";
import { VersionPreview } from "./version-preview";

interface AuthorTotals {
  userId: string;
  inserted: number;
  deleted: number;
  formatted: number;
}

function totalsOf(diff: DiffView): AuthorTotals[] {
  if (diff.rich) return diff.rich.totals;
  const byAuthor = new Map<string, AuthorTotals>();
  for (const segment of diff.segments) {
    if (segment.kind === "same") continue;
    const userId = segment.userId ?? "";
    const totals = byAuthor.get(userId) ?? { userId, inserted: 0, deleted: 0, formatted: 0 };
    if (segment.kind === "insert") totals.inserted += segment.text.length;
    else totals.deleted += segment.text.length;
    byAuthor.set(userId, totals);
  }
  return [...byAuthor.values()].sort((a, b) => b.inserted + b.deleted - (a.inserted + a.deleted));
}

const plural = (n: number, word: string): string => `${n.toLocaleString()} ${word}${n === 1 ? "" : "s"}`;

/** Only the author's colour varies, so the look of insertions and deletions lives in the stylesheet. */
const authorStyle = (color: string): CSSProperties => ({ "--author": color }) as CSSProperties;

export function DiffLegend({ diff, people }: { diff: DiffView; people: People }): ReactNode {
  const totals = totalsOf(diff);
  if (totals.length === 0) return <p className="diff-legend diff-legend-empty">No changes to the text or its formatting between these versions.</p>;
  return (
    <ul className="diff-legend" aria-label="Who changed what" data-testid="diff-legend">
      {totals.map((t) => (
        <li key={t.userId} className="diff-legend-item" style={authorStyle(people.colorOf(t.userId))}>
          <span className="diff-swatch" aria-hidden="true" />
          <span className="diff-legend-name">{t.userId ? people.nameOf(t.userId) : "Unknown"}</span>
          <span className="muted">
            {t.inserted > 0 && <ins className="diff-count">+{plural(t.inserted, "character")}</ins>}
            {t.inserted > 0 && t.deleted > 0 && " "}
            {t.deleted > 0 && <del className="diff-count">−{plural(t.deleted, "character")}</del>}
            {t.inserted + t.deleted > 0 && t.formatted > 0 && ", "}
            {t.formatted > 0 && <span className="diff-count diff-count-format">{plural(t.formatted, "character")} reformatted</span>}
          </span>
        </li>
      ))}
    </ul>
  );
}

/**
 * The changes in the document itself, with its headings, lists and marks, when the server sent
 * them so (rich text); otherwise the plain text with the changes marked.
 */
export function DiffText({ diff, people, extensions }: { diff: DiffView; people: People; extensions: Extensions }): ReactNode {
  const withChanges = useMemo(() => [...extensions, diffChangeMark(people)], [extensions, people]);
  // A node or mark the editor's schema does not know (written by some other client) would make the
  // document show empty: the plain text's changes are shown instead. (Not a full check: inline code
  // excludes every other mark, the change mark included, yet shows with it.)
  const fitsSchema = useMemo(() => {
    if (!diff.rich) return false;
    try {
      getSchema(withChanges).nodeFromJSON(diff.rich.content);
      return true;
    } catch {
      return false;
    }
  }, [diff.rich, withChanges]);
  if (diff.rich && fitsSchema) {
    return (
      <div className="diff-rich" data-testid="diff-text">
        <VersionPreview extensions={withChanges} content={diff.rich.content as JSONContent} label="What changed between the two versions" />
      </div>
    );
  }
  return (
    <div className="diff-text" data-testid="diff-text">
      {diff.segments.map((segment, i) => {
        if (segment.kind === "same") return <span key={i}>{segment.text}</span>;
        const name = segment.userId ? people.nameOf(segment.userId) : "Unknown";
        const style = authorStyle(people.colorOf(segment.userId ?? ""));
        return segment.kind === "insert" ? (
          <ins key={i} className="diff-insert" style={style} title={`Added by ${name}`} data-author={segment.userId}>
            {segment.text}
          </ins>
        ) : (
          <del key={i} className="diff-delete" style={style} title={`Deleted by ${name}`} data-author={segment.userId}>
            {segment.text}
          </del>
        );
      })}
    </div>
  );
}
