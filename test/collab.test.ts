import { afterAll, afterEach, beforeAll, describe, expect, it, vi, inject } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import * as decoding from "lib0/decoding";
import { TestApi, type RunningSystem } from "@palimpsest/platform/testing";
import { EditHeaders, Streams, subjects, type EditView, type Page } from "@palimpsest/contracts";
import { startTestSystem } from "./system.ts";
import { connectClient, rawConnect, type CollabClient } from "./collab-client.ts";

let system: RunningSystem;
let anon: TestApi;
let nc: NatsConnection;
let jsm: JetStreamManager;
const clients: CollabClient[] = [];

beforeAll(async () => {
  system = await startTestSystem("collab", { syncReplicas: 2 });
  anon = new TestApi(system.gatewayUrl());
  nc = await connect({ servers: inject("storeEnv")["NATS_URL"] });
  jsm = await jetstreamManager(nc);
});
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});
afterAll(async () => {
  await nc?.close();
  await system?.stop();
});

function client(docId: string, token: string): CollabClient {
  const c = connectClient(system.gatewayUrl(), docId, token);
  clients.push(c);
  return c;
}

async function syncConnections(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith("sync_connections"));
  return Number(line?.split(" ").pop() ?? NaN);
}

describe("live collaboration through the gateway", () => {
  it("two y-websocket clients on different sync replicas converge, and every edit is stored with its author", async () => {
    const { api: alice, auth: aliceAuth } = await anon.newUser("Alice");
    const doc = await alice.createDoc("Shared");
    const a = client(doc.id, aliceAuth.accessToken);
    await vi.waitFor(() => expect(a.provider.synced).toBe(true));
    const b = client(doc.id, aliceAuth.accessToken);
    await vi.waitFor(() => expect(b.provider.synced).toBe(true));

    // The gateway spread the two connections over the two sync replicas.
    const [s1, s2] = system.byName("sync");
    expect([await syncConnections(s1!.port), await syncConnections(s2!.port)]).toEqual([1, 1]);

    a.doc.getText("t").insert(0, "Hello from A. ");
    b.doc.getText("t").insert(0, "Hello from B. ");
    await vi.waitFor(() => {
      expect(a.text()).toBe(b.text());
      expect(a.text()).toContain("Hello from A.");
      expect(a.text()).toContain("Hello from B.");
    });

    const last = await jsm.streams.getMessage(Streams.edits, { last_by_subj: subjects.edits(doc.id) });
    expect(last?.header.get(EditHeaders.author)).toBe(aliceAuth.user.id);
    expect(last?.header.get(EditHeaders.client)).not.toBe("");
    expect(Date.parse(last?.header.get(EditHeaders.time) ?? "")).toBeGreaterThan(Date.now() - 60_000);

    await vi.waitFor(async () => {
      const history = await alice.get<Page<EditView>>(`/api/docs/${doc.id}/history`);
      expect(history.status).toBe(200);
      expect(history.body.items.length).toBeGreaterThanOrEqual(2);
      expect(history.body.items.every((e) => e.userId === aliceAuth.user.id)).toBe(true);
      expect(history.body.items.map((e) => e.seq)).toEqual(history.body.items.map((_, i) => i + 1));
    });
  });

  it("attributes each edit to the user who made it", async () => {
    const { api: owner, auth: ownerAuth } = await anon.newUser("Owner");
    const doc = await owner.createDoc("Mine");
    const a = client(doc.id, ownerAuth.accessToken);
    await vi.waitFor(() => expect(a.provider.synced).toBe(true));
    a.doc.getText("t").insert(0, "abc");
    await vi.waitFor(async () => {
      const h = await owner.get<Page<EditView>>(`/api/docs/${doc.id}/history`);
      expect(h.body.items).toHaveLength(1);
      expect(h.body.items[0]).toMatchObject({ seq: 1, userId: ownerAuth.user.id });
      expect(h.body.items[0]!.size).toBeGreaterThan(0);
    });
    const { api: stranger } = await anon.newUser();
    expect((await stranger.get(`/api/docs/${doc.id}/history`)).status).toBe(404);
  });

  it("a late joiner receives the whole document", async () => {
    const { api, auth } = await anon.newUser();
    const doc = await api.createDoc("Late");
    const a = client(doc.id, auth.accessToken);
    await vi.waitFor(() => expect(a.provider.synced).toBe(true));
    for (let i = 0; i < 50; i++) a.doc.getText("t").insert(a.text().length, `${i},`);
    await vi.waitFor(async () => {
      const last = await jsm.streams.getMessage(Streams.edits, { last_by_subj: subjects.edits(doc.id) });
      expect(last).not.toBeNull();
    });
    const late = client(doc.id, auth.accessToken);
    await vi.waitFor(() => expect(late.text()).toBe(a.text()));
    expect(late.text().split(",")).toHaveLength(51);
  });
});

describe("refusals on /collab", () => {
  function firstMessageType(m: Uint8Array): number {
    return decoding.readVarUint(decoding.createDecoder(m));
  }

  async function expectRefused(url: string, code: number) {
    const s = rawConnect(url);
    const closed = await s.closed;
    expect(closed.code).toBe(code);
    // Nothing of the document: at most the auth permission-denied message (type 2).
    expect(s.messages.map(firstMessageType).filter((t) => t !== 2)).toEqual([]);
  }

  it("no token, a bad token, and a user without access get no document content", async () => {
    const { api, auth } = await anon.newUser();
    const doc = await api.createDoc("Secret");
    const owner = client(doc.id, auth.accessToken);
    await vi.waitFor(() => expect(owner.provider.synced).toBe(true));
    owner.doc.getText("t").insert(0, "top secret");
    await vi.waitFor(async () => expect(await jsm.streams.getMessage(Streams.edits, { last_by_subj: subjects.edits(doc.id) })).not.toBeNull());

    const ws = system.gatewayUrl().replace(/^http/, "ws");
    await expectRefused(`${ws}/collab/${doc.id}`, 4401);
    await expectRefused(`${ws}/collab/${doc.id}?token=not-a-token`, 4401);
    const [h, p] = auth.accessToken.split(".");
    await expectRefused(`${ws}/collab/${doc.id}?token=${h}.${p}.${"A".repeat(86)}`, 4401);
    const { auth: stranger } = await anon.newUser("Stranger");
    await expectRefused(`${ws}/collab/${doc.id}?token=${stranger.accessToken}`, 4403);
    await expectRefused(`${ws}/collab/does-not-exist?token=${stranger.accessToken}`, 4403);
  });

  it("the y-websocket client stops retrying after a permanent refusal", async () => {
    const { api } = await anon.newUser();
    const doc = await api.createDoc("x");
    const { auth: stranger } = await anon.newUser();
    const c = client(doc.id, stranger.accessToken);
    const closed = vi.fn();
    c.provider.on("connection-close", (event) => closed(event?.code));
    await vi.waitFor(() => expect(closed).toHaveBeenCalledWith(4403));
    expect(c.provider.synced).toBe(false);
    expect(c.text()).toBe("");
  });
});
