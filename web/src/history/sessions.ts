// Groups a document's edit events into what people remember: editing sessions (bursts of work
// separated by a pause) and, inside each, the runs of consecutive edits by one person.

import { EDIT_SESSION_GAP_MS, isRestoreClient } from "@palimpsest/contracts/shared";
import type { EditView as HistoryEvent } from "@palimpsest/contracts/shared";

/** Consecutive edits by one person inside a session. */
export interface AuthorRun {
  userId: string;
  /** Made through one of the user's API tokens: its name. */
  via?: string;
  fromSeq: number;
  toSeq: number;
  start: string;
  end: string;
  edits: number;
}

export interface EditSession {
  /** First and last version made in this session; selecting the session shows `toSeq`. */
  fromSeq: number;
  toSeq: number;
  start: string;
  end: string;
  edits: number;
  /** Who edited, busiest first, with their number of edits. */
  authors: { userId: string; edits: number }[];
  runs: AuthorRun[];
  /** A restore made (part of) this session. */
  restored: boolean;
}

const isRestore = (edit: HistoryEvent): boolean => isRestoreClient(edit.clientId);

/** Sessions oldest first; `edits` must be in version order. */
export function groupSessions(edits: readonly HistoryEvent[], gapMs: number = EDIT_SESSION_GAP_MS): EditSession[] {
  const sessions: EditSession[] = [];
  let current: EditSession | undefined;
  let counts = new Map<string, number>();
  let previousAt = Number.NEGATIVE_INFINITY;

  const close = (): void => {
    if (!current) return;
    current.authors = [...counts].map(([userId, n]) => ({ userId, edits: n })).sort((a, b) => b.edits - a.edits || a.userId.localeCompare(b.userId));
    sessions.push(current);
  };

  for (const edit of edits) {
    const at = Date.parse(edit.at);
    // A restore is a deliberate step of its own, so it never blends into the typing around it.
    if (!current || at - previousAt > gapMs || isRestore(edit)) {
      close();
      current = { fromSeq: edit.seq, toSeq: edit.seq, start: edit.at, end: edit.at, edits: 0, authors: [], runs: [], restored: false };
      counts = new Map();
    }
    current.toSeq = edit.seq;
    current.end = edit.at;
    current.edits += 1;
    current.restored ||= isRestore(edit);
    counts.set(edit.userId, (counts.get(edit.userId) ?? 0) + 1);
    const run = current.runs[current.runs.length - 1];
    // A bot working with its owner's token is a run of its own beside its owner's typing.
    if (run && run.userId === edit.userId && run.via === edit.via?.name) {
      run.toSeq = edit.seq;
      run.end = edit.at;
      run.edits += 1;
    } else {
      current.runs.push({ userId: edit.userId, ...(edit.via ? { via: edit.via.name } : {}), fromSeq: edit.seq, toSeq: edit.seq, start: edit.at, end: edit.at, edits: 1 });
    }
    previousAt = at;
    // A restore stands alone: whatever follows it is a new session.
    if (isRestore(edit)) {
      close();
      current = undefined;
    }
  }
  close();
  return sessions;
}

/** The session holding version `seq`, if any. */
export function sessionOf(sessions: readonly EditSession[], seq: number): EditSession | undefined {
  return sessions.find((s) => seq >= s.fromSeq && seq <= s.toSeq);
}

/** How many timeslider steps make playback take about `frames` frames. */
export function playbackStep(min: number, max: number, frames = 50): number {
  return Math.max(1, Math.ceil((max - min) / frames));
}
