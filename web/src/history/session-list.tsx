// The edits, grouped into sessions by author and time, newest first; a session with several
// authors' runs opens to show each run.

import { useState } from "react";
import type { ReactNode } from "react";
import type { NamedVersion } from "../api/types";
import { exactTime, timeAgo } from "../lib/format";
import type { EditSession } from "./sessions";
import type { People } from "./use-history";

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
  const tokens = [...new Set(session.runs.flatMap((r) => (r.via ? [r.via] : [])))];
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
          {tokens.length > 0 && <span className="muted history-via">via token {tokens.join(", ")}</span>}
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
                <span>{run.via ? `${people.nameOf(run.userId)} (via token ${run.via})` : people.nameOf(run.userId)}</span>
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

interface SessionListProps {
  loading: boolean;
  /** How many edits were loaded. */
  edits: number;
  truncated: boolean;
  newestFirst: EditSession[];
  selectedSeq: number;
  named: NamedVersion[];
  people: People;
  onSelect: (seq: number) => void;
}

export function SessionList({ loading, edits, truncated, newestFirst, selectedSeq, named, people, onSelect }: SessionListProps): ReactNode {
  return (
    <section aria-label="Editing sessions">
      <h3 className="history-section-title">Edits</h3>
      {loading && edits === 0 ? (
        <p className="muted history-loading">Loading the history…</p>
      ) : (
        <ol className="history-sessions" data-testid="history-sessions">
          {newestFirst.map((session, i) => (
            <SessionItem
              key={session.fromSeq}
              session={session}
              current={i === 0}
              selectedSeq={selectedSeq}
              named={named}
              people={people}
              onSelect={onSelect}
            />
          ))}
        </ol>
      )}
      {truncated && <p className="muted">Only the first {edits.toLocaleString()} edits are listed.</p>}
    </section>
  );
}
