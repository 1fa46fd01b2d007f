import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import pg from "pg";
import { Streams, type AcceptedInvitation, type AuthResult, type DocView, type ErrorBody, type MembersView } from "@palimpsest/contracts";
import type { TestApi } from "@palimpsest/devkit";
import { useSystem } from "./system.ts";
import { tokenIn, waitForMail } from "./mail-helpers.ts";

const ctx = useSystem("invitations");
const PASSWORD = "correct horse battery staple";

let db: pg.Client;
beforeAll(async () => {
  db = new pg.Client({ connectionString: inject("storeEnv")["DATABASE_URL"] });
  await db.connect();
});
afterAll(async () => {
  await db?.end();
});

async function register(email: string, name = "Someone"): Promise<{ api: TestApi; auth: AuthResult }> {
  const res = await ctx.anon.post<AuthResult>("/api/auth/register", { email, password: PASSWORD, name });
  expect(res.status).toBe(201);
  return { api: ctx.anon.withToken(res.body.accessToken), auth: res.body };
}

/**
 * Waits until the docs service has read the AUTH stream up to its current end: its users mirror,
 * and the registration reactor where a build still has one, which granted invitations to whoever
 * registered the invited email.
 */
async function docsCaughtUpWithAuth(): Promise<void> {
  const last = (await ctx.jsm.streams.info(Streams.auth)).state.last_seq;
  await vi.waitFor(
    async () => {
      const rows = (await db.query<{ name: string; stream_seq: string }>("select name, stream_seq from docs.projection_checkpoints where name in ('docs-users', 'docs-invitations')")).rows;
      expect(rows.length).toBeGreaterThan(0);
      for (const r of rows) expect(Number(r.stream_seq)).toBeGreaterThanOrEqual(last);
    },
    { timeout: 30_000 },
  );
}

async function sharedDoc() {
  const { api: owner } = await ctx.anon.newUser("Owner");
  const doc = await owner.createDoc("Plans");
  const viewer = await ctx.anon.newUser("Viewer");
  expect((await owner.post(`/api/docs/${doc.id}/members`, { email: viewer.auth.user.email, role: "viewer" })).status).toBe(201);
  return { owner, doc, viewer };
}

describe("invitation takeover", () => {
  it("registering the invited email grants nothing: a viewer who does so does not become editor", async () => {
    const { owner, doc } = await sharedDoc();
    const invited = `invitee-${randomUUID()}@example.test`;
    expect((await owner.post(`/api/docs/${doc.id}/members`, { email: invited, role: "editor" })).status).toBe(201);

    // The viewer registers the invited address before its owner does.
    const squatter = await register(invited, "Not the invitee");
    await docsCaughtUpWithAuth();
    expect((await squatter.api.get<ErrorBody>(`/api/docs/${doc.id}`)).status).toBe(404);
    const members = (await owner.get<MembersView>(`/api/docs/${doc.id}/members`)).body;
    expect(members.members.map((m) => m.userId)).not.toContain(squatter.auth.user.id);
    expect(members.invitations).toEqual([expect.objectContaining({ email: invited, role: "editor" })]);
  });

  it("pending invitations are listed only to those who may share", async () => {
    const { owner, doc, viewer } = await sharedDoc();
    const commenter = await ctx.anon.newUser("Commenter");
    const editor = await ctx.anon.newUser("Editor");
    await owner.post(`/api/docs/${doc.id}/members`, { email: commenter.auth.user.email, role: "commenter" });
    await owner.post(`/api/docs/${doc.id}/members`, { email: editor.auth.user.email, role: "editor" });
    const invited = `secret-${randomUUID()}@example.test`;
    await owner.post(`/api/docs/${doc.id}/members`, { email: invited, role: "editor" });

    for (const reader of [viewer.api, commenter.api]) {
      const res = await reader.get<MembersView>(`/api/docs/${doc.id}/members`);
      expect(res.status).toBe(200);
      expect(res.body.members.length).toBe(4);
      expect(res.body.invitations).toEqual([]);
    }
    for (const sharer of [owner, editor.api]) {
      expect((await sharer.get<MembersView>(`/api/docs/${doc.id}/members`)).body.invitations).toEqual([expect.objectContaining({ email: invited, role: "editor" })]);
    }
  });
});

describe("invitation links", () => {
  it("the emailed link makes its holder a member, once", async () => {
    const { owner, doc } = await sharedDoc();
    const invited = `link-${randomUUID()}@example.test`;
    await owner.post(`/api/docs/${doc.id}/members`, { email: invited, role: "commenter" });
    const [mail] = await waitForMail(invited);
    expect(mail!.subject).toContain("Plans");
    const token = tokenIn(mail!, "/invite/");

    expect((await ctx.anon.post<ErrorBody>("/api/invitations/accept", { token })).status).toBe(401);
    const invitee = await register(invited, "Invitee");
    // Registration alone is not acceptance.
    expect((await invitee.api.get(`/api/docs/${doc.id}`)).status).toBe(404);
    const accepted = await invitee.api.post<AcceptedInvitation>("/api/invitations/accept", { token });
    expect(accepted.status).toBe(200);
    expect(accepted.body).toEqual({ docId: doc.id, kind: "text", role: "commenter" });
    expect((await invitee.api.get<DocView>(`/api/docs/${doc.id}`)).body.role).toBe("commenter");
    expect((await owner.get<MembersView>(`/api/docs/${doc.id}/members`)).body.invitations).toEqual([]);

    // Used: nobody else gets in with it, not even with another account.
    const other = await ctx.anon.newUser();
    const again = await other.api.post<ErrorBody>("/api/invitations/accept", { token });
    expect(again.status).toBe(404);
    expect((await other.api.get(`/api/docs/${doc.id}`)).status).toBe(404);
  });

  it("a cancelled invitation's link stops working, and inviting again replaces the link", async () => {
    const { owner, doc } = await sharedDoc();
    const { api: someone } = await ctx.anon.newUser();

    const cancelled = `cancelled-${randomUUID()}@example.test`;
    await owner.post(`/api/docs/${doc.id}/members`, { email: cancelled, role: "editor" });
    const cancelledToken = tokenIn((await waitForMail(cancelled))[0]!, "/invite/");
    expect((await owner.post(`/api/docs/${doc.id}/invitations/cancel`, { email: cancelled })).status).toBe(204);
    expect((await someone.post("/api/invitations/accept", { token: cancelledToken })).status).toBe(404);

    const resent = `resent-${randomUUID()}@example.test`;
    await owner.post(`/api/docs/${doc.id}/members`, { email: resent, role: "viewer" });
    const first = tokenIn((await waitForMail(resent, 1))[0]!, "/invite/");
    await owner.post(`/api/docs/${doc.id}/members`, { email: resent, role: "editor" });
    const second = tokenIn((await waitForMail(resent, 2))[1]!, "/invite/");
    expect(second).not.toBe(first);
    expect((await someone.post("/api/invitations/accept", { token: first })).status).toBe(404);
    expect((await someone.post<AcceptedInvitation>("/api/invitations/accept", { token: second })).body.role).toBe("editor");
    expect((await someone.post("/api/invitations/accept", { token: "x".repeat(43) })).status).toBe(404);
  });

  it("only owners and editors can invite", async () => {
    const { doc, viewer } = await sharedDoc();
    const res = await viewer.api.post<ErrorBody>(`/api/docs/${doc.id}/members`, { email: `x-${randomUUID()}@example.test`, role: "viewer" });
    expect(res.status).toBe(403);
  });
});
