import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import * as Y from "yjs";
import * as awarenessProtocol from "y-protocols/awareness";
import * as encoding from "lib0/encoding";
import { TestApi, type RunningSystem } from "@palimpsest/devkit";
import { startTestSystem } from "./system.ts";
import { connectClient, rawConnect, type CollabClient } from "./collab-client.ts";

let system: RunningSystem;
let anon: TestApi;
const clients: CollabClient[] = [];

beforeAll(async () => {
  system = await startTestSystem("presence", { syncReplicas: 2 });
  anon = new TestApi(system.gatewayUrl());
});
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});
afterAll(async () => {
  await system?.stop();
});

/** A client connected straight to sync replica `i`, to place clients on chosen replicas. */
function onReplica(i: number, docId: string, token: string): CollabClient {
  const c = connectClient(`http://127.0.0.1:${system.byName("sync")[i]!.port}`, docId, token);
  clients.push(c);
  return c;
}

const names = (c: CollabClient) =>
  [...c.provider.awareness.getStates().entries()]
    .filter(([id]) => id !== c.doc.clientID)
    .map(([, s]) => (s as { user?: { name?: string } }).user?.name)
    .filter(Boolean)
    .sort();

describe("presence across replicas", () => {
  it("cursors and names reach clients on every replica, also late joiners, and vanish when a client leaves", async () => {
    const { api, auth } = await anon.newUser();
    const doc = await api.createDoc("Presence");
    const ann = onReplica(0, doc.id, auth.accessToken);
    const ben = onReplica(1, doc.id, auth.accessToken);
    ann.provider.awareness.setLocalStateField("user", { name: "Ann", color: "#aa0000" });
    ben.provider.awareness.setLocalStateField("user", { name: "Ben", color: "#0000aa" });
    await vi.waitFor(() => {
      expect(names(ann)).toEqual(["Ben"]);
      expect(names(ben)).toEqual(["Ann"]);
    });
    ann.provider.awareness.setLocalStateField("cursor", { anchor: 3, head: 5 });
    await vi.waitFor(() => expect((ben.provider.awareness.getStates().get(ann.doc.clientID) as { cursor?: unknown }).cursor).toEqual({ anchor: 3, head: 5 }));

    // A late joiner on the other replica sees both at once, without waiting for a renewal.
    const cat = onReplica(0, doc.id, auth.accessToken);
    cat.provider.awareness.setLocalStateField("user", { name: "Cat", color: "#00aa00" });
    await vi.waitFor(() => expect(names(cat)).toEqual(["Ann", "Ben"]), { timeout: 3_000 });

    ann.destroy();
    await vi.waitFor(() => {
      expect(names(ben)).toEqual(["Cat"]);
      expect(names(cat)).toEqual(["Ben"]);
    }, { timeout: 5_000 });
  });

  it("a dead replica's clients vanish from the others within seconds", async () => {
    const { api, auth } = await anon.newUser();
    const doc = await api.createDoc("Presence 2");
    const watcher = onReplica(1, doc.id, auth.accessToken);
    await vi.waitFor(() => expect(watcher.provider.synced).toBe(true));
    // A client that will not reconnect, on the replica about to die.
    const ghost = rawConnect(`ws://127.0.0.1:${system.byName("sync")[0]!.port}/collab/${doc.id}?token=${auth.accessToken}`);
    await vi.waitFor(() => expect(ghost.messages.length).toBeGreaterThan(0));
    const a = new awarenessProtocol.Awareness(new Y.Doc());
    a.setLocalStateField("user", { name: "Ghost" });
    const e = encoding.createEncoder();
    encoding.writeVarUint(e, 1);
    encoding.writeVarUint8Array(e, awarenessProtocol.encodeAwarenessUpdate(a, [a.clientID]));
    ghost.socket.send(encoding.toUint8Array(e));
    await vi.waitFor(() => expect(names(watcher)).toEqual(["Ghost"]));

    const killedAt = Date.now();
    await system.byName("sync")[0]!.process.kill();
    await vi.waitFor(() => expect(names(watcher)).toEqual([]), { timeout: 15_000, interval: 200 });
    // Well inside y-protocols' own 30 s timeout.
    expect(Date.now() - killedAt).toBeLessThan(12_000);
    a.destroy();
    await system.start();
  });
});

describe("offline editing", () => {
  it("edits made offline on both sides merge when both reconnect", async () => {
    const { api, auth } = await anon.newUser();
    const doc = await api.createDoc("Offline");
    const a = connectClient(system.gatewayUrl(), doc.id, auth.accessToken);
    const b = connectClient(system.gatewayUrl(), doc.id, auth.accessToken);
    clients.push(a, b);
    await vi.waitFor(() => expect(a.provider.synced && b.provider.synced).toBe(true));
    a.doc.getText("t").insert(0, "shared start. ");
    await vi.waitFor(() => expect(b.text()).toBe("shared start. "));

    a.provider.disconnect();
    b.provider.disconnect();
    a.doc.getText("t").insert(a.text().length, "A wrote this offline. ");
    b.doc.getText("t").insert(0, "B too. ");
    expect(a.text()).not.toBe(b.text());

    a.provider.connect();
    b.provider.connect();
    await vi.waitFor(() => {
      expect(a.text()).toBe(b.text());
      expect(a.text()).toContain("A wrote this offline.");
      expect(a.text()).toContain("B too.");
    });
    // And it is stored: a fresh client gets the merged text from the server.
    const c = connectClient(system.gatewayUrl(), doc.id, auth.accessToken);
    clients.push(c);
    await vi.waitFor(() => expect(c.text()).toBe(a.text()));
  });
});
