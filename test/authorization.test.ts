import { beforeAll, describe, expect, it, vi } from "vitest";
import type { ApiResponse, TestApi } from "@palimpsest/devkit";
import { EditHeaders, Streams, subjects, type AuthResult, type DocView, type Role } from "@palimpsest/contracts";
import { useSystem } from "./system.ts";
import { storedEdits } from "./stream-helpers.ts";
import { rawConnect, type CollabClient } from "./collab-client.ts";

type Who = Role | "stranger";
const WHO: Who[] = ["owner", "editor", "commenter", "viewer", "auditor", "stranger"];

const ctx = useSystem("authorization");
const users = {} as Record<Who | "target", { api: TestApi; auth: AuthResult }>;

beforeAll(async () => {
  for (const who of [...WHO, "target"] as const) users[who] = await ctx.anon.newUser(who);
});


/** A fresh document with one member of each role, plus a viewer to act on. */
async function sharedDoc(): Promise<DocView> {
  const owner = users.owner.api;
  const doc = await owner.createDoc("Matrix");
  for (const [who, role] of [["editor", "editor"], ["commenter", "commenter"], ["viewer", "viewer"], ["auditor", "auditor"], ["target", "viewer"]] as const) {
    const r = await owner.post(`/api/docs/${doc.id}/members`, { email: users[who].auth.user.email, role });
    expect(r.status).toBe(201);
  }
  return doc;
}

interface Cell {
  name: string;
  call: (api: TestApi, doc: DocView) => Promise<ApiResponse>;
  expected: Record<Who, number>;
  before?: (doc: DocView) => Promise<void>;
}

const target = () => users.target.auth.user.id;
const everyone = (ok: number): Record<Who, number> => ({ owner: ok, editor: ok, commenter: ok, viewer: ok, auditor: ok, stranger: 404 });
/** History (edits, versions, diffs, activity, the audit trail) is for owners, editors and auditors; viewers and commenters see the document as it is now. */
const historyReaders = (ok: number): Record<Who, number> => ({ owner: ok, editor: ok, commenter: 403, viewer: 403, auditor: ok, stranger: 404 });

const matrix: Cell[] = [
  { name: "GET /api/docs/:id", call: (a, d) => a.get(`/api/docs/${d.id}`), expected: everyone(200) },
  { name: "GET members", call: (a, d) => a.get(`/api/docs/${d.id}/members`), expected: everyone(200) },
  { name: "GET history", call: (a, d) => a.get(`/api/docs/${d.id}/history`), expected: historyReaders(200) },
  { name: "GET activity", call: (a, d) => a.get(`/api/docs/${d.id}/activity`), expected: historyReaders(200) },
  { name: "GET diff", call: (a, d) => a.get(`/api/docs/${d.id}/diff?from=0&to=0`), expected: historyReaders(200) },
  { name: "GET named versions", call: (a, d) => a.get(`/api/docs/${d.id}/versions`), expected: historyReaders(200) },
  { name: "GET audit trail", call: (a, d) => a.get(`/api/docs/${d.id}/audit`), expected: historyReaders(200) },
  {
    name: "POST comment",
    call: (a, d) => a.post(`/api/docs/${d.id}/comments`, { body: "A question" }),
    expected: { owner: 201, editor: 201, commenter: 201, viewer: 403, auditor: 403, stranger: 404 },
  },
  { name: "PATCH rename", call: (a, d) => a.call("PATCH", `/api/docs/${d.id}`, { title: "Renamed" }), expected: { owner: 200, editor: 200, commenter: 403, viewer: 403, auditor: 403, stranger: 404 } },
  {
    name: "POST members (share)",
    call: (a, d) => a.post(`/api/docs/${d.id}/members`, { email: `x-${crypto.randomUUID()}@example.test`, role: "viewer" }),
    expected: { owner: 201, editor: 201, commenter: 403, viewer: 403, auditor: 403, stranger: 404 },
  },
  {
    name: "PATCH member role",
    call: (a, d) => a.call("PATCH", `/api/docs/${d.id}/members/${target()}`, { role: "editor" }),
    expected: { owner: 200, editor: 403, commenter: 403, viewer: 403, auditor: 403, stranger: 404 },
  },
  {
    name: "DELETE member",
    call: (a, d) => a.call("DELETE", `/api/docs/${d.id}/members/${target()}`),
    expected: { owner: 204, editor: 403, commenter: 403, viewer: 403, auditor: 403, stranger: 404 },
  },
  {
    name: "POST transfer",
    call: (a, d) => a.post(`/api/docs/${d.id}/transfer`, { userId: target() }),
    expected: { owner: 200, editor: 403, commenter: 403, viewer: 403, auditor: 403, stranger: 404 },
  },
  { name: "POST leave", call: (a, d) => a.post(`/api/docs/${d.id}/leave`), expected: { owner: 403, editor: 204, commenter: 204, viewer: 204, auditor: 204, stranger: 404 } },
  { name: "DELETE (to trash)", call: (a, d) => a.call("DELETE", `/api/docs/${d.id}`), expected: { owner: 204, editor: 403, commenter: 403, viewer: 403, auditor: 403, stranger: 404 } },
  {
    name: "POST untrash",
    before: async (d) => void (await users.owner.api.call("DELETE", `/api/docs/${d.id}`)),
    call: (a, d) => a.post(`/api/docs/${d.id}/untrash`),
    expected: { owner: 200, editor: 403, commenter: 403, viewer: 403, auditor: 403, stranger: 404 },
  },
];

describe("authorization matrix: every role against every docs endpoint", () => {
  for (const cell of matrix) {
    for (const who of WHO) {
      it(`${cell.name} as ${who} → ${cell.expected[who]}`, async () => {
        const doc = await sharedDoc();
        await cell.before?.(doc);
        const res = await cell.call(users[who].api, doc);
        expect(res.status, JSON.stringify(res.body)).toBe(cell.expected[who]);
      });
    }
  }
});

describe("authorization matrix on /collab", () => {
  it("members read the document; only owners and editors write; strangers get nothing", async () => {
    const doc = await sharedDoc();
    const sockets = Object.fromEntries(
      (["owner", "editor", "commenter", "viewer", "auditor"] as const).map((who) => {
        const c = ctx.client(doc.id, users[who].auth.accessToken);
        return [who, c];
      }),
    ) as Record<Exclude<Who, "stranger">, CollabClient>;
    await vi.waitFor(() => expect(Object.values(sockets).every((c) => c.provider.synced)).toBe(true));
    for (const who of ["auditor", "viewer", "commenter", "editor", "owner"] as const) sockets[who].doc.getText("t").insert(0, `[${who}]`);
    // Everyone converges on what was stored: the owner's and the editor's text only.
    await vi.waitFor(() => {
      for (const who of ["owner", "editor"] as const) {
        const text = sockets[who].text();
        expect(text).toContain("[owner]");
        expect(text).toContain("[editor]");
        expect(text).not.toContain("[viewer]");
        expect(text).not.toContain("[commenter]");
        expect(text).not.toContain("[auditor]");
      }
    });
    const stored = await ctx.jsm.streams.getMessage(Streams.edits, { last_by_subj: subjects.edits(doc.id) });
    const info = await ctx.jsm.streams.info(Streams.edits, { subjects_filter: subjects.edits(doc.id) });
    expect(info.state.subjects?.[subjects.edits(doc.id)]).toBe(2);
    expect([users.owner.auth.user.id, users.editor.auth.user.id]).toContain(stored?.header.get(EditHeaders.author));
    // A new viewer connection sees only stored content.
    const late = ctx.client(doc.id, users.viewer.auth.accessToken);
    await vi.waitFor(() => expect(late.text()).toBe(sockets.owner.text()));

    const s = rawConnect(`${ctx.system.gatewayUrl().replace(/^http/, "ws")}/collab/${doc.id}?token=${users.stranger.auth.accessToken}`);
    expect((await s.closed).code).toBe(4403);
    expect(s.messages.every((m) => m[0] === 2)).toBe(true);
  });
});

describe("role changes take effect on open connections", () => {

  it("a demoted editor's socket stays open but its edits are no longer stored; a removed member's socket closes", async () => {
    const doc = await sharedDoc();
    const owner = users.owner.api;
    const editorId = users.editor.auth.user.id;
    const editor = ctx.client(doc.id, users.editor.auth.accessToken);
    const watcher = ctx.client(doc.id, users.owner.auth.accessToken);
    const closes: number[] = [];
    editor.provider.on("connection-close", (e) => e && closes.push(e.code));
    await vi.waitFor(() => expect(editor.provider.synced && watcher.provider.synced).toBe(true));
    let denied = 0;
    editor.provider.ws?.addEventListener("message", (e: MessageEvent) => {
      if (new Uint8Array(e.data as ArrayBuffer)[0] === 2) denied++;
    });

    editor.doc.getText("t").insert(0, "before ");
    await vi.waitFor(() => expect(watcher.text()).toBe("before "));

    expect((await owner.call("PATCH", `/api/docs/${doc.id}/members/${editorId}`, { role: "viewer" })).status).toBe(200);
    // Once the change reaches the sync replica, the editor's next update is refused and it is told so.
    await vi.waitFor(() => {
      editor.doc.getText("t").insert(editor.text().length, ".");
      expect(denied).toBeGreaterThan(0);
    });
    const count = await storedEdits(ctx.jsm, doc.id);
    editor.doc.getText("t").insert(0, "refused ");
    watcher.doc.getText("t").insert(watcher.text().length, "|owner");
    await vi.waitFor(() => expect(editor.text()).toContain("|owner"));
    expect(await storedEdits(ctx.jsm, doc.id)).toBe(count + 1);
    const fresh = ctx.client(doc.id, users.owner.auth.accessToken);
    await vi.waitFor(() => expect(fresh.text()).toContain("|owner"));
    expect(fresh.text()).not.toContain("refused");
    expect(closes).toEqual([]);

    expect((await owner.call("DELETE", `/api/docs/${doc.id}/members/${editorId}`)).status).toBe(204);
    await vi.waitFor(() => expect(closes).toContain(4403));
    expect(editor.provider.wsconnected).toBe(false);
  });
});
