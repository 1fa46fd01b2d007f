import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { TestApi, type RunningSystem } from "@palimpsest/devkit";
import * as Y from "yjs";
import { DIFF_CHANGE_MARK, type AuthResult, type DiffView, type EditView, type Page, type RestoreResult, type VersionView } from "@palimpsest/contracts";
import { startTestSystem } from "./system.ts";
import { connectClient, type CollabClient } from "./collab-client.ts";

let system: RunningSystem;
let anon: TestApi;
const clients: CollabClient[] = [];

beforeAll(async () => {
  system = await startTestSystem("restore-diff", { syncReplicas: 2 });
  anon = new TestApi(system.gatewayUrl());
});
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});
afterAll(async () => {
  await system?.stop();
});

function live(docId: string, auth: AuthResult): CollabClient {
  const c = connectClient(system.gatewayUrl(), docId, auth.accessToken);
  clients.push(c);
  return c;
}

async function head(api: TestApi, docId: string): Promise<number> {
  const h = await api.get<Page<EditView>>(`/api/docs/${docId}/history?limit=1000`);
  return h.body.items.at(-1)?.seq ?? 0;
}

describe("restore", () => {
  it("brings back an old version live for everyone, keeps later concurrent typing, and loses no history", async () => {
    const { api, auth: owner } = await anon.newUser("Owner");
    const { auth: ann } = await anon.newUser("Ann");
    const { auth: ben } = await anon.newUser("Ben");
    const doc = await api.createDoc("Restore");
    for (const u of [ann, ben]) await api.post(`/api/docs/${doc.id}/members`, { email: u.user.email, role: "editor" });
    const o = live(doc.id, owner);
    await vi.waitFor(() => expect(o.provider.synced).toBe(true));
    o.doc.getText("t").insert(0, "Original text. ");
    await vi.waitFor(async () => expect(await head(api, doc.id)).toBeGreaterThan(0));
    const good = await head(api, doc.id);
    // One transaction, so one stored edit: the vandalised version is a single step.
    o.doc.transact(() => {
      o.doc.getText("t").delete(0, o.text().length);
      o.doc.getText("t").insert(0, "Vandalised! ");
    });
    await vi.waitFor(async () => expect(await head(api, doc.id)).toBeGreaterThan(good));
    const before = await head(api, doc.id);

    const a = live(doc.id, ann);
    const b = live(doc.id, ben);
    await vi.waitFor(() => expect(a.provider.synced && b.provider.synced).toBe(true));
    let typing = true;
    const type = async (c: CollabClient, tag: string) => {
      for (let i = 0; typing && i < 400; i++) {
        c.doc.getText("t").insert(c.doc.getText("t").length, `[${tag}${i}]`);
        await new Promise((r) => setTimeout(r, 15));
      }
    };
    const typists = [type(a, "a"), type(b, "b")];
    await new Promise((r) => setTimeout(r, 100));
    const res = await api.post<RestoreResult>(`/api/docs/${doc.id}/restore`, { seq: good });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ restoredFrom: good, changed: true });
    // Markers typed after the restore was stored must all survive it.
    const afterMarkers = ["[a-after]", "[b-after]"];
    await vi.waitFor(() => expect(a.text()).not.toContain("Vandalised"));
    await vi.waitFor(() => expect(b.text()).not.toContain("Vandalised"));
    a.doc.getText("t").insert(a.doc.getText("t").length, afterMarkers[0]!);
    b.doc.getText("t").insert(b.doc.getText("t").length, afterMarkers[1]!);
    typing = false;
    await Promise.all(typists);

    const fresh = live(doc.id, owner);
    await vi.waitFor(() => {
      const texts = [o.text(), a.text(), b.text(), fresh.text()];
      expect(new Set(texts).size).toBe(1);
      expect(texts[0]).toContain("Original text. ");
      expect(texts[0]).not.toContain("Vandalised");
      for (const m of afterMarkers) expect(texts[0]).toContain(m);
    }, { timeout: 10_000 });

    // Nothing was lost: the vandalised version is still there, and the restore is a new edit by the owner.
    expect((await api.get<VersionView>(`/api/docs/${doc.id}/versions/${before}`)).body.text).toBe("Vandalised! ");
    await vi.waitFor(async () => {
      const h = (await api.get<Page<EditView>>(`/api/docs/${doc.id}/history?limit=1000&author=${owner.user.id}`)).body.items;
      expect(h.at(-1)!.seq).toBeGreaterThan(before);
    });
  });

  it("is refused to viewers and commenters", async () => {
    const { api } = await anon.newUser();
    const viewer = await anon.newUser();
    const doc = await api.createDoc("No restore");
    await api.post(`/api/docs/${doc.id}/members`, { email: viewer.auth.user.email, role: "viewer" });
    expect((await viewer.api.post(`/api/docs/${doc.id}/restore`, { seq: 0 })).status).toBe(403);
  });
});

describe("diff", () => {
  it("attributes each inserted and deleted run to its author", async () => {
    const { api, auth: alice } = await anon.newUser("Alice");
    const { auth: bob } = await anon.newUser("Bob");
    const doc = await api.createDoc("Diff");
    await api.post(`/api/docs/${doc.id}/members`, { email: bob.user.email, role: "editor" });
    const a = live(doc.id, alice);
    const b = live(doc.id, bob);
    await vi.waitFor(() => expect(a.provider.synced && b.provider.synced).toBe(true));
    a.doc.getText("t").insert(0, "The quick fox.");
    await vi.waitFor(() => expect(b.text()).toBe("The quick fox."));
    await vi.waitFor(async () => expect(await head(api, doc.id)).toBeGreaterThan(0));
    const from = await head(api, doc.id);
    b.doc.getText("t").insert("The quick".length, " brown");
    await vi.waitFor(() => expect(a.text()).toBe("The quick brown fox."));
    a.doc.getText("t").delete(0, "The ".length);
    await vi.waitFor(() => expect(b.text()).toBe("quick brown fox."));
    await vi.waitFor(async () => expect(await head(api, doc.id)).toBeGreaterThanOrEqual(from + 2));
    const to = await head(api, doc.id);

    const d = await api.get<DiffView>(`/api/docs/${doc.id}/diff?from=${from}&to=${to}`);
    expect(d.status).toBe(200);
    const segs = d.body.segments;
    // (Where the inserted space goes, before or after "brown", is a tie a text diff may break either way.)
    expect(segs.map((s) => s.kind)).toEqual(["delete", "same", "insert", "same"]);
    expect(segs[0]).toEqual({ kind: "delete", text: "The ", userId: alice.user.id });
    expect(segs[2]).toMatchObject({ kind: "insert", userId: bob.user.id });
    expect(segs[2]!.text.trim()).toBe("brown");
    expect(segs.filter((s) => s.kind !== "delete").map((s) => s.text).join("")).toBe("quick brown fox.");
    expect(segs.filter((s) => s.kind !== "insert").map((s) => s.text).join("")).toBe("The quick fox.");
    expect(d.body.authors.sort()).toEqual([alice.user.id, bob.user.id].sort());
    const whole = await api.get<DiffView>(`/api/docs/${doc.id}/diff?from=0&to=${to}`);
    expect(whole.body.segments.filter((s) => s.kind !== "delete").map((s) => s.text).join("")).toBe("quick brown fox.");
    expect((await api.get(`/api/docs/${doc.id}/diff?from=${to}&to=${from}`)).status).toBe(400);
  });

  it("given rich text, when a paragraph becomes a heading and a bold line is added, then the diff shows them formatted, each change marked with its author", async () => {
    const { api, auth: alice } = await anon.newUser("Alice");
    const { auth: bob } = await anon.newUser("Bob");
    const doc = await api.createDoc("Rich diff");
    await api.post(`/api/docs/${doc.id}/members`, { email: bob.user.email, role: "editor" });
    const a = live(doc.id, alice);
    const b = live(doc.id, bob);
    await vi.waitFor(() => expect(a.provider.synced && b.provider.synced).toBe(true));
    const block = (type: string, text: string, attrs: Record<string, string> = {}) => {
      const el = new Y.XmlElement(type);
      for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
      el.insert(0, [new Y.XmlText(text)]);
      return el;
    };
    a.doc.getXmlFragment("default").insert(0, [block("paragraph", "Plan")]);
    await vi.waitFor(() => expect(b.doc.getXmlFragment("default").length).toBe(1));
    await vi.waitFor(async () => expect(await head(api, doc.id)).toBeGreaterThan(0));
    const from = await head(api, doc.id);
    // As the editor writes a change of a block's kind: the old block out, a new one in.
    b.doc.transact(() => {
      const f = b.doc.getXmlFragment("default");
      f.delete(0, 1);
      f.insert(0, [block("heading", "Plan", { level: "1" })]);
      const done = block("paragraph", "");
      f.insert(1, [done]);
      (done.get(0) as Y.XmlText).insert(0, "done", { bold: {} });
    });
    await vi.waitFor(async () => expect(await head(api, doc.id)).toBeGreaterThan(from));
    const to = await head(api, doc.id);

    const d = await api.get<DiffView>(`/api/docs/${doc.id}/diff?from=${from}&to=${to}`);
    expect(d.status).toBe(200);
    const change = (kind: string) => ({ type: DIFF_CHANGE_MARK, attrs: { kind, userId: bob.user.id } });
    expect(d.body.rich?.content).toEqual({
      type: "doc",
      content: [
        { type: "heading", attrs: { level: "1" }, content: [{ type: "text", text: "Plan", marks: [change("format")] }] },
        { type: "paragraph", content: [{ type: "text", text: "done", marks: [{ type: "bold" }, change("insert")] }] },
      ],
    });
    expect(d.body.rich?.totals).toEqual([{ userId: bob.user.id, inserted: 4, deleted: 0, formatted: 4 }]);
  });
});
