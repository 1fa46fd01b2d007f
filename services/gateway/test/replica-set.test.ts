import { describe, expect, it } from "vitest";
import { ReplicaSet, rotate } from "../src/replica-set.ts";

const TTL = 6_000;

/** Given a set that has heard `ids` announce themselves at time 0, each at ws://<id>. */
function given(...ids: string[]): ReplicaSet {
  const set = new ReplicaSet();
  for (const id of ids) set.up(id, `ws://${id}`, TTL, 0);
  return set;
}

describe("ReplicaSet", () => {
  it("given no announcement, when asked, then there is no replica to choose", () => {
    const set = new ReplicaSet();
    expect(set.choose(0)).toEqual([]);
    expect(set.live(0)).toEqual([]);
  });

  it("given an announcement, when asked within its time to live, then that replica is chosen", () => {
    const set = new ReplicaSet();
    const changes = set.up("a", "ws://a", TTL, 1_000);
    expect(changes).toEqual([{ kind: "added", replicaId: "a", url: "ws://a" }]);
    expect(set.choose(1_000 + TTL - 1)).toEqual(["ws://a"]);
  });

  it("given a replica that fell silent, when its time to live has passed, then it is not chosen and expiring it reports it once", () => {
    const set = given("a", "b");
    set.up("b", "ws://b", TTL, 4_000);
    expect(set.choose(TTL)).toEqual(["ws://b"]);
    expect(set.expire(TTL)).toEqual([{ kind: "expired", replicaId: "a", url: "ws://a" }]);
    expect(set.expire(TTL)).toEqual([]);
    expect(set.live(TTL).map((r) => r.replicaId)).toEqual(["b"]);
  });

  it("given a replica that keeps announcing, when time passes, then each heartbeat extends it and reports no change", () => {
    const set = given("a");
    for (let t = 2_000; t <= 20_000; t += 2_000) expect(set.up("a", "ws://a", TTL, t)).toEqual([]);
    expect(set.expire(25_000)).toEqual([]);
    expect(set.choose(25_000)).toEqual(["ws://a"]);
  });

  it("given a replica that says it is leaving, when asked at once, then it is no longer chosen", () => {
    const set = given("a", "b");
    expect(set.leave("a")).toEqual([{ kind: "left", replicaId: "a", url: "ws://a" }]);
    expect(set.choose(1)).toEqual(["ws://b"]);
    expect(set.leave("a")).toEqual([]);
  });

  it("given a replica that left, when it starts again and announces, then it is chosen again", () => {
    const set = given("a", "b");
    set.leave("a");
    expect(set.up("a", "ws://a", TTL, 10)).toEqual([{ kind: "added", replicaId: "a", url: "ws://a" }]);
    expect(set.live(10).map((r) => r.url)).toEqual(["ws://a", "ws://b"]);
  });

  it("given a replica that moved, when it announces a new URL, then only the new URL is chosen", () => {
    const set = given("a");
    expect(set.up("a", "ws://a2", TTL, 10)).toEqual([{ kind: "moved", replicaId: "a", url: "ws://a2" }]);
    expect(set.choose(10)).toEqual(["ws://a2"]);
  });

  it("given a process that died without a word, when a new one announces the same URL under another id, then the old entry is dropped", () => {
    const set = given("old");
    const changes = set.up("new", "ws://old", TTL, 10);
    expect(changes).toEqual([
      { kind: "left", replicaId: "old", url: "ws://old" },
      { kind: "added", replicaId: "new", url: "ws://old" },
    ]);
    expect(set.choose(10)).toEqual(["ws://old"]);
  });

  it("given three replicas, when connections arrive one after another, then each starts with the next replica and lists every one once", () => {
    const set = given("c", "a", "b");
    const firsts = Array.from({ length: 6 }, () => set.choose(1));
    expect(firsts.map((order) => order[0])).toEqual(["ws://a", "ws://b", "ws://c", "ws://a", "ws://b", "ws://c"]);
    for (const order of firsts) expect([...order].sort()).toEqual(["ws://a", "ws://b", "ws://c"]);
    expect(firsts[1]).toEqual(["ws://b", "ws://c", "ws://a"]);
  });

  it("given a replica leaving between two connections, when the next connection is placed, then it goes to a remaining replica", () => {
    const set = given("a", "b");
    expect(set.choose(1)[0]).toBe("ws://a");
    set.leave("b");
    expect(set.choose(1)).toEqual(["ws://a"]);
  });
});

describe("rotate", () => {
  it("given a list, when rotated by a turn past its length, then it wraps around", () => {
    expect(rotate(["x", "y", "z"], 4)).toEqual(["y", "z", "x"]);
    expect(rotate([], 3)).toEqual([]);
  });
});
