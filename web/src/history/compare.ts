// What the shown version is compared with when the changes are shown: the current version, the
// version before its session, the empty document, or a chosen version (named, or kept with
// "Pin this version").

import type { NamedVersion } from "../api/types";
import { sessionOf } from "./sessions";
import type { EditSession } from "./sessions";

export type Compare = "current" | "previous" | "start" | `seq:${number}`;

/** The version `compare` stands for, seen from version `seq`. */
export function compareSeqOf(compare: Compare, seq: number, head: number, sessions: readonly EditSession[]): number {
  if (compare === "current") return head;
  if (compare === "start") return 0;
  if (compare === "previous") return Math.max(0, (sessionOf(sessions, seq)?.fromSeq ?? seq) - 1);
  return Math.min(Number(compare.slice(4)), head);
}

/** The choices of the "Compare with" menu. */
export function compareOptionsOf(named: readonly NamedVersion[], pinned: number | null): { value: Compare; label: string }[] {
  return [
    { value: "current", label: "Current version" },
    { value: "previous", label: "Before this session" },
    { value: "start", label: "Empty document" },
    ...named.map((n) => ({ value: `seq:${n.seq}` as Compare, label: `“${n.name}” (version ${n.seq})` })),
    ...(pinned !== null && !named.some((n) => n.seq === pinned) ? [{ value: `seq:${pinned}` as Compare, label: `Version ${pinned}` }] : []),
  ];
}
