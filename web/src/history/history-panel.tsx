// Version history of a text document or a board: a timeslider that plays the document through
// its versions, the edits grouped into sessions by author and time, named versions, a diff view
// coloured by author (a board's: card by card), and restore. Loaded on first use (see
// text-document-page and board-page).
//
// This component holds which version is shown and composes the parts, each in its own module:
//   history-timeslider    play, the slider, "Show changes" and what to compare with
//   history-preview       the version, or the changes with their legend
//   selected-version      the selected version, with name-version-form and restore-confirm,
//                         their state in use-version-actions
//   named-version-list, session-list, activity-list
//                         the named versions, the editing sessions, who did what
//   use-playback          the playback's frames; compare.ts the comparison's choices

import { useEffect, useId, useMemo, useState } from "react";
import type { ReactNode } from "react";
import type { Extensions } from "@tiptap/react";
import type { DocMeta, HistoryEvent, NamedVersion } from "../api/types";
import { canWrite } from "@palimpsest/contracts/shared";
import type { CollabConnection } from "../collab/collab-provider";
import { exactTime } from "../lib/format";
import { compareOptionsOf, compareSeqOf } from "./compare";
import type { Compare } from "./compare";
import { HistoryPreview } from "./history-preview";
import { HistoryTimeslider } from "./history-timeslider";
import { NamedVersionList } from "./named-version-list";
import { SelectedVersion } from "./selected-version";
import { SessionList } from "./session-list";
import { ActivityList } from "./activity-list";
import { groupSessions, playbackStep } from "./sessions";
import { useDiff, useEditHistory, useNamedVersions, usePeople, useVersion } from "./use-history";
import { usePlayback } from "./use-playback";
import { useVersionActions } from "./use-version-actions";
import "./history.css";

type Selection = number | "head";

export interface HistoryPanelProps {
  doc: DocMeta;
  connection: CollabConnection;
  /**
   * A text document's live editor's extensions (without collaboration), so old versions render
   * with its schema; null for a board, whose versions are drawn as cards.
   */
  extensions: Extensions | null;
  onClose: () => void;
  /** After a restore; the restored text reaches every open window through sync. */
  onRestored: (restored: { seq: number; at: string | null; changed: boolean }) => void;
}

export default function HistoryPanel({ doc, connection, extensions, onClose, onRestored }: HistoryPanelProps): ReactNode {
  // Loading again after a failure: Try again, or the browser says the network is back.
  const [attempt, setAttempt] = useState(0);
  const history = useEditHistory(doc.id, connection, attempt);
  const named = useNamedVersions(doc.id, attempt);
  const failed = history.error !== null;
  useEffect(() => {
    if (!failed) return;
    const retry = (): void => setAttempt((n) => n + 1);
    window.addEventListener("online", retry);
    return () => window.removeEventListener("online", retry);
  }, [failed]);
  const people = usePeople(doc.id);
  const mayEdit = canWrite(doc.role);
  const sliderId = useId();
  const ticksId = useId();

  const [selected, setSelected] = useState<Selection>("head");
  const [list, setList] = useState<"versions" | "activity">("versions");
  const [showChanges, setShowChanges] = useState(false);
  const [compare, setCompare] = useState<Compare>("current");
  /** A version kept as one side of the comparison while the slider picks the other. */
  const [pinned, setPinned] = useState<number | null>(null);
  const actions = useVersionActions({ docId: doc.id, name: named.name, onRestored });

  const edits = history.edits;
  const head = edits[edits.length - 1]?.seq ?? 0;
  const first = edits[0]?.seq ?? 0;
  const seq = selected === "head" ? head : Math.min(Math.max(selected, first), head);
  const isHead = seq === head;

  const sessions = useMemo(() => groupSessions(edits), [edits]);
  const newestFirst = useMemo(() => [...sessions].reverse(), [sessions]);
  const editBySeq = useMemo(() => new Map<number, HistoryEvent>(edits.map((e) => [e.seq, e])), [edits]);
  const namedAt = useMemo(() => {
    const bySeq = new Map<number, NamedVersion[]>();
    for (const n of named.items) bySeq.set(n.seq, [...(bySeq.get(n.seq) ?? []), n]);
    return bySeq;
  }, [named.items]);

  const compareSeq = compareSeqOf(compare, seq, head, sessions);
  const diffRange = showChanges && seq > 0 && compareSeq !== seq ? { from: Math.min(seq, compareSeq), to: Math.max(seq, compareSeq) } : null;
  const version = useVersion(doc.id, seq > 0 && !showChanges ? seq : null);
  const diff = useDiff(doc.id, diffRange);

  const step = playbackStep(first, head);
  const [playing, setPlaying] = usePlayback({ version, seq, head, step, show: setSelected });

  // Escape leaves the history, unless a field inside used it (say, to cancel naming).
  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      if (event.key === "Escape" && !event.defaultPrevented && !document.querySelector("dialog[open]")) onClose();
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [onClose]);

  const select = (next: number): void => {
    setPlaying(false);
    actions.reset();
    setSelected(next >= head ? "head" : next);
  };

  const togglePlay = (): void => {
    if (playing) {
      setPlaying(false);
      return;
    }
    setShowChanges(false);
    actions.cancelRestore();
    if (seq >= head) setSelected(first);
    setPlaying(true);
  };

  const selectedEdit = editBySeq.get(seq);
  const selectedNames = namedAt.get(seq) ?? [];
  const title = selectedNames[0]?.name ?? (isHead ? "Current version" : selectedEdit ? exactTime(selectedEdit.at) : "");

  const empty = !history.loading && edits.length === 0;

  return (
    <div className="history-layout" data-testid="history-panel">
      <section className="history-main" aria-label="Version preview">
        <HistoryTimeslider
          sliderId={sliderId}
          ticksId={ticksId}
          playing={playing}
          onTogglePlay={togglePlay}
          edits={edits.length}
          first={first}
          head={head}
          unavailable={failed}
          seq={seq}
          selectedEdit={selectedEdit}
          named={named.items}
          onSelect={select}
          showChanges={showChanges}
          onShowChanges={(show) => {
            setPlaying(false);
            setShowChanges(show);
          }}
          compare={compare}
          compareOptions={compareOptionsOf(named.items, pinned)}
          onCompare={setCompare}
          onPin={() => {
            setPinned(seq);
            setCompare(`seq:${seq}`);
          }}
        />

        <HistoryPreview
          historyError={history.error === null ? null : { message: history.error, unreachable: history.unreachable, retry: () => setAttempt((n) => n + 1) }}
          empty={empty}
          showChanges={showChanges}
          diffRange={diffRange}
          diff={diff}
          version={version}
          head={head}
          people={people}
          extensions={extensions}
        />
      </section>

      <aside className="history-side" aria-label="Version history">
        <header className="history-side-header">
          <h2>Version history</h2>
          <button type="button" className="icon-button" aria-label="Close the history" title="Back to the document (Esc)" onClick={onClose}>
            <svg viewBox="0 0 20 20" aria-hidden="true">
              <path d="M5 5l10 10M15 5 5 15" />
            </svg>
          </button>
        </header>

        {head > 0 && (
          <SelectedVersion
            title={title}
            seq={seq}
            isHead={isHead}
            selectedEdit={selectedEdit}
            people={people}
            mayEdit={mayEdit}
            nameInputId={`${sliderId}-name`}
            actions={actions}
          />
        )}

        <div className="history-tabs" role="group" aria-label="What to list">
          <button type="button" className={`button button-compact${list === "versions" ? " button-pressed" : ""}`} aria-pressed={list === "versions"} onClick={() => setList("versions")}>
            Versions
          </button>
          <button type="button" className={`button button-compact${list === "activity" ? " button-pressed" : ""}`} aria-pressed={list === "activity"} onClick={() => setList("activity")}>
            Activity
          </button>
        </div>

        <div className="history-lists">
          {list === "activity" ? (
            <ActivityList docId={doc.id} edits={edits} people={people} onSelect={select} />
          ) : (
            <>
              {/* When the history itself failed, its message says why once; the lists stay quiet. */}
              <NamedVersionList items={named.items} error={failed ? null : named.error} selectedSeq={seq} people={people} onSelect={select} />
              <SessionList
                loading={history.loading}
                edits={edits.length}
                truncated={history.truncated}
                newestFirst={newestFirst}
                selectedSeq={seq}
                named={named.items}
                people={people}
                onSelect={select}
              />
            </>
          )}
        </div>
      </aside>
    </div>
  );
}
