import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import * as awarenessProtocol from "y-protocols/awareness";
import type { NatsConnection } from "@nats-io/transport-node";
import { EditHeaders, subjects } from "@palimpsest/contracts";
import type { Logger } from "@palimpsest/platform";
import { PresenceRelay } from "../src/presence-relay.ts";
import { ReplicaPeers } from "../src/replica-presence.ts";

interface Published {
  subject: string;
  data: Uint8Array;
  replica: string | undefined;
}

/** Core NATS as the relay uses it: publishes are recorded, subscriptions are called by hand. */
function fakeNats() {
  const published: Published[] = [];
  const handlers = new Map<string, (err: unknown, msg: { data: Uint8Array; headers?: { get(k: string): string } }) => void>();
  const nc = {
    publish(subject: string, data: Uint8Array, opts?: { headers?: { get(k: string): string } }) {
      published.push({ subject, data, replica: opts?.headers?.get(EditHeaders.replica) });
    },
    subscribe(subject: string, opts: { callback: (err: unknown, msg: never) => void }) {
      handlers.set(subject, opts.callback as never);
      return { unsubscribe: () => handlers.delete(subject) };
    },
  };
  const deliver = (subject: string, data: Uint8Array, replica: string) =>
    handlers.get(subject)?.(null, { data, headers: { get: (k: string) => (k === EditHeaders.replica ? replica : "") } });
  return { nc: nc as unknown as NatsConnection, published, handlers, deliver };
}

const log = { warn: () => undefined } as unknown as Logger;

/** A client's presence as an awareness update, with the client id it announces. */
function clientPresence(name: string): { id: number; update: Uint8Array } {
  const a = new awarenessProtocol.Awareness(new Y.Doc());
  a.setLocalState({ user: { name } });
  return { id: a.clientID, update: awarenessProtocol.encodeAwarenessUpdate(a, [a.clientID]) };
}

/** A room's awareness wired to the relay the way DocRoom wires it. */
function room(peers?: ReplicaPeers) {
  const nats = fakeNats();
  const awareness = new awarenessProtocol.Awareness(new Y.Doc());
  awareness.setLocalState(null);
  const relay = new PresenceRelay("doc-1", awareness, nats.nc, "replica-a", log, () => false, peers);
  awareness.on("update", ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => {
    relay.noteOrigin(added, updated, removed, origin);
    relay.forward(awarenessProtocol.encodeAwarenessUpdate(awareness, [...added, ...updated, ...removed]), origin);
  });
  return { ...nats, awareness, relay };
}

describe("presence relay", () => {
  it("given a room that opens, when the relay starts, then it asks the other replicas who is here", () => {
    const { relay, published, handlers } = room();
    relay.start();
    expect(published).toEqual([{ subject: subjects.awarenessQuery("doc-1"), data: new Uint8Array(), replica: "replica-a" }]);
    expect([...handlers.keys()].sort()).toEqual([subjects.awareness("doc-1"), subjects.awarenessQuery("doc-1")].sort());
    relay.stop();
    expect(handlers.size).toBe(0);
  });

  it("given a local client's presence, when it changes, then it is published for the other replicas", () => {
    const { awareness, published } = room();
    const alice = clientPresence("alice");
    awarenessProtocol.applyAwarenessUpdate(awareness, alice.update, { id: "conn-1" });
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ subject: subjects.awareness("doc-1"), replica: "replica-a" });
  });

  it("given presence from another replica, when it arrives, then it is applied, not published back, and dropped with its replica", () => {
    const { awareness, relay, published, deliver } = room();
    relay.start();
    published.length = 0;
    const bob = clientPresence("bob");
    deliver(subjects.awareness("doc-1"), bob.update, "replica-b");
    expect(awareness.getStates().has(bob.id)).toBe(true);
    expect(published).toHaveLength(0);

    relay.publishLocal();
    expect(published).toHaveLength(0);

    relay.dropReplica("replica-b");
    expect(awareness.getStates().has(bob.id)).toBe(false);
    expect(published).toHaveLength(0);
  });

  it("given this replica's own presence echoed back, when it arrives, then it is ignored", () => {
    const { awareness, relay, deliver } = room();
    relay.start();
    const carol = clientPresence("carol");
    deliver(subjects.awareness("doc-1"), carol.update, "replica-a");
    expect(awareness.getStates().has(carol.id)).toBe(false);
  });

  it("given another replica asks who is here, when the query arrives, then only local clients are published", () => {
    const { awareness, relay, published, deliver } = room();
    relay.start();
    const alice = clientPresence("alice");
    awarenessProtocol.applyAwarenessUpdate(awareness, alice.update, { id: "conn-1" });
    deliver(subjects.awareness("doc-1"), clientPresence("bob").update, "replica-b");
    published.length = 0;
    deliver(subjects.awarenessQuery("doc-1"), new Uint8Array(), "replica-c");
    expect(published).toHaveLength(1);
    const seen = new awarenessProtocol.Awareness(new Y.Doc());
    awarenessProtocol.applyAwarenessUpdate(seen, published[0]!.data, "test");
    expect([...seen.getStates().keys()].filter((c) => c !== seen.clientID)).toEqual([alice.id]);
  });
});

describe("presence relay with the other replicas known", () => {
  /** A replica that started `sinceMs` ago and has heard from nobody. */
  function clock(sinceMs: number) {
    let now = 1_000_000;
    const peers = new ReplicaPeers("replica-a", 6_000, () => now);
    now += sinceMs;
    return { peers, advance: (ms: number) => (now += ms) };
  }

  it("given a replica that has heard from no other for a whole dead period, when a local client's presence changes, then nothing goes to the bus", () => {
    const { peers } = clock(6_000);
    const { awareness, published } = room(peers);
    awarenessProtocol.applyAwarenessUpdate(awareness, clientPresence("alice").update, { id: "conn-1" });
    expect(peers.alone).toBe(true);
    expect(published).toHaveLength(0);
  });

  it("given a replica that started moments ago, when a local client's presence changes, then it is published: others may not have been heard yet", () => {
    const { peers } = clock(1_000);
    const { awareness, published } = room(peers);
    awarenessProtocol.applyAwarenessUpdate(awareness, clientPresence("alice").update, { id: "conn-1" });
    expect(published).toHaveLength(1);
  });

  it("given a replica alone, when another asks who is here, then it answers and publishes changes from then on, until the other falls silent", () => {
    const { peers, advance } = clock(10_000);
    const { awareness, relay, published, deliver } = room(peers);
    relay.start();
    published.length = 0;
    awarenessProtocol.applyAwarenessUpdate(awareness, clientPresence("alice").update, { id: "conn-1" });
    expect(published).toHaveLength(0);

    deliver(subjects.awarenessQuery("doc-1"), new Uint8Array(), "replica-b");
    expect(published).toHaveLength(1);
    awarenessProtocol.applyAwarenessUpdate(awareness, clientPresence("dave").update, { id: "conn-2" });
    expect(published).toHaveLength(2);

    advance(6_000);
    expect(peers.expire()).toEqual(["replica-b"]);
    awarenessProtocol.applyAwarenessUpdate(awareness, clientPresence("erin").update, { id: "conn-3" });
    expect(published).toHaveLength(2);
  });

  it("given a replica alone, when another replica's presence arrives, then that replica counts as heard from", () => {
    const { peers } = clock(10_000);
    const { relay, deliver } = room(peers);
    relay.start();
    expect(peers.alone).toBe(true);
    deliver(subjects.awareness("doc-1"), clientPresence("bob").update, "replica-b");
    expect(peers.alone).toBe(false);
  });
});
