import { describe, expect, it } from "vitest";
import { groupSessions } from "../../web/src/history/sessions.ts";
import type { EditView as HistoryEvent } from "@palimpsest/contracts";

const edit = (seq: number, userId: string, via?: string): HistoryEvent => ({
  seq,
  streamSeq: seq,
  at: new Date(Date.UTC(2026, 0, 1, 12, 0, seq)).toISOString(),
  userId,
  clientId: `conn-${userId}-${via ?? "me"}`,
  size: 1,
  ...(via ? { via: { tokenId: `tok-${via}`, name: via } } : {}),
});

describe("history sessions with edits made through API tokens", () => {
  it("given a person's typing and then their bot's edits, when grouped, then the bot's are a run of their own, named by its token", () => {
    const [session] = groupSessions([edit(1, "ann"), edit(2, "ann"), edit(3, "ann", "Release bot"), edit(4, "ann", "Release bot"), edit(5, "ann")]);
    expect(session?.runs.map((r) => [r.userId, r.via ?? null, r.fromSeq, r.toSeq])).toEqual([
      ["ann", null, 1, 2],
      ["ann", "Release bot", 3, 4],
      ["ann", null, 5, 5],
    ]);
    // Its owner is still the author the edits count for.
    expect(session?.authors).toEqual([{ userId: "ann", edits: 5 }]);
  });
});
