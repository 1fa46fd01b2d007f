import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import * as Y from "yjs";
import * as awarenessProtocol from "y-protocols/awareness";
import * as encoding from "lib0/encoding";
import { documentChangedIn, type DocView } from "@palimpsest/contracts";
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

/** Shares the document with a new user of that name as an editor; returns their access token. */
async function member(owner: TestApi, docId: string, name: string): Promise<string> {
  const { auth } = await anon.newUser(name);
  expect((await owner.post(`/api/docs/${docId}/members`, { email: auth.user.email, role: "editor" })).status).toBeLessThan(300);
  return auth.accessToken;
}

const names = (c: CollabClient) =>
  [...c.provider.awareness.getStates().entries()]
    .filter(([id]) => id !== c.doc.clientID)
    .map(([, s]) => (s as { user?: { name?: string } }).user?.name)
    .filter(Boolean)
    .sort();

describe("presence across replicas", () => {
  it("cursors and names reach clients on every replica, also late joiners, and vanish when a client leaves", async () => {
    const { api, auth } = await anon.newUser("Ann");
    const doc = await api.createDoc("Presence");
    const benToken = await member(api, doc.id, "Ben");
    const catToken = await member(api, doc.id, "Cat");
    const ann = onReplica(0, doc.id, auth.accessToken);
    const ben = onReplica(1, doc.id, benToken);
    ann.provider.awareness.setLocalStateField("user", { name: "Ann", color: "#aa0000" });
    ben.provider.awareness.setLocalStateField("user", { name: "Ben", color: "#0000aa" });
    await vi.waitFor(() => {
      expect(names(ann)).toEqual(["Ben"]);
      expect(names(ben)).toEqual(["Ann"]);
    });
    ann.provider.awareness.setLocalStateField("cursor", { anchor: 3, head: 5 });
    await vi.waitFor(() => expect((ben.provider.awareness.getStates().get(ann.doc.clientID) as { cursor?: unknown }).cursor).toEqual({ anchor: 3, head: 5 }));

    // A late joiner on the other replica sees both at once, without waiting for a renewal.
    const cat = onReplica(0, doc.id, catToken);
    cat.provider.awareness.setLocalStateField("user", { name: "Cat", color: "#00aa00" });
    await vi.waitFor(() => expect(names(cat)).toEqual(["Ann", "Ben"]), { timeout: 3_000 });

    ann.destroy();
    await vi.waitFor(() => {
      expect(names(ben)).toEqual(["Cat"]);
      expect(names(cat)).toEqual(["Ben"]);
    }, { timeout: 5_000 });
  });

  it("what a client sends back of others' presence (y-websocket sends every change it receives) is dropped, not refused", async () => {
    const { api, auth } = await anon.newUser("Dee");
    const doc = await api.createDoc("Echoes");
    const eveToken = await member(api, doc.id, "Eve");
    const port = system.byName("sync")[0]!.port;
    const refused = async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const line = text.split("\n").find((l) => l.startsWith("sync_updates_rejected_total") && l.includes('reason="presence"'));
      return Number(line?.split(" ").pop() ?? 0);
    };
    const before = await refused();
    const dee = onReplica(0, doc.id, auth.accessToken);
    const eve = onReplica(0, doc.id, eveToken);
    dee.provider.awareness.setLocalStateField("user", { name: "Dee", color: "#aa0000" });
    eve.provider.awareness.setLocalStateField("user", { name: "Eve", color: "#0000aa" });
    await vi.waitFor(() => expect([names(dee), names(eve)]).toEqual([["Eve"], ["Dee"]]));

    // Dee moves her cursor; Eve's client sends Dee's new state straight back. Eve's next change
    // reaching Dee means the server has handled that echo (one connection's messages stay in order).
    dee.provider.awareness.setLocalStateField("cursor", { anchor: 1, head: 1 });
    await vi.waitFor(() => expect((eve.provider.awareness.getStates().get(dee.doc.clientID) as { cursor?: unknown }).cursor).toEqual({ anchor: 1, head: 1 }));
    eve.provider.awareness.setLocalStateField("cursor", { anchor: 2, head: 2 });
    await vi.waitFor(() => expect((dee.provider.awareness.getStates().get(eve.doc.clientID) as { cursor?: unknown }).cursor).toEqual({ anchor: 2, head: 2 }));

    expect(await refused()).toBe(before);
    expect((dee.provider.awareness.getStates().get(dee.doc.clientID) as { user?: { name?: string } }).user?.name).toBe("Dee");
  });

  it("a rename reaches every open connection on every replica as the server's own presence entry, with no user", async () => {
    const { api, auth } = await anon.newUser("Renamer");
    const doc = await api.createDoc("Before");
    const benToken = await member(api, doc.id, "Reader");
    const ann = onReplica(0, doc.id, auth.accessToken);
    const ben = onReplica(1, doc.id, benToken);
    await vi.waitFor(() => expect(ann.provider.synced && ben.provider.synced).toBe(true));
    const notices = (c: CollabClient) =>
      [...c.provider.awareness.getStates().values()].flatMap((s) => {
        const notice = documentChangedIn(s);
        return notice ? [{ notice, user: (s as { user?: unknown }).user }] : [];
      });
    expect(notices(ann)).toEqual([]);
    const before = Date.now();
    const renamed = await api.call<DocView>("PATCH", `/api/docs/${doc.id}`, { title: "After" });
    expect(renamed.status).toBe(200);
    // The version the rename made, so a page that reads the REST API before its read model has
    // the rename asks again instead of keeping the old title.
    const version = renamed.body.version;
    await vi.waitFor(() => {
      for (const c of [ann, ben]) {
        expect(notices(c)).toEqual([{ notice: { what: "renamed", at: expect.any(Number), version }, user: undefined }]);
        expect(notices(c)[0]!.notice.at).toBeGreaterThanOrEqual(before - 1_000);
      }
    }, { timeout: 5_000 });
    // Nobody's name list shows it.
    expect(names(ann)).toEqual([]);
  });

  it("a dead replica's clients vanish from the others within seconds", async () => {
    const { api, auth } = await anon.newUser("Ghost");
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

/** A y-websocket awareness message: [messageAwareness][update], the update naming any client id. */
function presenceMessage(entries: { clientId: number; clock: number; state: unknown }[]): Uint8Array {
  const u = encoding.createEncoder();
  encoding.writeVarUint(u, entries.length);
  for (const { clientId, clock, state } of entries) {
    encoding.writeVarUint(u, clientId);
    encoding.writeVarUint(u, clock);
    encoding.writeVarString(u, JSON.stringify(state));
  }
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, 1);
  encoding.writeVarUint8Array(e, encoding.toUint8Array(u));
  return encoding.toUint8Array(e);
}

/** Two replicas and several clients on a shared machine: presence may take a few seconds to go round. */
const SLOW = { timeout: 10_000, interval: 50 };

type SeenState = { user?: { id?: string; name?: string; color?: string }; cursor?: unknown; blob?: string; marker?: number } | undefined;
const stateOf = (c: CollabClient, clientId: number) => c.provider.awareness.getStates().get(clientId) as SeenState;

describe("presence is bound to the connection and the token", () => {
  async function scene() {
    const { api, auth } = await anon.newUser("Ann");
    const doc = await api.createDoc("Bound presence");
    const mallory = await anon.newUser("Mallory");
    expect((await api.post(`/api/docs/${doc.id}/members`, { email: mallory.auth.user.email, role: "editor" })).status).toBeLessThan(300);
    const ann = onReplica(0, doc.id, auth.accessToken);
    const ben = onReplica(1, doc.id, await member(api, doc.id, "Ben"));
    ann.provider.awareness.setLocalStateField("user", { name: "Ann", color: "#aa0000" });
    ann.provider.awareness.setLocalStateField("cursor", { anchor: 1, head: 2 });
    await vi.waitFor(() => expect(stateOf(ben, ann.doc.clientID)?.cursor).toEqual({ anchor: 1, head: 2 }), SLOW);
    /** Mallory's own raw socket on replica `i`, open once the server has spoken. */
    const raw = async (i: number) => {
      const s = rawConnect(`ws://127.0.0.1:${system.byName("sync")[i]!.port}/collab/${doc.id}?token=${mallory.auth.accessToken}`);
      await vi.waitFor(() => expect(s.messages.length).toBeGreaterThan(0), SLOW);
      return s;
    };
    return { ann, ben, mallory, raw };
  }

  it("a connection cannot write or remove presence for another client id, on its replica or another", async () => {
    const { ann, ben, raw } = await scene();
    const annId = ann.doc.clientID;
    const clock = ann.provider.awareness.meta.get(annId)!.clock;
    for (const i of [0, 1]) {
      const m = await raw(i);
      const own = 1_000_000 + i;
      m.socket.send(presenceMessage([{ clientId: annId, clock: clock + 10, state: { user: { name: "Ann", color: "#aa0000" }, cursor: { anchor: 99, head: 99 } } }]));
      m.socket.send(presenceMessage([{ clientId: annId, clock: clock + 20, state: null }]));
      // Sent after the forgeries on the same socket: once Ben sees it, the forgeries were handled.
      m.socket.send(presenceMessage([{ clientId: own, clock: 1, state: { marker: i } }]));
      await vi.waitFor(() => expect(stateOf(ben, own)?.marker).toBe(i), SLOW);
      expect(stateOf(ben, annId)?.cursor).toEqual({ anchor: 1, head: 2 });
      expect(stateOf(ann, annId)?.cursor).toEqual({ anchor: 1, head: 2 });
      m.socket.close();
    }
  });

  it("a peer's name comes from its token and only a hex colour passes", async () => {
    const { ben, mallory, raw } = await scene();
    const m = await raw(0);
    m.socket.send(presenceMessage([{ clientId: 2_000_000, clock: 1, state: { user: { id: "someone-else", name: "Ann", color: "red;background:url(https://evil.example/x)" } } }]));
    await vi.waitFor(() => expect(stateOf(ben, 2_000_000)?.user).toEqual({ id: mallory.auth.user.id, name: "Mallory", color: "#667085" }), SLOW);
    m.socket.send(presenceMessage([{ clientId: 2_000_000, clock: 2, state: { user: { name: "Ann", color: "#123abc" } } }]));
    await vi.waitFor(() => expect(stateOf(ben, 2_000_000)?.user).toEqual({ id: mallory.auth.user.id, name: "Mallory", color: "#123abc" }), SLOW);
  });

  it("an oversized presence state is not fanned out", async () => {
    const { ben, raw } = await scene();
    const seenBlob: number[] = [];
    ben.provider.awareness.on("change", () => {
      for (const [id, state] of ben.provider.awareness.getStates()) if ((state as SeenState)?.blob) seenBlob.push(id);
    });
    const m = await raw(0);
    m.socket.send(presenceMessage([{ clientId: 3_000_000, clock: 1, state: { blob: "x".repeat(256 * 1024) } }]));
    m.socket.send(presenceMessage([{ clientId: 3_000_000, clock: 2, state: { marker: 1 } }]));
    await vi.waitFor(() => expect(stateOf(ben, 3_000_000)?.marker).toBe(1), SLOW);
    expect(seenBlob).toEqual([]);
    // The connection stays usable: its small states still pass.
    expect(m.socket.readyState).toBe(m.socket.OPEN);
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
