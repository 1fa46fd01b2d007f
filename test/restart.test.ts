import { afterAll, afterEach, beforeAll, describe, expect, it, vi, inject } from "vitest";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { TestApi, type RunningSystem, natsOptionsFromEnv } from "@palimpsest/devkit";
import { Streams, subjects, type EditView, type Page } from "@palimpsest/contracts";
import { startTestSystem } from "./system.ts";
import { connectClient, type CollabClient } from "./collab-client.ts";

let system: RunningSystem;
const clients: CollabClient[] = [];

beforeAll(async () => {
  system = await startTestSystem("restart", { syncReplicas: 2 });
});
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});
afterAll(async () => {
  await system?.stop();
});

describe("restarting every service", () => {
  it("keeps documents, accounts and history: reopening gives the same text", async () => {
    const anon = new TestApi(system.gatewayUrl());
    const { api, auth } = await anon.newUser("Persistent");
    const doc = await api.createDoc("Survives restarts");
    const writer = connectClient(system.gatewayUrl(), doc.id, auth.accessToken);
    clients.push(writer);
    await vi.waitFor(() => expect(writer.provider.synced).toBe(true));
    const text = writer.doc.getText("t");
    for (const word of ["every ", "acknowledged ", "edit ", "is ", "kept"]) text.insert(text.length, word);
    // Another client holding the text means it was stored (the server only sends what it stored).
    const check = connectClient(system.gatewayUrl(), doc.id, auth.accessToken);
    clients.push(check);
    await vi.waitFor(() => expect(check.text()).toBe("every acknowledged edit is kept"));
    // The history projection catches up with everything the stream holds for the document.
    const nc = await connect(natsOptionsFromEnv(inject("storeEnv")));
    const info = await (await jetstreamManager(nc)).streams.info(Streams.edits, { subjects_filter: subjects.edits(doc.id) });
    await nc.close();
    const stored = info.state.subjects?.[subjects.edits(doc.id)] ?? 0;
    await vi.waitFor(async () => expect((await api.get<Page<EditView>>(`/api/docs/${doc.id}/history`)).body.items).toHaveLength(stored));
    const before = writer.text();
    for (const c of clients.splice(0)) c.destroy();

    await system.stop();
    // SIGTERM is a clean stop: every service drains and exits 0.
    for (const s of system.services) expect(await s.process.exited, s.name).toBe(0);
    await system.start();

    const again = new TestApi(system.gatewayUrl());
    const login = await again.post<{ accessToken: string }>("/api/auth/login", { email: auth.user.email, password: "correct horse battery staple" });
    expect(login.status).toBe(200);
    // The access token issued before the restart still verifies.
    expect((await again.withToken(auth.accessToken).get(`/api/docs/${doc.id}`)).status).toBe(200);

    const reader = connectClient(system.gatewayUrl(), doc.id, login.body.accessToken);
    clients.push(reader);
    await vi.waitFor(() => expect(reader.provider.synced).toBe(true));
    expect(reader.text()).toBe(before);
    expect(before).toBe("every acknowledged edit is kept");

    const h = await again.withToken(login.body.accessToken).get<Page<EditView>>(`/api/docs/${doc.id}/history`);
    // Keystrokes typed in a burst may share an event; every event is still there, in order.
    expect(stored).toBeGreaterThanOrEqual(1);
    expect(h.body.items.map((e) => e.seq)).toEqual(Array.from({ length: stored }, (_, i) => i + 1));
  });
});
