import { describe, expect, it } from "vitest";
import { BusyReplicas } from "../src/busy-replicas.ts";

describe("busy replicas", () => {
  it("given a replica that turned a connection away, then it rests for a second and is tried again after", () => {
    const busy = new BusyReplicas(1_000);
    busy.mark("ws://a", 10_000);
    expect(busy.isBusy("ws://a", 10_999)).toBe(true);
    expect(busy.isBusy("ws://b", 10_999)).toBe(false);
    expect(busy.isBusy("ws://a", 11_000)).toBe(false);
  });

  it("given two replicas, then all are busy only while both rest, and an empty list is never busy", () => {
    const busy = new BusyReplicas(1_000);
    busy.mark("ws://a", 0);
    expect(busy.allBusy(["ws://a", "ws://b"], 500)).toBe(false);
    busy.mark("ws://b", 600);
    expect(busy.allBusy(["ws://a", "ws://b"], 700)).toBe(true);
    expect(busy.allBusy(["ws://a", "ws://b"], 1_000)).toBe(false);
    expect(busy.allBusy([], 700)).toBe(false);
  });
});
