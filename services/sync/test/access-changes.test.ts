import { describe, expect, it } from "vitest";
import { RecentAccessChanges } from "../src/access-changes.ts";

describe("RecentAccessChanges", () => {
  it("tells a connection the newest change to its user's access made after its mark", () => {
    const recent = new RecentAccessChanges();
    recent.record("d1", "u1", { kind: "role", role: "owner" });
    const mark = recent.mark();
    expect(recent.since(mark, "d1", "u1")).toBeUndefined();
    recent.record("d1", "u1", { kind: "role", role: "viewer" });
    recent.record("d1", "u2", { kind: "removed" });
    expect(recent.since(mark, "d1", "u1")).toEqual({ kind: "role", role: "viewer" });
    expect(recent.since(mark, "d1", "u2")).toEqual({ kind: "removed" });
    expect(recent.since(mark, "d2", "u1")).toBeUndefined();
    recent.record("d1", null, { kind: "trashed" });
    expect(recent.since(mark, "d1", "u3")).toEqual({ kind: "trashed" });
  });

  it("of a change to the document and a later one to the user's workspace roles, tells the later", () => {
    const recent = new RecentAccessChanges();
    const mark = recent.mark();
    recent.record("d1", "u1", { kind: "role", role: "editor" });
    recent.record(null, "u1", { kind: "unknown" });
    expect(recent.since(mark, "d1", "u1")).toEqual({ kind: "unknown" });
    // And the other way round.
    const later = recent.mark();
    recent.record(null, "u1", { kind: "unknown" });
    recent.record("d1", "u1", { kind: "removed" });
    expect(recent.since(later, "d1", "u1")).toEqual({ kind: "removed" });
    // A workspace change of another user is not this one's.
    const third = recent.mark();
    recent.record(null, "u2", { kind: "unknown" });
    expect(recent.since(third, "d1", "u1")).toBeUndefined();
  });

  it("says it cannot tell once changes after the mark were dropped to stay bounded", () => {
    const recent = new RecentAccessChanges(2);
    const mark = recent.mark();
    for (const u of ["a", "b", "c"]) recent.record("d", u, { kind: "role", role: "viewer" });
    expect(recent.since(mark, "d", "z")).toEqual({ kind: "unknown" });
    expect(recent.since(recent.mark(), "d", "c")).toBeUndefined();
  });
});
