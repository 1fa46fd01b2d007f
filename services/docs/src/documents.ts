import { createHash, randomBytes, randomUUID } from "node:crypto";
import { sql, type Kysely } from "kysely";
import {
  AcceptInvitationBody,
  AccessInput,
  AppError,
  canShare,
  CreateDocBody,
  CreateDocInput,
  DocCommandInput,
  DocGetInput,
  InvitationBody,
  ListDocsQuery,
  MoveDocBody,
  PERSONAL_DOCUMENTS,
  NameVersionBody,
  rpc,
  type NamedVersion,
  RenameDocBody,
  RoleBody,
  ShareBody,
  TransferBody,
  TrashBody,
  normaliseEmail,
  parse,
  type AcceptedInvitation,
  type AccessResult,
  type DocView,
  type MembersView,
  type Page,
  canWithScopes,
  workspaceDocumentRole,
} from "@palimpsest/contracts";
import { callRpcOk, jetstreamOf, requireCaller, requireSessionCaller, type RpcContext, type RpcResult } from "@palimpsest/platform";
import type { NatsConnection } from "@nats-io/transport-node";
import { idempotentId, type DocumentStore } from "./document-store.ts";
import { roleOf, type DocCommand } from "./domain/document.ts";
import { workspaceRoleOrNull } from "./domain/workspace.ts";
import type { AccessCache } from "./access-cache.ts";
import type { ApplyStored } from "./read-your-writes.ts";
import type { DocsDb } from "./schema.ts";
import { findUserByEmail } from "./user-directory.ts";
import { queueInvitationMail, type InvitationSettings } from "./invitation-mail.ts";

interface Cursor {
  u: string;
  id: string;
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString("base64url");
}

function decodeCursor(text: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as Partial<Cursor>;
    if (typeof c.u === "string" && typeof c.id === "string" && !Number.isNaN(Date.parse(c.u))) return { u: c.u, id: c.id };
  } catch {
    // reported below
  }
  throw new AppError("VALIDATION_FAILED", "cursor is invalid");
}

/** Escapes LIKE wildcards so a search for "50%" finds that text. */
function likePattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const sha256Hex = (value: string) => createHash("sha256").update(value).digest("hex");

/** The docs service's commands and queries; each is an RPC handler behind a gateway route. */
export function createDocuments(
  db: Kysely<DocsDb>,
  store: DocumentStore,
  cache: AccessCache,
  apply: ApplyStored,
  nc: NatsConnection,
  invitations: InvitationSettings,
  /** Accepts an invitation to something else (a workspace) that the token names; undefined when it names none. */
  acceptOther: (tokenHash: string, userId: string) => Promise<AcceptedInvitation | undefined> = async () => undefined,
) {
  const js = jetstreamOf(nc);
  async function namedVersions(docId: string): Promise<NamedVersion[]> {
    const rows = await db.selectFrom("named_versions").select(["name", "seq", "named_by", "named_at"]).where("doc_id", "=", docId).orderBy("stream_seq", "desc").execute();
    return rows.map((r) => ({ name: r.name, seq: r.seq, namedBy: r.named_by, namedAt: r.named_at.toISOString() }));
  }

  const changedAt = sql<Date>`greatest(d.updated_at, coalesce(le.last_edit_at, d.updated_at))`;

  function docQuery(userId: string) {
    return db
      .selectFrom("documents as d")
      // A share of their own or their workspace's role, the stronger (the view weighs them).
      .innerJoin("document_access as m", (j) => j.onRef("m.doc_id", "=", "d.id").on("m.user_id", "=", userId))
      .leftJoin("document_last_edit as le", "le.doc_id", "d.id")
      // A deleted workspace's documents (in the trash when it was deleted) are their owners' again.
      .leftJoin("workspaces as w", "w.id", "d.workspace_id")
      .select(["d.id", "d.title", "d.kind", "d.owner_id", "d.created_at", "d.trashed_at", "d.version", "m.role", "w.id as workspace_id", changedAt.as("changed_at")]);
  }

  type Row = Awaited<ReturnType<ReturnType<typeof docQuery>["executeTakeFirstOrThrow"]>>;
  const toView = (r: Row): DocView => ({
    id: r.id,
    title: r.title,
    kind: r.kind,
    role: r.role,
    ownerId: r.owner_id,
    createdAt: r.created_at.toISOString(),
    updatedAt: new Date(r.changed_at).toISOString(),
    trashed: r.trashed_at !== null,
    version: r.version,
    workspaceId: r.workspace_id,
  });

  async function view(docId: string, userId: string, opts: { allowTrashed?: boolean } = {}): Promise<DocView> {
    let q = docQuery(userId).where("d.id", "=", docId);
    if (!opts.allowTrashed) q = q.where("d.trashed_at", "is", null);
    const row = await q.executeTakeFirst();
    // A stranger learns nothing, not even that the document exists.
    if (!row) throw new AppError("NOT_FOUND", "document not found");
    return toView(row);
  }

  async function run(input: unknown, ctx: RpcContext, toCommand: (i: DocCommandInput) => DocCommand | Promise<DocCommand>) {
    const caller = requireCaller(ctx);
    const i = parse(DocCommandInput, input, "request");
    const command = await toCommand(i);
    return store.execute(i.id, command, caller.userId, {
      ...(i.idempotencyKey ? { idempotencyKey: i.idempotencyKey } : {}),
      scopes: caller.token?.scopes,
      ...(i.expectedVersion !== undefined ? { expectedVersion: i.expectedVersion } : {}),
      apply: (event, seq, previousSeq) => apply(i.id, event, seq, previousSeq),
    });
  }

  const findUser = (email: string, requestId: string) => findUserByEmail(db, nc, email, requestId);

  /** `viewer`: who asks; the workspace's roster is for those in it. */
  async function members(docId: string, opts: { withInvitations: boolean; formerMembers: ReadonlySet<string>; viewer: string }): Promise<MembersView> {
    const workspace = await workspaceAccess(docId, opts.viewer);
    const rows = await db
      .selectFrom("document_members as m")
      .leftJoin("doc_users as u", "u.id", "m.user_id")
      .select(["m.user_id", "m.role", "u.email", "u.name"])
      .where("m.doc_id", "=", docId)
      .orderBy("m.added_at")
      .orderBy("m.user_id")
      .execute();
    // Who was invited, and as what, is for those who may invite: a viewer learns nothing of it.
    const invitations = opts.withInvitations
      ? await db.selectFrom("document_invitations").select(["email", "role", "expires_at"]).where("doc_id", "=", docId).orderBy("invited_at").orderBy("email").execute()
      : [];
    const former = opts.formerMembers.size === 0 ? [] : await db.selectFrom("doc_users").select(["id", "name"]).where("id", "in", [...opts.formerMembers]).orderBy("id").execute();
    return {
      members: rows.map((r) => ({ userId: r.user_id, role: r.role, email: r.email ?? "", name: r.name ?? "" })),
      formerMembers: former.map((u) => ({ userId: u.id, name: u.name })),
      invitations: invitations.map((i) => ({ email: i.email, role: i.role, ...(i.expires_at ? { expiresAt: i.expires_at.toISOString() } : {}) })),
      workspace,
    };
  }

  /**
   * Who reaches the document through its workspace, and as what (guests reach nothing that way),
   * for someone in the workspace; to anyone else (a guest's share of one document) it says nothing.
   */
  async function workspaceAccess(docId: string, viewer: string): Promise<MembersView["workspace"]> {
    const ws = await db
      .selectFrom("documents as d")
      .innerJoin("workspaces as w", "w.id", "d.workspace_id")
      .select(["w.id", "w.name"])
      .where("d.id", "=", docId)
      .executeTakeFirst();
    if (!ws) return null;
    const rows = await db
      .selectFrom("workspace_members as m")
      .leftJoin("doc_users as u", "u.id", "m.user_id")
      .select(["m.user_id", "m.role", "u.email", "u.name"])
      .where("m.workspace_id", "=", ws.id)
      .orderBy("m.added_at")
      .orderBy("m.user_id")
      .execute();
    if (!rows.some((r) => r.user_id === viewer)) return null;
    const members = rows.flatMap((r) => {
      const role = workspaceDocumentRole(r.role);
      return role ? [{ userId: r.user_id, role, workspaceRole: r.role, email: r.email ?? "", name: r.name ?? "" }] : [];
    });
    return { id: ws.id, name: ws.name, members };
  }

  /** The member list as `userId` may see it on `state`. */
  async function membersFor(docId: string, userId: string): Promise<MembersView> {
    const state = await cache.state(docId);
    const role = roleOf(state, userId, { allowTrashed: true });
    return members(docId, { withInvitations: canShare(role), formerMembers: state.formerMembers, viewer: userId });
  }

  async function sendInvitation(docId: string, email: string, role: string, token: string, inviterId: string, mailId: string): Promise<void> {
    const [inviter, doc] = await Promise.all([
      db.selectFrom("doc_users").select("name").where("id", "=", inviterId).executeTakeFirst(),
      db.selectFrom("documents").select("title").where("id", "=", docId).executeTakeFirst(),
    ]);
    await queueInvitationMail(js, invitations, { mailId, email, inviter: inviter?.name ?? "Someone", what: `"${doc?.title ?? "a document"}"`, role, token });
  }

  return {
    async create(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireCaller(ctx);
      const i = parse(CreateDocInput, input, "request");
      const body = parse(CreateDocBody, i.body, "body");
      const title = body.title.trim();
      if (title.length === 0) throw new AppError("VALIDATION_FAILED", "title must not be empty");
      // With an idempotency key a retried create names the same document, and is stored once.
      const docId = i.idempotencyKey ? idempotentId([caller.userId, "create", i.idempotencyKey]) : randomUUID();
      const workspace = body.workspaceId === undefined ? undefined : { id: body.workspaceId, role: workspaceRoleOrNull(await cache.freshWorkspace(body.workspaceId), caller.userId) };
      await store.execute(docId, { type: "create", title, kind: body.kind ?? "text", ...(workspace ? { workspace } : {}) }, caller.userId, {
        ...(i.idempotencyKey ? { idempotencyKey: i.idempotencyKey } : {}),
        scopes: caller.token?.scopes,
        apply: (event, seq, previousSeq) => apply(docId, event, seq, previousSeq),
      }).catch((err: unknown) => {
        if (i.idempotencyKey && err instanceof AppError && err.code === "CONFLICT") return undefined;
        throw err;
      });
      return { status: 201, body: await view(docId, caller.userId) };
    },

    async list(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireCaller(ctx);
      const query = parse(ListDocsQuery, input ?? {}, "query");
      const limit = query.limit ?? 50;
      let q = docQuery(caller.userId).where("d.trashed_at", query.trashed ? "is not" : "is", null);
      if (query.q && query.q.trim()) q = q.where("d.title", "ilike", likePattern(query.q.trim()));
      if (query.workspaceId === PERSONAL_DOCUMENTS) q = q.where("w.id", "is", null);
      else if (query.workspaceId !== undefined) q = q.where("w.id", "=", query.workspaceId);
      if (query.cursor) {
        const c = decodeCursor(query.cursor);
        const at = new Date(c.u);
        q = q.where((eb) => eb.or([eb(changedAt, "<", at), eb.and([eb(changedAt, "=", at), eb("d.id", "<", c.id)])]));
      }
      const rows = await q.orderBy(changedAt, "desc").orderBy("d.id", "desc").limit(limit + 1).execute();
      const items = rows.slice(0, limit).map(toView);
      const last = items[items.length - 1];
      const page: Page<DocView> = { items, nextCursor: rows.length > limit && last ? encodeCursor({ u: last.updatedAt, id: last.id }) : null };
      return { body: page };
    },

    async get(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireCaller(ctx);
      const { id } = parse(DocGetInput, input, "params");
      return { body: await view(id, caller.userId) };
    },

    async rename(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const { state } = await run(input, ctx, (i) => {
        const title = parse(RenameDocBody, i.body, "body").title.trim();
        if (!title) throw new AppError("VALIDATION_FAILED", "title must not be empty");
        return { type: "rename", title };
      });
      return { body: await view(state.docId, requireCaller(ctx).userId) };
    },

    /** Into a workspace the caller may add documents to, or out of one to the owner's own documents. */
    async move(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireCaller(ctx);
      const { state } = await run(input, ctx, async (i) => {
        const { workspaceId } = parse(MoveDocBody, i.body, "body");
        const from = (await cache.state(i.id)).workspaceId;
        const roleIn = async (id: string) => workspaceRoleOrNull(await cache.freshWorkspace(id), caller.userId);
        return {
          type: "move",
          to: workspaceId === null ? null : { id: workspaceId, role: await roleIn(workspaceId) },
          fromRole: from === null ? null : await roleIn(from),
        };
      });
      // Moved out of the workspace that gave the caller access: done, and no longer theirs to see.
      return view(state.docId, caller.userId).then(
        (doc) => ({ body: doc }),
        (err: unknown) => {
          if (err instanceof AppError && err.code === "NOT_FOUND") return { status: 204, body: null };
          throw err;
        },
      );
    },

    async trash(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      await run(input, ctx, (i) => (parse(TrashBody, i.body ?? {}, "query").purge ? { type: "purge" } : { type: "trash" }));
      return { status: 204, body: null };
    },

    async untrash(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const { state } = await run(input, ctx, () => ({ type: "untrash" }));
      return { body: await view(state.docId, requireCaller(ctx).userId) };
    },

    async members(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireCaller(ctx);
      const { id } = parse(DocGetInput, input, "params");
      const state = await cache.state(id);
      const role = roleOf(state, caller.userId);
      // Pending invitations name people by email: for those who may share, and not through a script's token.
      return { body: await members(id, { withInvitations: canWithScopes(role, "share", caller.token?.scopes), formerMembers: state.formerMembers, viewer: caller.userId }) };
    },

    async share(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireCaller(ctx);
      // Only the link's holder can accept: the token goes out by email, only its hash is stored.
      const token = randomBytes(32).toString("base64url");
      let invitedEmail: string | undefined;
      const { state, events } = await run(input, ctx, async (i) => {
        const body = parse(ShareBody, i.body, "body");
        const email = normaliseEmail(body.email);
        if (!EMAIL.test(email)) throw new AppError("VALIDATION_FAILED", "enter a valid email address");
        const user = await findUser(email, ctx.requestId);
        if (user) return { type: "share-with-user", userId: user.id, role: body.role, invitedEmail: email };
        invitedEmail = email;
        return { type: "invite", email, role: body.role, tokenHash: sha256Hex(token), expiresAt: new Date(Date.now() + invitations.ttlMs).toISOString() };
      });
      const invited = events.find((e) => e.event.type === "doc.invited.v2");
      if (invited && invitedEmail) {
        // The mail's id is the event's: a retried queuing after a lost reply is stored once.
        await sendInvitation(state.docId, invitedEmail, state.invitations.get(invitedEmail)?.role ?? "viewer", token, caller.userId, invited.event.id);
      }
      return { status: 201, body: await members(state.docId, { withInvitations: true, formerMembers: state.formerMembers, viewer: caller.userId }) };
    },

    /** Accepts an emailed invitation: the signed-in caller becomes a member with the invited role. */
    async acceptInvitation(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireSessionCaller(ctx);
      const { token } = parse(AcceptInvitationBody, input, "body");
      const tokenHash = sha256Hex(token);
      const row = await db.selectFrom("document_invitations").select("doc_id").where("token_hash", "=", tokenHash).executeTakeFirst();
      const other = row ? undefined : await acceptOther(tokenHash, caller.userId);
      if (other) return { body: other };
      if (!row) throw new AppError("NOT_FOUND", "this invitation link is no longer valid: it was used, cancelled or replaced by a newer one");
      const docId = row.doc_id;
      for (let attempt = 1; ; attempt++) {
        try {
          await store.execute(docId, { type: "accept-invitation", tokenHash, userId: caller.userId, now: new Date().toISOString() }, caller.userId, {
            apply: (e, seq, previousSeq) => apply(docId, e, seq, previousSeq),
          });
          break;
        } catch (err) {
          // Someone else changed the document meanwhile: decide again on the new version.
          if (err instanceof AppError && err.code === "CONFLICT" && attempt < 5) continue;
          throw err;
        }
      }
      const doc = await view(docId, caller.userId);
      const result: AcceptedInvitation = { docId, kind: doc.kind, role: doc.role };
      return { body: result };
    },

    async changeRole(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const { state } = await run(input, ctx, (i) => ({ type: "change-role", userId: i.userId ?? "", role: parse(RoleBody, i.body, "body").role }));
      return { body: await membersFor(state.docId, requireCaller(ctx).userId) };
    },

    async removeMember(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      await run(input, ctx, (i) => ({ type: "remove-member", userId: i.userId ?? "" }));
      return { status: 204, body: null };
    },

    async cancelInvitation(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      await run(input, ctx, (i) => ({ type: "cancel-invitation", email: normaliseEmail(parse(InvitationBody, i.body, "body").email) }));
      return { status: 204, body: null };
    },

    async leave(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      await run(input, ctx, () => ({ type: "leave" }));
      return { status: 204, body: null };
    },

    async transfer(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const { state } = await run(input, ctx, (i) => ({ type: "transfer-ownership", toUserId: parse(TransferBody, i.body, "body").userId }));
      return { body: await membersFor(state.docId, requireCaller(ctx).userId) };
    },

    /** Names a version (the current one when no seq is given) so people can find it again. */
    async nameVersion(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const { state } = await run(input, ctx, async (i) => {
        const body = parse(NameVersionBody, i.body, "body");
        const name = body.name.trim();
        if (!name) throw new AppError("VALIDATION_FAILED", "name must not be empty");
        const head = await callRpcOk<{ seq: number }>(nc, rpc.history.head, { requestId: ctx.requestId, input: { docId: i.id } });
        const seq = body.seq ?? head.seq;
        if (seq > head.seq) throw new AppError("VALIDATION_FAILED", `version ${seq} does not exist yet (newest is ${head.seq})`);
        return { type: "name-version", name, seq };
      });
      return { status: 201, body: { items: await namedVersions(state.docId) } };
    },

    async versions(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireCaller(ctx);
      const { id } = parse(DocGetInput, input, "params");
      // Named versions are places in the history: for those who may read it.
      if (!canWithScopes(roleOf(await cache.state(id), caller.userId), "history", caller.token?.scopes)) throw new AppError("FORBIDDEN", "only owners, editors and auditors can read the document's history");
      return { body: { items: await namedVersions(id) } };
    },

    async access(input: unknown): Promise<RpcResult> {
      const { docId, userId, fresh } = parse(AccessInput, input, "access query");
      const { role, state } = fresh ? await cache.freshRoleOf(docId, userId) : await cache.roleOf(docId, userId);
      const result: AccessResult = { role, kind: state.exists ? state.kind : null };
      return { body: result };
    },
  };
}
