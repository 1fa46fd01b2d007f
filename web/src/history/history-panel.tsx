// Version history of a text document: a timeslider that plays the document through its
// versions, the edits grouped into sessions by author and time, named versions, a diff view
// coloured by author, and restore. Loaded on first use (see text-document-page).

import { useEffect, useId, useMemo, useRef, useState } from "react";
import type { FormEvent, ReactNode } from "react";
import type { Extensions } from "@tiptap/react";
import type { DocMeta, HistoryEvent, NamedVersion } from "../api/types";
import { canWrite } from "@palimpsest/contracts/shared";
import { ApiError } from "../api/http";
import { api } from "../api/api-client";
import type { CollabConnection } from "../collab/collab-provider";
import { exactTime, timeAgo } from "../lib/format";
import { DiffLegend, DiffText } from "./diff-view";
import { groupSessions, playbackStep, sessionOf } from "./sessions";
import type { EditSession } from "./sessions";
import { useDiff, useEditHistory, useNamedVersions, usePeople, useVersion } from "./use-history";
import type { People } from "./use-history";
import { VersionPreview } from "./version-preview";
import "./history.css";

/** How long each frame of the playback stays on screen once it has loaded. */
const FRAME_MS = 140;

type Selection = number | "head";
type Compare = "current" | "previous" | "start" | `seq:${number}`;

export interface HistoryPanelProps {
  doc: DocMeta;
  connection: CollabConnection;
  /** The live editor's extensions (without collaboration), so old versions render with its schema. */
  extensions: Extensions;
  onClose: () => void;
  /** After a restore; the restored text reaches every open window through sync. */
  onRestored: (restored: { seq: number; at: string | null; changed: boolean }) => void;
}

function Authors({ authors, people }: { authors: { userId: string; edits: number }[]; people: People }): ReactNode {
  return (
    <span className="history-authors">
      {authors.map((a) => (
        <span key={a.userId} className="history-author" title={`${people.nameOf(a.userId)}: ${a.edits} edit${a.edits === 1 ? "" : "s"}`}>
          <span className="history-dot" style={{ backgroundColor: people.colorOf(a.userId) }} aria-hidden="true" />
          {people.nameOf(a.userId)}
        </span>
      ))}
    </span>
  );
}

interface SessionItemProps {
  session: EditSession;
  current: boolean;
  selectedSeq: number;
  named: NamedVersion[];
  people: People;
  onSelect: (seq: number) => void;
}

function SessionItem({ session, current, selectedSeq, named, people, onSelect }: SessionItemProps): ReactNode {
  const [open, setOpen] = useState(false);
  const selected = selectedSeq >= session.fromSeq && selectedSeq <= session.toSeq;
  const labels = named.filter((n) => n.seq >= session.fromSeq && n.seq <= session.toSeq);
  const multipleRuns = session.runs.length > 1;
  return (
    <li className={`history-session${selected ? " history-session-selected" : ""}`} data-from-seq={session.fromSeq} data-to-seq={session.toSeq}>
      <div className="history-session-row">
        <button type="button" className="history-session-main" aria-pressed={selected} onClick={() => onSelect(session.toSeq)}>
          <span className="history-session-head">
            <span className="history-session-time">{exactTime(session.end)}</span>
            {current && <span className="history-tag history-tag-current">Current version</span>}
            {session.restored && <span className="history-tag">Restored</span>}
            {labels.map((n) => (
              <span key={`${n.name}-${n.seq}`} className="history-tag history-tag-named">
                {n.name}
              </span>
            ))}
          </span>
          <Authors authors={session.authors} people={people} />
          <span className="history-session-meta muted">
            {session.edits} edit{session.edits === 1 ? "" : "s"} · {timeAgo(session.end)}
          </span>
        </button>
        {multipleRuns && (
          <button
            type="button"
            className="icon-button history-expand"
            aria-expanded={open}
            aria-label={open ? "Hide the steps of this session" : "Show the steps of this session"}
            onClick={() => setOpen(!open)}
          >
            <svg viewBox="0 0 20 20" aria-hidden="true">
              <path d={open ? "m5 12 5-5 5 5" : "m5 8 5 5 5-5"} />
            </svg>
          </button>
        )}
      </div>
      {open && multipleRuns && (
        <ol className="history-runs">
          {[...session.runs].reverse().map((run) => (
            <li key={run.fromSeq}>
              <button
                type="button"
                className="history-run"
                aria-pressed={selectedSeq >= run.fromSeq && selectedSeq <= run.toSeq}
                onClick={() => onSelect(run.toSeq)}
              >
                <span className="history-dot" style={{ backgroundColor: people.colorOf(run.userId) }} aria-hidden="true" />
                <span>{people.nameOf(run.userId)}</span>
                <span className="muted">
                  {new Date(run.end).toLocaleTimeString(undefined, { hour: "numeric", minute: "2-digit", second: "2-digit" })} · {run.edits} edit
                  {run.edits === 1 ? "" : "s"}
                </span>
              </button>
            </li>
          ))}
        </ol>
      )}
    </li>
  );
}

export default function HistoryPanel({ doc, connection, extensions, onClose, onRestored }: HistoryPanelProps): ReactNode {
  const history = useEditHistory(doc.id, connection);
  const named = useNamedVersions(doc.id);
  const people = usePeople(doc.id);
  const mayEdit = canWrite(doc.role);
  const sliderId = useId();
  const ticksId = useId();
  const nameInputRef = useRef<HTMLInputElement>(null);

  const [selected, setSelected] = useState<Selection>("head");
  const [playing, setPlaying] = useState(false);
  const [showChanges, setShowChanges] = useState(false);
  const [compare, setCompare] = useState<Compare>("current");
  /** A version kept as one side of the comparison while the slider picks the other. */
  const [pinned, setPinned] = useState<number | null>(null);
  const [naming, setNaming] = useState(false);
  const [nameDraft, setNameDraft] = useState("");
  const [confirmRestore, setConfirmRestore] = useState(false);
  const [working, setWorking] = useState(false);
  const [actionError, setActionError] = useState("");
  const [notice, setNotice] = useState("");

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

  const compareSeq = ((): number => {
    if (compare === "current") return head;
    if (compare === "start") return 0;
    if (compare === "previous") return Math.max(0, (sessionOf(sessions, seq)?.fromSeq ?? seq) - 1);
    return Math.min(Number(compare.slice(4)), head);
  })();
  const diffRange = showChanges && seq > 0 && compareSeq !== seq ? { from: Math.min(seq, compareSeq), to: Math.max(seq, compareSeq) } : null;
  const version = useVersion(doc.id, seq > 0 && !showChanges ? seq : null);
  const diff = useDiff(doc.id, diffRange);

  const step = playbackStep(first, head);

  // Playback: the next frame once this one is on screen, until the current version.
  useEffect(() => {
    if (!playing) return;
    if (version.error) {
      setPlaying(false);
      return;
    }
    if (version.loading || version.version?.seq !== seq) return;
    if (seq >= head) {
      setPlaying(false);
      return;
    }
    const next = Math.min(head, seq + step);
    version.prefetch(next);
    const timer = setTimeout(() => setSelected(next >= head ? "head" : next), FRAME_MS);
    return () => clearTimeout(timer);
  }, [playing, version, seq, head, step]);

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
    setConfirmRestore(false);
    setNaming(false);
    setActionError("");
    setNotice("");
    setSelected(next >= head ? "head" : next);
  };

  const togglePlay = (): void => {
    if (playing) {
      setPlaying(false);
      return;
    }
    setShowChanges(false);
    setConfirmRestore(false);
    if (seq >= head) setSelected(first);
    setPlaying(true);
  };

  const nameVersion = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    const name = nameDraft.trim();
    if (name === "") {
      setActionError("Give the version a name.");
      return;
    }
    setWorking(true);
    setActionError("");
    try {
      await named.name(name, seq);
      setNaming(false);
      setNameDraft("");
      setNotice(`Named this version “${name}”.`);
    } catch (err) {
      setActionError(err instanceof ApiError ? err.message : "Could not name the version.");
    } finally {
      setWorking(false);
    }
  };

  const restore = async (): Promise<void> => {
    setWorking(true);
    setActionError("");
    try {
      const result = await api.versions.restore(doc.id, seq);
      onRestored({ seq, at: editBySeq.get(seq)?.at ?? null, changed: result.changed });
    } catch (err) {
      setActionError(err instanceof ApiError ? err.message : "Could not restore this version.");
      setWorking(false);
    }
  };

  const selectedEdit = editBySeq.get(seq);
  const selectedNames = namedAt.get(seq) ?? [];
  const title = selectedNames[0]?.name ?? (isHead ? "Current version" : selectedEdit ? exactTime(selectedEdit.at) : "");

  const compareOptions: { value: Compare; label: string }[] = [
    { value: "current", label: "Current version" },
    { value: "previous", label: "Before this session" },
    { value: "start", label: "Empty document" },
    ...named.items.map((n) => ({ value: `seq:${n.seq}` as Compare, label: `“${n.name}” (version ${n.seq})` })),
    ...(pinned !== null && !named.items.some((n) => n.seq === pinned) ? [{ value: `seq:${pinned}` as Compare, label: `Version ${pinned}` }] : []),
  ];

  const empty = !history.loading && edits.length === 0;

  return (
    <div className="history-layout" data-testid="history-panel">
      <section className="history-main" aria-label="Version preview">
        <div className="history-bar">
          <button
            type="button"
            className="icon-button history-play"
            aria-label={playing ? "Pause" : "Play the history"}
            title={playing ? "Pause" : "Play the document through its versions"}
            onClick={togglePlay}
            disabled={edits.length < 2}
          >
            {playing ? (
              <svg viewBox="0 0 20 20" aria-hidden="true">
                <path className="fill" d="M5.5 4h3v12h-3zM11.5 4h3v12h-3z" />
              </svg>
            ) : (
              <svg viewBox="0 0 20 20" aria-hidden="true">
                <path className="fill" d="M6 4v12l10-6z" />
              </svg>
            )}
          </button>
          <label htmlFor={sliderId} className="visually-hidden">
            Timeslider
          </label>
          <input
            id={sliderId}
            className="history-slider"
            type="range"
            min={first}
            max={head}
            step={1}
            value={seq}
            list={ticksId}
            disabled={edits.length < 2}
            aria-valuetext={`Version ${seq} of ${head}${selectedEdit ? `, ${exactTime(selectedEdit.at)}` : ""}`}
            onChange={(event) => select(Number(event.target.value))}
          />
          <datalist id={ticksId}>
            {named.items.map((n) => (
              <option key={`${n.name}-${n.seq}`} value={n.seq} label={n.name} />
            ))}
          </datalist>
          <output className="history-position" htmlFor={sliderId} data-testid="history-position">
            {head === 0 ? "No versions yet" : `Version ${seq} of ${head}`}
          </output>
          <label className="history-toggle">
            <input
              type="checkbox"
              checked={showChanges}
              onChange={(event) => {
                setPlaying(false);
                setShowChanges(event.target.checked);
              }}
              disabled={head === 0}
            />
            Show changes
          </label>
          {showChanges && (
            <>
              <select aria-label="Compare with" value={compare} onChange={(event) => setCompare(event.target.value as Compare)}>
                {compareOptions.map((o) => (
                  <option key={o.value} value={o.value}>
                    Compare with: {o.label}
                  </option>
                ))}
              </select>
              <button
                type="button"
                className="button button-compact button-quiet"
                title="Keep this version as one side of the comparison, then pick the other on the timeslider"
                disabled={seq === 0}
                onClick={() => {
                  setPinned(seq);
                  setCompare(`seq:${seq}`);
                }}
              >
                Compare with this version
              </button>
            </>
          )}
        </div>

        <div className="editor-scroll history-scroll">
          {showChanges && diff.diff && diffRange && (
            <div className="history-diff-head">
              <p className="muted">
                What changed from version {diffRange.from} to version {diffRange.to}
                {diffRange.to === head ? " (current)" : ""}: added text is underlined, deleted text struck through, in each author’s colour.
              </p>
              <DiffLegend diff={diff.diff} people={people} />
            </div>
          )}
          <div
            className={`editor-surface editor-readonly history-surface${version.loading || diff.loading ? " history-surface-loading" : ""}`}
            data-testid="history-preview"
            data-seq={showChanges ? undefined : version.version?.seq}
            aria-busy={version.loading || diff.loading}
          >
            {history.error ? (
              <p className="form-alert" role="alert">
                {history.error}
              </p>
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
                <DiffText diff={diff.diff} people={people} />
              ) : null
            ) : version.error ? (
              <p className="form-alert" role="alert">
                {version.error}
              </p>
            ) : (
              <VersionPreview extensions={extensions} content={version.version?.content ?? null} />
            )}
          </div>
        </div>
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
          <div className="history-selected" data-testid="history-selected">
            <p className="history-selected-title">{title}</p>
            <p className="muted history-selected-meta">
              Version {seq}
              {selectedEdit && (
                <>
                  {" · "}
                  <span className="history-dot" style={{ backgroundColor: people.colorOf(selectedEdit.userId) }} aria-hidden="true" />{" "}
                  {people.nameOf(selectedEdit.userId)} · <span title={exactTime(selectedEdit.at)}>{timeAgo(selectedEdit.at)}</span>
                </>
              )}
            </p>
            {mayEdit && !naming && !confirmRestore && (
              <div className="history-actions">
                <button
                  type="button"
                  className="button button-compact"
                  onClick={() => {
                    setNaming(true);
                    setNotice("");
                    setActionError("");
                    queueMicrotask(() => nameInputRef.current?.focus());
                  }}
                >
                  Name this version
                </button>
                <button
                  type="button"
                  className="button button-compact button-primary"
                  disabled={isHead || working}
                  title={isHead ? "This is already the current version" : "Make the document equal this version again"}
                  onClick={() => {
                    setConfirmRestore(true);
                    setNotice("");
                    setActionError("");
                  }}
                >
                  Restore this version
                </button>
              </div>
            )}
            {naming && (
              <form className="history-name-form" onSubmit={(event) => void nameVersion(event)}>
                <label className="visually-hidden" htmlFor={`${sliderId}-name`}>
                  Version name
                </label>
                <input
                  ref={nameInputRef}
                  id={`${sliderId}-name`}
                  type="text"
                  maxLength={100}
                  placeholder="e.g. First draft"
                  value={nameDraft}
                  onChange={(event) => setNameDraft(event.target.value)}
                  onKeyDown={(event) => {
                    if (event.key === "Escape") {
                      event.preventDefault();
                      setNaming(false);
                    }
                  }}
                  disabled={working}
                />
                <button type="submit" className="button button-compact button-primary" disabled={working}>
                  Save name
                </button>
                <button type="button" className="button button-compact button-quiet" onClick={() => setNaming(false)}>
                  Cancel
                </button>
              </form>
            )}
            {confirmRestore && (
              <div className="history-confirm" role="group" aria-label="Confirm restore">
                <p>
                  Restore the document to this version? Everyone editing sees it at once. Nothing is lost: the current version stays in
                  the history.
                </p>
                <div className="history-actions">
                  <button type="button" className="button button-compact button-primary" disabled={working} onClick={() => void restore()}>
                    {working ? "Restoring…" : "Restore"}
                  </button>
                  <button type="button" className="button button-compact button-quiet" disabled={working} onClick={() => setConfirmRestore(false)}>
                    Cancel
                  </button>
                </div>
              </div>
            )}
            <p className="form-alert" role="alert">
              {actionError}
            </p>
            <p className="history-notice" role="status">
              {notice}
            </p>
          </div>
        )}

        <div className="history-lists">
          {named.items.length > 0 && (
            <section aria-label="Named versions">
              <h3 className="history-section-title">Named versions</h3>
              <ul className="history-named" data-testid="named-versions">
                {named.items.map((n) => (
                  <li key={`${n.name}-${n.seq}`}>
                    <button type="button" className="history-named-item" aria-pressed={n.seq === seq} onClick={() => select(n.seq)}>
                      <span className="history-named-name">{n.name}</span>
                      <span className="muted">
                        Version {n.seq} · named by {people.nameOf(n.namedBy)} · {timeAgo(n.namedAt)}
                      </span>
                    </button>
                  </li>
                ))}
              </ul>
            </section>
          )}
          {named.error && <p className="form-alert">{named.error}</p>}

          <section aria-label="Editing sessions">
            <h3 className="history-section-title">Edits</h3>
            {history.loading && edits.length === 0 ? (
              <p className="muted history-loading">Loading the history…</p>
            ) : (
              <ol className="history-sessions" data-testid="history-sessions">
                {newestFirst.map((session, i) => (
                  <SessionItem
                    key={session.fromSeq}
                    session={session}
                    current={i === 0}
                    selectedSeq={seq}
                    named={named.items}
                    people={people}
                    onSelect={select}
                  />
                ))}
              </ol>
            )}
            {history.truncated && <p className="muted">Only the first {edits.length.toLocaleString()} edits are listed.</p>}
          </section>
        </div>
      </aside>
    </div>
  );
}
