import { afterEach, describe, expect, it, vi } from "vitest";
import { Streams, subjects, type NotificationList } from "@palimpsest/contracts";
import { mailTo, type TestApi } from "@palimpsest/devkit";
import { useSystem } from "./system.ts";
import { mailbox, waitForMail } from "./mail-helpers.ts";

// Notification emails wait this long for company (and for being read in the app first).
const MAIL_DELAY_S = 3;
const ctx = useSystem("notifications", { env: { NOTIFICATION_MAIL_DELAY_SECONDS: String(MAIL_DELAY_S) } });

const inbox = async (api: TestApi, query = "") => {
  const res = await api.get<NotificationList>(`/api/notifications${query}`);
  expect(res.status).toBe(200);
  return res.body;
};
/** A page's live inbox stream (`GET /api/notifications/live`) as a test reads it: the events so far. */
interface LiveInbox {
  events: { event: string; data: string }[];
  ended: Promise<void>;
  close(): void;
}
const openStreams: LiveInbox[] = [];
afterEach(() => {
  for (const s of openStreams.splice(0)) s.close();
});

async function liveInbox(api: TestApi): Promise<LiveInbox> {
  const abort = new AbortController();
  const res = await fetch(`${api.baseUrl}/api/notifications/live`, { headers: { authorization: `Bearer ${api.token}` }, signal: abort.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
  const events: LiveInbox["events"] = [];
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const ended = (async () => {
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        let cut: number;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, data });
        }
      }
    } catch {
      // Aborted by the test.
    }
  })();
  const stream = { events, ended, close: () => abort.abort() };
  openStreams.push(stream);
  return stream;
}

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
    // Pages, newest first.
    const first = await inbox(ben.api, "?limit=3");
    expect(first.items.map((n) => n.excerpt ?? n.type)).toEqual(["Ping 3", "Ping 2", "Ping 1"]);
    expect(first.unread).toBe(4);
    const rest = await inbox(ben.api, `?limit=3&cursor=${first.nextCursor}`);
    expect(rest.items.map((n) => n.excerpt ?? n.type)).toEqual(["share"]);
    expect(rest.nextCursor).toBeUndefined();
    for (const bad of ["?cursor=abc", "?cursor=0", "?limit=0"]) expect((await ben.api.get(`/api/notifications${bad}`)).status).toBe(400);

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

  it("a mention reaches the mentioned person's open page at once over the live stream, and nobody else's; a stream needs a valid token", async () => {
    const ann = await ctx.anon.newUser("Ann");
    const ben = await ctx.anon.newUser("Ben");
    const doc = await ann.api.createDoc("Live");
    await ann.api.post(`/api/docs/${doc.id}/members`, { email: ben.auth.user.email, role: "editor" });
    await vi.waitFor(async () => expect((await inbox(ben.api)).unread).toBe(1));

    const benLive = await liveInbox(ben.api);
    const annLive = await liveInbox(ann.api);
    // Each stream begins with one event: read the inbox now.
    await vi.waitFor(() => expect(benLive.events.map((e) => e.event)).toEqual(["inbox"]));
    await vi.waitFor(() => expect(annLive.events).toHaveLength(1));

    await ann.api.post(`/api/docs/${doc.id}/comments`, { body: "@Ben look", mentions: [ben.auth.user.id] });
    await vi.waitFor(() => expect(benLive.events).toHaveLength(2), { timeout: 5_000 });
    expect(Date.parse(JSON.parse(benLive.events[1]!.data).at)).not.toBeNaN();
    // What the event announced is there to read.
    expect(summary(await inbox(ben.api))[0]).toBe("mention from Ann: @Ben look");
    // Reading it on another page tells this one too.
    await ben.api.post("/api/notifications/read", { all: true });
    await vi.waitFor(() => expect(benLive.events).toHaveLength(3));
    // Ann's own comment changed nothing in her inbox, so her page heard nothing.
    expect(annLive.events).toHaveLength(1);

    expect((await fetch(`${ctx.anon.baseUrl}/api/notifications/live`)).status).toBe(401);
    expect((await fetch(`${ctx.anon.baseUrl}/api/notifications/live`, { headers: { authorization: "Bearer forged.token.here" } })).status).toBe(401);
    // Signing out ends the stream.
    expect((await ben.api.post("/api/auth/logout", {})).status).toBeLessThan(300);
    await benLive.ended;
  });

  it("notifications come by email through the SMTP server too: batched, not those read in the app first, as each person chose", async () => {
    const ann = await ctx.anon.newUser("Ann");
    const ben = await ctx.anon.newUser("Ben");
    const cat = await ctx.anon.newUser("Cat");
    const doc = await ann.api.createDoc("Mailed plan");
    for (const who of [ben, cat]) await ann.api.post(`/api/docs/${doc.id}/members`, { email: who.auth.user.email, role: "commenter" });
    const benMail = ben.auth.user.email;
    const catMail = cat.auth.user.email;

    // Cat wants mentions only; the setting is hers alone and checked at the edge.
    expect((await cat.api.get("/api/notifications/settings")).body).toEqual({ email: "all" });
    expect((await cat.api.call("PATCH", "/api/notifications/settings", { email: "mentions" })).body).toEqual({ email: "mentions" });
    expect((await cat.api.get("/api/notifications/settings")).body).toEqual({ email: "mentions" });
    for (const bad of [{}, { email: "sometimes" }, { email: "all", extra: 1 }]) expect((await cat.api.call("PATCH", "/api/notifications/settings", bad)).status).toBe(400);
    expect((await ann.api.get("/api/notifications/settings")).body).toEqual({ email: "all" });

    // The share and three mentions in quick succession: one email for Ben, holding all four.
    const thread = (await ann.api.post<{ id: string }>(`/api/docs/${doc.id}/comments`, { body: "@Cat what do you think?", mentions: [cat.auth.user.id] })).body;
    await Promise.all([1, 2, 3].map((n) => ann.api.post(`/api/comments/${thread.id}/replies`, { body: `@Ben point ${n}`, mentions: [ben.auth.user.id] })));
    const [first] = await waitForMail(benMail, 1);
    expect(first!.subject).toMatch(/^4 new notifications: /);
    for (const words of ["Ann shared “Mailed plan” with you", "@Ben point 1", "@Ben point 2", "@Ben point 3", `/d/${doc.id}`]) expect(first!.text).toContain(words);

    // Cat: her mention came, the replies in her thread (she was mentioned in it) did not, the share did not.
    const [catFirst] = await waitForMail(catMail, 1);
    expect(catFirst!.subject).toBe("Ann mentioned you in “Mailed plan”");
    expect(catFirst!.text).toContain("@Cat what do you think?");
    expect(catFirst!.text).not.toContain("point");

    // Read in the app before its email is due: never mailed. The next one is, alone.
    await ann.api.post(`/api/docs/${doc.id}/comments`, { body: "@Ben read this here", mentions: [ben.auth.user.id] });
    await vi.waitFor(async () => expect(summary(await inbox(ben.api, "?unread=true"))[0]).toBe("mention from Ann: @Ben read this here"));
    await ben.api.post("/api/notifications/read", { all: true });
    await ann.api.post(`/api/docs/${doc.id}/comments`, { body: "@Ben and this one by mail", mentions: [ben.auth.user.id] });
    const mails = await waitForMail(benMail, 2);
    expect(mails[1]!.subject).toBe("Ann mentioned you in “Mailed plan”");
    expect(mails[1]!.text).toContain("@Ben and this one by mail");
    expect(mails.map((m) => m.text).join("\n")).not.toContain("read this here");

    // Nothing more for Ben or Cat, and none at all for Ann, who acted and chose nothing.
    await cat.api.call("PATCH", "/api/notifications/settings", { email: "none" });
    await ann.api.post(`/api/docs/${doc.id}/comments`, { body: "@Cat @Ben last call", mentions: [cat.auth.user.id, ben.auth.user.id] });
    await waitForMail(benMail, 3);
    expect(await mailTo(mailbox(), catMail)).toHaveLength(1);
    expect(await mailTo(mailbox(), ann.auth.user.email)).toHaveLength(0);

    // Which notifications went out is an event in each person's inbox, so a rebuild mails nothing again.
    const last = await ctx.jsm.streams.getMessage(Streams.docs, { last_by_subj: subjects.inbox(ben.auth.user.id) });
    expect(last!.json<{ type: string; data: { ids: string[] } }>()).toMatchObject({ type: "notification.mailed.v1", data: { ids: [expect.any(String)] } });
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
