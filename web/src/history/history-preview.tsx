// The version on screen: rendered with the editor's schema, or, with "Show changes", what changed
// between it and the version it is compared with, coloured by author (with a legend).

import type { ReactNode } from "react";
import type { Extensions } from "@tiptap/react";
import { DiffLegend, DiffText } from "./diff-view";
import { BoardDiff, BoardVersionPreview } from "./board-history";
import type { DiffLoad, People, VersionLoad } from "./use-history";
import { VersionPreview } from "./version-preview";

interface HistoryPreviewProps {
  /** Why the history could not be loaded, if it could not, and how to try again. */
  historyError: { message: string; unreachable: boolean; retry: () => void } | null;
  /** Nothing written yet. */
  empty: boolean;
  showChanges: boolean;
  /** The versions compared; null when the shown version is the one compared with. */
  diffRange: { from: number; to: number } | null;
  diff: DiffLoad;
  version: VersionLoad;
  head: number;
  people: People;
  /** The live editor's extensions for a text document; null for a board, drawn as its cards. */
  extensions: Extensions | null;
}

export function HistoryPreview({ historyError, empty, showChanges, diffRange, diff, version, head, people, extensions }: HistoryPreviewProps): ReactNode {
  return (
    <div className="editor-scroll history-scroll">
      {showChanges && diff.diff && diffRange && (
        <div className="history-diff-head">
          <p className="muted">
            What changed from version {diffRange.from} to version {diffRange.to}
            {diffRange.to === head ? " (current)" : ""}
            {extensions
              ? ": added text is underlined, deleted text struck through, reformatted text underlined with dots, in each author’s colour."
              : ": each changed card in its author’s colour, added ones solid, deleted ones dashed."}
          </p>
          {extensions && <DiffLegend diff={diff.diff} people={people} />}
        </div>
      )}
      <div
        className={`editor-surface editor-readonly history-surface${version.loading || diff.loading ? " history-surface-loading" : ""}`}
        data-testid="history-preview"
        data-seq={showChanges ? undefined : version.version?.seq}
        aria-busy={version.loading || diff.loading}
      >
        {historyError ? (
          <div className="history-unavailable">
            <p className="form-alert" role="alert">
              {historyError.unreachable && !navigator.onLine
                ? "You're offline. The history is kept on the server, so it needs a connection; the document itself stays open for editing here."
                : historyError.message}
            </p>
            <button type="button" className="button" onClick={historyError.retry}>
              Try again
            </button>
          </div>
        ) : empty ? (
          <p className="muted">Nothing has been written in this document yet, so it has no history.</p>
        ) : showChanges ? (
          diffRange === null ? (
            <p className="muted">
              This is the version you compare with. Pick another version on the timeslider or in the list, or compare with something else.
            </p>
          ) : diff.error ? (
            <p className="form-alert" role="alert">
              {diff.error}
            </p>
          ) : diff.diff ? (
            extensions ? <DiffText diff={diff.diff} people={people} extensions={extensions} /> : <BoardDiff changes={diff.diff.board ?? []} people={people} />
          ) : null
        ) : version.error ? (
          <p className="form-alert" role="alert">
            {version.error}
          </p>
        ) : (
          extensions ? (
            <VersionPreview extensions={extensions} content={version.version?.content ?? null} />
          ) : (
            version.version && <BoardVersionPreview board={version.version.board} people={people} />
          )
        )}
      </div>
    </div>
  );
}
