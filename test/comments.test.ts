import { describe, expect, it, vi } from "vitest";
import * as Y from "yjs";
import { Streams, documentChangedIn, subjects, type ActivityItem, type CommentThreadView, type CommentView, type DocView } from "@palimpsest/contracts";
import type { TestApi } from "@palimpsest/devkit";
import { useSystem } from "./system.ts";
import type { CollabClient } from "./collab-client.ts";

const ctx = useSystem("comments");

type Role = "editor" | "commenter" | "viewer";

/** A text document of Ann's, shared with one member of each role. */
async function team(kind: "text" | "board" = "text") {
  const ann = await ctx.anon.newUser("Ann");
  const doc = await ann.api.createDoc("Review", kind);
  const member = async (name: string, role: Role) => {
    const u = await ctx.anon.newUser(name);
    expect((await ann.api.post(`/api/docs/${doc.id}/members`, { email: u.auth.user.email, role })).status).toBe(201);
    return u;
  };
  const ben = await member("Ben", "editor");
  const cat = await member("Cat", "commenter");
  const vic = await member("Vic", "viewer");
  const eve = await ctx.anon.newUser("Eve");
  return { doc, ann, ben, cat, vic, eve };
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
const relative = (text: Y.XmlText, index: number, assoc: number) => b64(Y.encodeRelativePosition(Y.createRelativePositionFromTypeIndex(text, index, assoc)));
const absolute = (doc: Y.Doc, encoded: string) => Y.createAbsolutePositionFromRelativePosition(Y.decodeRelativePosition(Buffer.from(encoded, "base64")), doc)?.index;

/** Text as TipTap keeps it: XmlFragment `default` > paragraph > text. */
function startParagraph(c: CollabClient, text: string): void {
  const p = new Y.XmlElement("paragraph");
  p.insert(0, [new Y.XmlText(text)]);
  c.doc.getXmlFragment("default").insert(0, [p]);
}

/** The first paragraph's text (one that has not arrived yet reads as empty). */
function paragraph(c: CollabClient): Y.XmlText {
  const p = c.doc.getXmlFragment("default").get(0) as Y.XmlElement | undefined;
  return (p?.get(0) as Y.XmlText | undefined) ?? new Y.XmlText();
}

async function threads(api: TestApi, docId: string, status = "all") {
  const res = await api.get<{ items: CommentThreadView[] }>(`/api/docs/${docId}/comments?status=${status}`);
  expect(res.status).toBe(200);
  return res.body.items;
}

describe("comments", () => {
  it("an anchor on a range of text follows it through concurrent typing before, inside and after it, and is detached once its text is deleted", async () => {
    const { doc, ann, ben, cat } = await team();
    const a = ctx.client(doc.id, ann.auth.accessToken);
    const b = ctx.client(doc.id, ben.auth.accessToken, 1 % ctx.system.byName("gateway").length);
    await vi.waitFor(() => expect(a.provider.synced && b.provider.synced).toBe(true));
    startParagraph(a, "Hello wonderful world");
    await vi.waitFor(() => expect(paragraph(b).toString()).toBe("Hello wonderful world"));

    // Cat comments on "wonderful" (6..15): the start sticks to the text after it, the end to the text before it.
    const anchor = { type: "text", start: relative(paragraph(a), 6, 0), end: relative(paragraph(a), 15, -1) };
    const created = await cat.api.post<CommentThreadView>(`/api/docs/${doc.id}/comments`, { body: "Too strong?", anchor });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ body: "Too strong?", authorId: cat.auth.user.id, authorName: "Cat", anchor, resolved: false, replies: [] });

    // At once, on two connections through different gateways: before, inside, at both ends, after.
    paragraph(a).insert(0, "Oh, ");
    paragraph(b).insert(9, "very ");
    paragraph(a).insert(15 + 4, "!");
    paragraph(b).insert(paragraph(b).length, " again");
    await vi.waitFor(() => {
      expect(paragraph(a).toString()).toBe(paragraph(b).toString());
      expect(paragraph(a).toString()).toBe("Oh, Hello wonvery derful! world again");
    });

    const [stored] = await threads(cat.api, doc.id);
    expect(stored!.anchor).toEqual(anchor);
    const range = (c: CollabClient) => {
      const text = paragraph(c).toString();
      const [start, end] = [absolute(c.doc, anchor.start), absolute(c.doc, anchor.end)];
      return start === undefined || end === undefined ? undefined : text.slice(start, end);
    };
    for (const c of [a, b]) expect(range(c)).toBe("wonvery derful");

    // The text goes: the range collapses (shown as detached), and the thread stays.
    const start = paragraph(a).toString().indexOf("wonvery");
    paragraph(a).delete(start, "wonvery derful".length);
    await vi.waitFor(() => expect(paragraph(b).toString()).toBe("Oh, Hello ! world again"));
    for (const c of [a, b]) expect(range(c)).toBe("");
    expect(await threads(ann.api, doc.id)).toHaveLength(1);
  });

  it("owners, editors and commenters comment, viewers only read, and a stranger learns nothing", async () => {
    const { doc, ann, ben, cat, vic, eve } = await team();
    for (const who of [ann, ben, cat]) expect((await who.api.post(`/api/docs/${doc.id}/comments`, { body: `From ${who.auth.user.name}` })).status).toBe(201);
    const refused = await vic.api.post<{ error: { code: string } }>(`/api/docs/${doc.id}/comments`, { body: "Me too" });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe("FORBIDDEN");
    const seen = await threads(vic.api, doc.id);
    expect(seen.map((t) => t.body)).toEqual(["From Ann", "From Ben", "From Cat"]);
    const first = seen[0]!.id;
    expect((await vic.api.post(`/api/comments/${first}/replies`, { body: "x" })).status).toBe(403);
    expect((await vic.api.call("PATCH", `/api/comments/${first}`, { resolved: true })).status).toBe(403);

    // A stranger gets what a comment that does not exist gets.
    expect((await eve.api.get(`/api/docs/${doc.id}/comments`)).status).toBe(404);
    expect((await eve.api.post(`/api/docs/${doc.id}/comments`, { body: "Hi" })).status).toBe(404);
    for (const [method, url, body] of [
      ["POST", `/api/comments/${first}/replies`, { body: "Hi" }],
      ["PATCH", `/api/comments/${first}`, { body: "Hi" }],
      ["DELETE", `/api/comments/${first}`, undefined],
    ] as const) {
      const res = await eve.api.call<{ error: { code: string } }>(method, url, body);
      expect(res.status, `${method} ${url}`).toBe(404);
      const missing = await eve.api.call(method, url.replace(first, "no-such-comment"), body);
      expect(missing.status).toBe(404);
      expect(missing.body).toEqual(res.body);
    }
    expect((await ctx.anon.get(`/api/docs/${doc.id}/comments`)).status).toBe(401);
    expect(await threads(ann.api, doc.id)).toHaveLength(3);
  });

  it("replies, edits of one's own, deletes, resolving and reopening, and the open and resolved filters", async () => {
    const { doc, ann, ben, cat } = await team();
    const thread = (await ben.api.post<CommentThreadView>(`/api/docs/${doc.id}/comments`, { body: "Shall we cut this?" })).body;
    const reply = await cat.api.post<CommentView>(`/api/comments/${thread.id}/replies`, { body: "Yes, @Ann agrees", mentions: [ann.auth.user.id] });
    expect(reply.status).toBe(201);
    expect(reply.body).toMatchObject({ body: "Yes, @Ann agrees", authorId: cat.auth.user.id, authorName: "Cat", mentions: [ann.auth.user.id] });
    // A reply to a reply joins the same thread.
    expect((await ann.api.post(`/api/comments/${reply.body.id}/replies`, { body: "I do." })).status).toBe(201);

    // Only the author changes the text; not even the owner.
    expect((await ann.api.call("PATCH", `/api/comments/${reply.body.id}`, { body: "No" })).status).toBe(403);
    const edited = await cat.api.call<CommentThreadView>("PATCH", `/api/comments/${reply.body.id}`, { body: "Yes, cut it" });
    expect(edited.status).toBe(200);
    expect(edited.body.replies.map((r) => r.body)).toEqual(["Yes, cut it", "I do."]);
    expect(Date.parse(edited.body.replies[0]!.updatedAt)).toBeGreaterThan(Date.parse(edited.body.replies[0]!.createdAt));

    // Anyone who may comment resolves, through any comment of the thread.
    const resolved = await cat.api.call<CommentThreadView>("PATCH", `/api/comments/${reply.body.id}`, { resolved: true });
    expect(resolved.body).toMatchObject({ id: thread.id, resolved: true, resolvedBy: cat.auth.user.id });
    const other = (await ann.api.post<CommentThreadView>(`/api/docs/${doc.id}/comments`, { body: "Typo here" })).body;
    expect((await threads(ben.api, doc.id, "open")).map((t) => t.id)).toEqual([other.id]);
    expect((await threads(ben.api, doc.id, "resolved")).map((t) => t.id)).toEqual([thread.id]);
    expect((await ben.api.get(`/api/docs/${doc.id}/comments?status=closed`)).status).toBe(400);

    // A reply opens a resolved thread again.
    await ben.api.post(`/api/comments/${thread.id}/replies`, { body: "Wait, one more thing" });
    expect((await threads(ben.api, doc.id, "open")).map((t) => t.id)).toEqual([thread.id, other.id]);

    // Deleting: one's own, or anything for the owner; the first comment takes its thread with it.
    expect((await ben.api.call("DELETE", `/api/comments/${reply.body.id}`)).status).toBe(403);
    expect((await ann.api.call("DELETE", `/api/comments/${reply.body.id}`)).status).toBe(204);
    expect((await threads(ann.api, doc.id)).find((t) => t.id === thread.id)!.replies.map((r) => r.body)).toEqual(["I do.", "Wait, one more thing"]);
    // Others replied in Ben's thread: he cannot take their words with his; the owner can.
    expect((await ben.api.call("DELETE", `/api/comments/${thread.id}`)).status).toBe(403);
    expect((await ann.api.call("DELETE", `/api/comments/${thread.id}`)).status).toBe(204);
    expect((await threads(ann.api, doc.id)).map((t) => t.id)).toEqual([other.id]);
    expect((await ann.api.post(`/api/comments/${reply.body.id}/replies`, { body: "?" })).status).toBe(404);
  });

  it("refuses what is not a comment: empty text, a bad anchor, a card anchor on text, a mention of a non-member", async () => {
    const { doc, ann, eve } = await team();
    const post = (body: unknown) => ann.api.post<{ error: { code: string } }>(`/api/docs/${doc.id}/comments`, body);
    for (const body of [
      {},
      { body: "" },
      { body: "   " },
      { body: "x".repeat(10_001) },
      { body: "x", anchor: { type: "text", start: "not base64!", end: "AAAA" } },
      { body: "x", anchor: { type: "text", start: "AAAA" } },
      { body: "x", anchor: { type: "card", cardId: "k1" } },
      { body: "x", mentions: [eve.auth.user.id] },
      { body: "x", extra: true },
    ]) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400);
    }
    expect(await threads(ann.api, doc.id)).toEqual([]);
  });

  it("a comment on a board points at a card", async () => {
    const { doc, ann, cat } = await team("board");
    const res = await cat.api.post<CommentThreadView>(`/api/docs/${doc.id}/comments`, { body: "Due when?", anchor: { type: "card", cardId: "card-7" } });
    expect(res.status).toBe(201);
    expect((await threads(ann.api, doc.id))[0]!.anchor).toEqual({ type: "card", cardId: "card-7" });
  });

  it("every action is an event on the document's subject, in its activity without the words, and open pages hear of it at once", async () => {
    const { doc, ann, cat } = await team();
    const watcher = ctx.client(doc.id, ann.auth.accessToken);
    await vi.waitFor(() => expect(watcher.provider.synced).toBe(true));
    const before = (await ann.api.get<DocView>(`/api/docs/${doc.id}`)).body.version;
    const created = (await cat.api.post<CommentThreadView>(`/api/docs/${doc.id}/comments`, { body: "Secret plan" })).body;
    const version = (await ann.api.get<DocView>(`/api/docs/${doc.id}`)).body.version;
    expect(version).toBeGreaterThan(before);
    await vi.waitFor(() => {
      const notice = documentChangedIn(watcher.provider.awareness.getStates().get(2 ** 32));
      expect(notice).toEqual({ what: "comments", at: expect.any(Number), version });
    });
    await cat.api.call("PATCH", `/api/comments/${created.id}`, { resolved: true });

    const last = await ctx.jsm.streams.getMessage(Streams.docs, { last_by_subj: subjects.docEvents(doc.id) });
    expect(last!.json<{ type: string; actorId: string; data: { commentId: string } }>()).toMatchObject({ type: "comment.resolved.v1", actorId: cat.auth.user.id, data: { commentId: created.id } });
    await vi.waitFor(async () => {
      const items = (await ann.api.get<{ items: ActivityItem[] }>(`/api/docs/${doc.id}/activity`)).body.items;
      const comments = items.filter((i) => i.type.startsWith("comment."));
      expect(comments.map((i) => i.type).sort()).toEqual(["comment.created", "comment.resolved"]);
      expect(JSON.stringify(comments)).not.toContain("Secret plan");
      expect(comments.every((i) => i.userId === cat.auth.user.id)).toBe(true);
    });
    // The audit trail carries them whole: an auditor reads what was said, and by whom.
    const audit = await ann.api.get<string>(`/api/docs/${doc.id}/audit`);
    expect(audit.status).toBe(200);
    const trail = String(audit.body);
    expect(trail).toContain("Secret plan");
    expect(trail).toContain("comment.resolved.v1");
  });

  it("many people commenting at once all get their comments stored", async () => {
    const { doc, ann, ben, cat } = await team();
    const posts = [ann, ben, cat].flatMap((who) => Array.from({ length: 4 }, (_, i) => who.api.post(`/api/docs/${doc.id}/comments`, { body: `${who.auth.user.name} ${i}` })));
    const results = await Promise.all(posts);
    expect(results.map((r) => r.status)).toEqual(Array(12).fill(201));
    expect((await threads(ann.api, doc.id)).map((t) => t.body).sort()).toHaveLength(12);
  });
});
