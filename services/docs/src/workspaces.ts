import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  AddWorkspaceMemberBody,
  AppError,
  CancelWorkspaceInvitationBody,
  canInWorkspace,
  CreateDocInput,
  CreateWorkspaceBody,
  DocGetInput,
  RenameWorkspaceBody,
  WorkspaceCommandInput,
  WorkspaceRoleBody,
  normaliseEmail,
  parse,
  type AcceptedInvitation,
  type Page,
  type WorkspaceMembersView,
  type WorkspaceView,
} from "@palimpsest/contracts";
import { jetstreamOf, requireSessionCaller, type RpcContext, type RpcResult } from "@palimpsest/platform";
import type { AccessCache } from "./access-cache.ts";
import { idempotentId } from "./document-store.ts";
import { workspaceRoleOf, type WorkspaceCommand } from "./domain/workspace.ts";
import type { ApplyStored } from "./read-your-writes.ts";
import type { DocsDb } from "./schema.ts";
import { findUserByEmail } from "./user-directory.ts";
import { queueInvitationMail, type InvitationSettings } from "./invitation-mail.ts";
import type { WorkspaceStore } from "./workspace-store.ts";

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const sha256Hex = (value: string) => createHash("sha256").update(value).digest("hex");

/**
 * Workspaces: made, renamed and deleted by their owners and admins, with members whose workspace
 * role gives them a role on each of its documents (WorkspaceDocumentRoles). Managing them is for
 * people signed in: an API token's caller is refused (requireSessionCaller).
 */
export function createWorkspaces(db: Kysely<DocsDb>, store: WorkspaceStore, cache: AccessCache, apply: ApplyStored, nc: NatsConnection, invitations: InvitationSettings) {
  const js = jetstreamOf(nc);
  async function view(workspaceId: string, userId: string): Promise<WorkspaceView> {
    const row = await db
      .selectFrom("workspaces as w")
      .innerJoin("workspace_members as m", (j) => j.onRef("m.workspace_id", "=", "w.id").on("m.user_id", "=", userId))
      .select(["w.id", "w.name", "w.created_at", "m.role"])
      .select((eb) => eb.selectFrom("workspace_members as c").whereRef("c.workspace_id", "=", "w.id").select((c) => c.fn.countAll<string>().as("n")).as("member_count"))
      .where("w.id", "=", workspaceId)
      .executeTakeFirst();
    if (!row) throw new AppError("NOT_FOUND", "workspace not found");
    return { id: row.id, name: row.name, role: row.role, createdAt: row.created_at.toISOString(), memberCount: Number(row.member_count ?? 0) };
  }

  async function members(workspaceId: string, withInvitations: boolean): Promise<WorkspaceMembersView> {
    const rows = await db
      .selectFrom("workspace_members as m")
      .leftJoin("doc_users as u", "u.id", "m.user_id")
      .select(["m.user_id", "m.role", "u.email", "u.name"])
      .where("m.workspace_id", "=", workspaceId)
      .orderBy("m.added_at")
      .orderBy("m.user_id")
      .execute();
    // Who was invited, by email, is for those who may invite.
    const pending = withInvitations
      ? await db.selectFrom("workspace_invitations").select(["email", "role", "expires_at"]).where("workspace_id", "=", workspaceId).orderBy("invited_at").orderBy("email").execute()
      : [];
    return {
      items: rows.map((r) => ({ userId: r.user_id, role: r.role, email: r.email ?? "", name: r.name ?? "" })),
      nextCursor: null,
      invitations: pending.map((i) => ({ email: i.email, role: i.role, expiresAt: i.expires_at.toISOString() })),
    };
  }

  /** The member list as `userId` sees it. */
  async function membersFor(workspaceId: string, userId: string): Promise<WorkspaceMembersView> {
    const role = workspaceRoleOf(await cache.workspace(workspaceId), userId);
    return members(workspaceId, canInWorkspace(role, "manageMembers"));
  }

  /** Decides the command on the workspace as stored and answers once the read model has it. */
  async function run(input: unknown, ctx: RpcContext, toCommand: (i: ReturnType<typeof parseInput>) => WorkspaceCommand | Promise<WorkspaceCommand>) {
    const caller = requireSessionCaller(ctx);
    const i = parseInput(input);
    const command = await toCommand(i);
    return store.execute(i.id, command, caller.userId, {
      ...(i.idempotencyKey ? { idempotencyKey: i.idempotencyKey } : {}),
      apply: (event, seq, previousSeq) => apply(i.id, event, seq, previousSeq),
    });
  }
  const parseInput = (input: unknown) => parse(WorkspaceCommandInput, input, "request");

  return {
    /** The workspaces the caller belongs to, by name. */
    async list(_input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireSessionCaller(ctx);
      const rows = await db
        .selectFrom("workspaces as w")
        .innerJoin("workspace_members as m", (j) => j.onRef("m.workspace_id", "=", "w.id").on("m.user_id", "=", caller.userId))
        .select(["w.id", "w.name", "w.created_at", "m.role"])
        .select((eb) => eb.selectFrom("workspace_members as c").whereRef("c.workspace_id", "=", "w.id").select((c) => c.fn.countAll<string>().as("n")).as("member_count"))
        .orderBy("w.name")
        .orderBy("w.id")
        .limit(500)
        .execute();
      const page: Page<WorkspaceView> = {
        items: rows.map((r) => ({ id: r.id, name: r.name, role: r.role, createdAt: r.created_at.toISOString(), memberCount: Number(r.member_count ?? 0) })),
        nextCursor: null,
      };
      return { body: page };
    },

    async create(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireSessionCaller(ctx);
      const i = parse(CreateDocInput, input, "request");
      const name = parse(CreateWorkspaceBody, i.body, "body").name.trim();
      if (!name) throw new AppError("VALIDATION_FAILED", "name must not be empty");
      // With an idempotency key a retried create names the same workspace, and is stored once.
      const workspaceId = i.idempotencyKey ? idempotentId([caller.userId, "create-workspace", i.idempotencyKey]) : randomUUID();
      await store.execute(workspaceId, { type: "create", name }, caller.userId, {
        ...(i.idempotencyKey ? { idempotencyKey: i.idempotencyKey } : {}),
        apply: (event, seq, previousSeq) => apply(workspaceId, event, seq, previousSeq),
      });
      return { status: 201, body: await view(workspaceId, caller.userId) };
    },

    async get(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireSessionCaller(ctx);
      const { id } = parse(DocGetInput, input, "params");
      return { body: await view(id, caller.userId) };
    },

    async rename(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const { state } = await run(input, ctx, (i) => {
        const name = parse(RenameWorkspaceBody, i.body, "body").name.trim();
        if (!name) throw new AppError("VALIDATION_FAILED", "name must not be empty");
        return { type: "rename", name };
      });
      return { body: await view(state.workspaceId, requireSessionCaller(ctx).userId) };
    },

    async remove(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      await run(input, ctx, async (i) => {
        // Counted from the read model: a document moved in meanwhile is caught by its own move,
        // which finds the workspace deleted and is refused.
        const live = await db.selectFrom("documents").select((eb) => eb.fn.countAll<string>().as("n")).where("workspace_id", "=", i.id).where("trashed_at", "is", null).executeTakeFirst();
        return { type: "delete", liveDocuments: Number(live?.n ?? 0) };
      });
      return { status: 204, body: null };
    },

    async members(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireSessionCaller(ctx);
      const { id } = parse(DocGetInput, input, "params");
      return { body: await membersFor(id, caller.userId) };
    },

    /**
     * Adds someone with an account by their email (or changes a member's role); an email with no
     * account yet is sent a single-use invitation link, as for documents.
     */
    async addMember(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireSessionCaller(ctx);
      // Only the link's holder can accept: the token goes out by email, only its hash is stored.
      const token = randomBytes(32).toString("base64url");
      let invited: { email: string; role: string } | undefined;
      const { state, events } = await run(input, ctx, async (i) => {
        const body = parse(AddWorkspaceMemberBody, i.body, "body");
        const email = normaliseEmail(body.email);
        if (!EMAIL.test(email)) throw new AppError("VALIDATION_FAILED", "enter a valid email address");
        // Whether an email has an account is for those who manage members: that is checked first.
        if (!canInWorkspace(workspaceRoleOf(await cache.workspace(i.id), caller.userId), "manageMembers")) throw new AppError("FORBIDDEN", "only owners and admins add members");
        const user = await findUserByEmail(db, nc, email, ctx.requestId);
        if (user) return { type: "add-member", userId: user.id, role: body.role, email };
        invited = { email, role: body.role };
        return { type: "invite", email, role: body.role, tokenHash: sha256Hex(token), expiresAt: new Date(Date.now() + invitations.ttlMs).toISOString() };
      });
      const stored = events.find((e) => e.event.type === "workspace.invited.v1");
      if (stored && invited) {
        const inviter = await db.selectFrom("doc_users").select("name").where("id", "=", caller.userId).executeTakeFirst();
        await queueInvitationMail(js, invitations, { mailId: stored.event.id, email: invited.email, inviter: inviter?.name ?? "Someone", what: `the "${state.name}" workspace`, role: invited.role, token });
      }
      return { status: 201, body: await members(state.workspaceId, true) };
    },

    async cancelInvitation(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      await run(input, ctx, (i) => ({ type: "cancel-invitation", email: normaliseEmail(parse(CancelWorkspaceInvitationBody, i.body, "body").email) }));
      return { status: 204, body: null };
    },

    /**
     * Accepts a workspace's emailed invitation, if `tokenHash` names one (documents' invitations
     * are looked up first; see documents.acceptInvitation): undefined when it names none.
     */
    async acceptInvitation(tokenHash: string, userId: string): Promise<AcceptedInvitation | undefined> {
      const row = await db.selectFrom("workspace_invitations").select("workspace_id").where("token_hash", "=", tokenHash).executeTakeFirst();
      if (!row) return undefined;
      const workspaceId = row.workspace_id;
      for (let attempt = 1; ; attempt++) {
        try {
          const { state } = await store.execute(workspaceId, { type: "accept-invitation", tokenHash, userId, now: new Date().toISOString() }, userId, {
            apply: (e, seq, previousSeq) => apply(workspaceId, e, seq, previousSeq),
          });
          return { workspaceId, role: workspaceRoleOf(state, userId) };
        } catch (err) {
          // Someone else changed the workspace meanwhile: decide again on the new version.
          if (err instanceof AppError && err.code === "CONFLICT" && attempt < 5) continue;
          throw err;
        }
      }
    },

    async changeRole(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const { state } = await run(input, ctx, (i) => ({ type: "change-role", userId: i.userId ?? "", role: parse(WorkspaceRoleBody, i.body, "body").role }));
      return { body: await membersFor(state.workspaceId, requireSessionCaller(ctx).userId) };
    },

    async removeMember(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      await run(input, ctx, (i) => ({ type: "remove-member", userId: i.userId ?? "" }));
      return { status: 204, body: null };
    },
  };
}
