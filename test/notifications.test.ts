import { describe, expect, it, vi } from "vitest";
import { Streams, subjects, type NotificationList } from "@palimpsest/contracts";
import type { TestApi } from "@palimpsest/devkit";
import { useSystem } from "./system.ts";

const ctx = useSystem("notifications");

const inbox = async (api: TestApi, query = "") => {
  const res = await api.get<NotificationList>(`/api/notifications${query}`);
  expect(res.status).toBe(200);
  return res.body;
};
const summary = (list: NotificationList) => list.items.map((n) => `${n.type} from ${n.actorName}${n.excerpt ? `: ${n.excerpt}` : ""}`);

describe("notifications", () => {
  it("a share, a mention and a reply in a thread one wrote or was mentioned in each reach the person's inbox; nobody hears of what they did themselves", async () => {
    const ann = await ctx.anon.newUser("Ann");
    const ben = await ctx.anon.newUser("Ben");
    const cat = await ctx.anon.newUser("Cat");
    const doc = await ann.api.createDoc("Plan");
    for (const [who, role] of [[ben, "editor"], [cat, "commenter"]] as const) {
      expect((await ann.api.post(`/api/docs/${doc.id}/members`, { email: who.auth.user.email, role })).status).toBe(201);
    }
    await vi.waitFor(async () => expect(summary(await inbox(ben.api))).toEqual(["share from Ann"]));

    const thread = (await ann.api.post<{ id: string }>(`/api/docs/${doc.id}/comments`, { body: "@Ben can you check this?", mentions: [ben.auth.user.id, ann.auth.user.id] })).body;
    await cat.api.post(`/api/comments/${thread.id}/replies`, { body: "I can too" });
    await ben.api.post(`/api/comments/${thread.id}/replies`, { body: "On it" });

    await vi.waitFor(async () => {
      expect(summary(await inbox(ben.api))).toEqual(["reply from Cat: I can too", "mention from Ann: @Ben can you check this?", "share from Ann"]);
      expect(summary(await inbox(ann.api))).toEqual(["reply from Ben: On it", "reply from Cat: I can too"]);
      expect(summary(await inbox(cat.api))).toEqual(["reply from Ben: On it", "share from Ann"]);
    });
    const benInbox = await inbox(ben.api);
    expect(benInbox.unread).toBe(3);
    expect(benInbox.items[1]).toMatchObject({ type: "mention", docId: doc.id, docTitle: "Plan", docKind: "text", commentId: thread.id, actorId: ann.auth.user.id, read: false });
  });

  it("marking read: some, or all; someone else's ids change nothing; the unread filter and count follow, and the reads are events in the person's inbox", async () => {
    const ann = await ctx.anon.newUser("Ann");
    const ben = await ctx.anon.newUser("Ben");
    const doc = await ann.api.createDoc("Reads");
    await ann.api.post(`/api/docs/${doc.id}/members`, { email: ben.auth.user.email, role: "editor" });
    for (const n of [1, 2, 3]) await ann.api.post(`/api/docs/${doc.id}/comments`, { body: `Ping ${n}`, mentions: [ben.auth.user.id] });
    await vi.waitFor(async () => expect((await inbox(ben.api)).unread).toBe(4));
    const [newest] = (await inbox(ben.api)).items;

    // Ann cannot mark Ben's notification read.
    expect((await ann.api.post("/api/notifications/read", { ids: [newest!.id] })).status).toBe(204);
    expect((await inbox(ben.api)).unread).toBe(4);

    expect((await ben.api.post("/api/notifications/read", { ids: [newest!.id] })).status).toBe(204);
    const after = await inbox(ben.api);
    expect(after.unread).toBe(3);
    expect(after.items[0]).toMatchObject({ id: newest!.id, read: true });
    expect((await inbox(ben.api, "?unread=true")).items.map((n) => n.excerpt ?? n.type)).toEqual(["Ping 2", "Ping 1", "share"]);

    expect((await ben.api.post("/api/notifications/read", { all: true })).status).toBe(204);
    expect((await inbox(ben.api)).unread).toBe(0);
    expect((await inbox(ben.api, "?unread=true")).items).toEqual([]);
    const last = await ctx.jsm.streams.getMessage(Streams.docs, { last_by_subj: subjects.inbox(ben.auth.user.id) });
    expect(last!.json<{ type: string; data: { ids: string[] } }>()).toMatchObject({ type: "notification.read.v1", data: { ids: expect.arrayContaining([expect.any(String)]) } });

    for (const body of [{}, { ids: [] }, { all: false }, { ids: ["x".repeat(101)] }, { ids: ["a"], extra: 1 }]) expect((await ben.api.post("/api/notifications/read", body)).status).toBe(400);
    expect((await ctx.anon.get("/api/notifications")).status).toBe(401);
  });

  it("a deleted comment takes its notifications with it, and a document one left says nothing more", async () => {
    const ann = await ctx.anon.newUser("Ann");
    const ben = await ctx.anon.newUser("Ben");
    const doc = await ann.api.createDoc("Gone");
    await ann.api.post(`/api/docs/${doc.id}/members`, { email: ben.auth.user.email, role: "commenter" });
    const c = (await ann.api.post<{ id: string }>(`/api/docs/${doc.id}/comments`, { body: "Secret", mentions: [ben.auth.user.id] })).body;
    await vi.waitFor(async () => expect((await inbox(ben.api)).items.map((n) => n.type)).toEqual(["mention", "share"]));
    await ann.api.call("DELETE", `/api/comments/${c.id}`);
    await vi.waitFor(async () => expect((await inbox(ben.api)).items.map((n) => n.type)).toEqual(["share"]));

    await ann.api.call("DELETE", `/api/docs/${doc.id}/members/${ben.auth.user.id}`);
    expect(await inbox(ben.api)).toEqual({ items: [], unread: 0 });
  });

  it("an edit that mentions someone new tells them, and every inbox shows what the comment says now", async () => {
    const ann = await ctx.anon.newUser("Ann");
    const ben = await ctx.anon.newUser("Ben");
    const cat = await ctx.anon.newUser("Cat");
    const doc = await ann.api.createDoc("Edits");
    for (const who of [ben, cat]) await ann.api.post(`/api/docs/${doc.id}/members`, { email: who.auth.user.email, role: "editor" });
    const c = (await ann.api.post<{ id: string }>(`/api/docs/${doc.id}/comments`, { body: "@Ben see this", mentions: [ben.auth.user.id] })).body;
    await vi.waitFor(async () => expect(summary(await inbox(ben.api))[0]).toBe("mention from Ann: @Ben see this"));
    expect((await ann.api.call("PATCH", `/api/comments/${c.id}`, { body: "@Ben and @Cat see this", mentions: [ben.auth.user.id, cat.auth.user.id] })).status).toBe(200);
    await vi.waitFor(async () => {
      expect(summary(await inbox(ben.api))).toEqual(["mention from Ann: @Ben and @Cat see this", "share from Ann"]);
      expect(summary(await inbox(cat.api))).toEqual(["mention from Ann: @Ben and @Cat see this", "share from Ann"]);
    });
    // Once is enough: the same mention again tells nobody twice.
    await ann.api.call("PATCH", `/api/comments/${c.id}`, { body: "@Ben and @Cat, see this" });
    await vi.waitFor(async () => expect(summary(await inbox(cat.api))).toEqual(["mention from Ann: @Ben and @Cat, see this", "share from Ann"]));
  });
});
