// Who did what to the document, newest first and grouped by day: its creation, renames,
// sharing, comments, attachments, and editing sessions. Each entry can show the document as it
// was right after it, in the history beside it.

import { useEffect, useState } from "react";
import type { ReactNode } from "react";
import type { ActivityItem, HistoryEvent } from "../api/types";
import { api } from "../api/api-client";
import { exactTime } from "../lib/format";
import type { People } from "./use-history";

const str = (data: Record<string, unknown> | undefined, key: string): string => {
  const v = data?.[key];
  return typeof v === "string" ? v : "";
};

/** The entry as a sentence after the person's name; null for what is not worth a line. */
export function describeActivity(item: ActivityItem, nameOf: (userId: string) => string): string | null {
  const d = item.data;
  switch (item.type) {
    case "created":
      return "created the document";
    case "renamed":
      return `renamed it “${str(d, "title")}”`;
    case "shared":
      return `shared it with ${nameOf(str(d, "userId"))} as ${str(d, "role")}`;
    case "invited":
      return `invited ${str(d, "email")} as ${str(d, "role")}`;
    case "invitation-cancelled":
      return `cancelled the invitation of ${str(d, "email")}`;
    case "role-changed":
      return `made ${nameOf(str(d, "userId"))} ${str(d, "role")}`;
    case "member-removed":
      return str(d, "reason") === "left" ? "left the document" : `removed ${nameOf(str(d, "userId"))}`;
    case "ownership-transferred":
      return `made ${nameOf(str(d, "toUserId"))} the owner`;
    case "trashed":
      return "moved it to the trash";
    case "untrashed":
      return "took it out of the trash";
    case "version-named":
      return `named a version “${str(d, "name")}”`;
    case "comment.created":
      return str(d, "threadId") ? "replied to a comment" : "commented";
    case "comment.edited":
      return "changed a comment";
    case "comment.deleted":
      return "deleted a comment";
    case "comment.resolved":
      return "resolved a comment";
    case "comment.reopened":
      return "reopened a comment";
    case "file.uploaded":
      return `attached ${str(d, "name")}`;
    case "file.deleted":
      return str(d, "reason") === "purged" ? null : "removed an attachment";
    case "edited": {
      const edits = item.session?.edits ?? 0;
      return `edited (${edits} change${edits === 1 ? "" : "s"})`;
    }
    default:
      return null;
  }
}

function dayOf(iso: string, now = new Date()): string {
  const day = new Date(iso);
  const startOf = (d: Date) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const days = Math.round((startOf(now) - startOf(day)) / 86_400_000);
  if (days === 0) return "Today";
  if (days === 1) return "Yesterday";
  return day.toLocaleDateString(undefined, { weekday: "long", day: "numeric", month: "long", year: day.getFullYear() === now.getFullYear() ? undefined : "numeric" });
}

/** The newest version at `at`, which is what the document looked like right after the entry. */
function versionAt(edits: readonly HistoryEvent[], at: string): number | null {
  let found: number | null = null;
  for (const e of edits) {
    if (e.at > at) break;
    found = e.seq;
  }
  return found;
}

export function ActivityList({ docId, edits, people, onSelect }: { docId: string; edits: readonly HistoryEvent[]; people: People; onSelect: (seq: number) => void }): ReactNode {
  const [items, setItems] = useState<ActivityItem[] | null>(null);
  const [error, setError] = useState(false);
  useEffect(() => {
    const controller = new AbortController();
    api.docs.activity(docId, controller.signal).then(
      (page) => setItems(page.items),
      () => {
        if (!controller.signal.aborted) setError(true);
      },
    );
    return () => controller.abort();
  }, [docId]);

  if (error) return <p className="muted history-note">The activity could not be loaded. Close the history and open it again to retry.</p>;
  if (items === null) return <p className="muted history-note">Loading the activity…</p>;
  const lines = items.flatMap((item) => {
    const what = describeActivity(item, people.nameOf);
    return what ? [{ item, what }] : [];
  });
  if (lines.length === 0) return <p className="muted history-note">Nothing has happened here yet.</p>;

  const days: { day: string; lines: typeof lines }[] = [];
  for (const line of lines) {
    const day = dayOf(line.item.at);
    if (days.at(-1)?.day !== day) days.push({ day, lines: [] });
    days.at(-1)!.lines.push(line);
  }
  return (
    <div className="activity" data-testid="activity">
      {days.map(({ day, lines: dayLines }) => (
        <section key={day} className="activity-day">
          <h3 className="activity-day-title">{day}</h3>
          <ol className="activity-list">
            {dayLines.map(({ item, what }, i) => {
              const seq = versionAt(edits, item.type === "edited" ? (item.session?.to ?? item.at) : item.at);
              return (
                <li key={`${item.at}-${item.type}-${i}`} className="activity-item" data-testid="activity-item" data-type={item.type}>
                  <span className="history-dot" style={{ backgroundColor: item.userId ? people.colorOf(item.userId) : "transparent" }} aria-hidden="true" />
                  <span className="activity-text">
                    <strong>{item.userId ? people.nameOf(item.userId) : "Palimpsest"}</strong> {what}
                    {" "}
                    <time className="muted activity-time" dateTime={item.at} title={exactTime(item.at)}>
                      {new Date(item.at).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" })}
                    </time>
                  </span>
                  {seq !== null && (
                    <button type="button" className="link-button activity-show" onClick={() => onSelect(seq)}>
                      Show the version
                    </button>
                  )}
                </li>
              );
            })}
          </ol>
        </section>
      ))}
    </div>
  );
}
