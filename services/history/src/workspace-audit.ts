import type { NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager, type JetStreamClient, type JetStreamManager, type JsMsg } from "@nats-io/jetstream";
import {
  AppError,
  GENESIS_HASH,
  Streams,
  WORKSPACE_AUDIT_CHAIN_DESCRIPTION,
  WORKSPACE_AUDIT_FORMAT,
  WORKSPACE_AUDIT_VERSION,
  WorkspaceAuditPageInput,
  eventChainHash,
  parse,
  redactSecrets,
  rpc,
  signWorkspaceCheckpoint,
  subjects,
  workspaceChainId,
  workspaceMembersHash,
  type AuditErrorLine,
  type AuditPage,
  type WorkspaceAuditChain,
  type WorkspaceAuditEndLine,
  type WorkspaceAuditEventLine,
  type WorkspaceAuditHeader,
  type WorkspaceAuditMember,
  type WorkspaceMembersView,
  type WorkspaceView,
} from "@palimpsest/contracts";
import { callRpcOk, requireCaller, type RpcContext, type RpcResult } from "@palimpsest/platform";
import type { ChainState } from "./audit-cursor.ts";
import { readSubject } from "./audit-merge.ts";
import { replyBytes } from "./audit-reply-size.ts";
import type { AuditSigningKeys } from "./audit-keys.ts";
import type { ExportSlots } from "./export-slots.ts";

/**
 * `rpc.history.workspace-audit`: a workspace's audit trail (format in contracts/src/audit.ts,
 * WORKSPACE_AUDIT_FORMAT), one page per call, for its owners, admins and auditors.
 *
 * The workspace's events come from its subject in DOCS; its members' account, session and
 * API-token events from the AUTH stream, read once in stream order (`auth.evt.>`: sessions and
 * tokens are keyed by their own ids, so there is no narrower subject to read) and kept when they
 * name a member, or (a session's later events) when the session's first event does. Every event is
 * redacted (`redactSecrets`) before it is hashed and sent. Each page asks the docs service again
 * for the caller's role and the members, so access lost mid-export ends it, and members changed
 * meanwhile end it too (the trail would no longer be of the members its header names).
 *
 * The export covers what was stored when it began: the workspace subject's and the AUTH stream's
 * last messages then. When both chains are done it signs one checkpoint of both heads and the
 * members (audit-checkpoint.ts), then ends.
 */

interface WsCursor {
  v: 1;
  workspaceId: string;
  membersHash: string;
  /** The last message on `docs.ws.<id>` and in AUTH when the export began. */
  workspaceBound: number;
  authBound: number;
  workspace: ChainState;
  account: ChainState;
}

const EXPORT_ROLES = ["owner", "admin", "auditor"];

const encode = (c: WsCursor): string => Buffer.from(JSON.stringify(c)).toString("base64url");
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isChain = (v: unknown): v is ChainState => {
  const c = v as Partial<ChainState> | null;
  return typeof c === "object" && c !== null && isCount(c.next) && isCount(c.seq) && typeof c.hash === "string" && /^[0-9a-f]{64}$/.test(c.hash);
};
function decode(text: string, workspaceId: string): WsCursor {
  let c: Partial<WsCursor> | null = null;
  try {
    c = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as Partial<WsCursor> | null;
  } catch {
    // reported below
  }
  if (typeof c !== "object" || c === null || c.v !== 1 || typeof c.membersHash !== "string" || !isCount(c.workspaceBound) || !isCount(c.authBound) || !isChain(c.workspace) || !isChain(c.account)) {
    throw new AppError("VALIDATION_FAILED", "cursor is not valid");
  }
  if (c.workspaceId !== workspaceId) throw new AppError("VALIDATION_FAILED", "cursor belongs to another workspace");
  return c as WsCursor;
}

class TrailError extends Error {
  constructor(readonly line: AuditErrorLine) {
    super(line.message);
  }
}

/** The read stopped short of the bound (the stream stalled or lost messages): nothing is signed over a chain read in part. */
const incomplete = (stream: string, next: number, bound: number) =>
  new TrailError({ type: "error", code: "STREAM_READ_INCOMPLETE", streamSeq: next, message: `the ${stream} stream could not be read from seq ${next} through ${bound}; export again` });

function storedEvent(m: { json<T>(): T }): Record<string, unknown> | undefined {
  try {
    const e = m.json<unknown>();
    return e !== null && typeof e === "object" && !Array.isArray(e) ? (e as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export interface WorkspaceAuditOptions {
  keys: AuditSigningKeys;
  slots?: ExportSlots;
  pageBytes?: number;
  pageMillis?: number;
}

export function createWorkspaceAudit(nc: NatsConnection, js: JetStreamClient, opts: WorkspaceAuditOptions) {
  const onBehalf = (ctx: RpcContext, input: unknown) => ({ requestId: ctx.requestId, ...(ctx.token ? { token: ctx.token } : {}), input });
  let jsmP: Promise<JetStreamManager> | undefined;
  const manager = () => (jsmP ??= jetstreamManager(nc));
  const pageMillis = opts.pageMillis ?? 1_500;
  const defaultPageBytes = () => opts.pageBytes ?? Math.min(4 * 1024 * 1024, Math.floor((nc.info?.max_payload ?? 1024 * 1024) / 2));

  /** The caller's right to the trail (docs answers NOT_FOUND to non-members), and the members now, sorted by id. */
  async function access(ctx: RpcContext, workspaceId: string): Promise<WorkspaceAuditMember[]> {
    const workspace = await callRpcOk<WorkspaceView>(nc, rpc.docs.workspace, onBehalf(ctx, { id: workspaceId }));
    if (!EXPORT_ROLES.includes(workspace.role)) throw new AppError("FORBIDDEN", "only the workspace's owners, admins and auditors export its audit trail");
    const members = await callRpcOk<WorkspaceMembersView>(nc, rpc.docs.workspaceMembers, onBehalf(ctx, { id: workspaceId }));
    return members.items.map((m) => ({ userId: m.userId, name: m.name, email: m.email, role: m.role })).sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
  }

  async function begin(workspaceId: string, members: WorkspaceAuditMember[]): Promise<{ cursor: WsCursor; header: WorkspaceAuditHeader }> {
    const jsm = await manager();
    // The AUTH bound first: an event stored after it is left out, never half-read.
    const [authInfo, last] = await Promise.all([jsm.streams.info(Streams.auth), jsm.streams.getMessage(Streams.docs, { last_by_subj: subjects.workspaceEvents(workspaceId) })]);
    const userIds = members.map((m) => m.userId);
    const cursor: WsCursor = {
      v: 1,
      workspaceId,
      membersHash: workspaceMembersHash(userIds),
      workspaceBound: last?.seq ?? 0,
      authBound: authInfo.state.last_seq,
      workspace: { next: 1, seq: 0, hash: GENESIS_HASH },
      account: { next: authInfo.state.first_seq > 0 ? authInfo.state.first_seq : 1, seq: 0, hash: GENESIS_HASH },
    };
    const header: WorkspaceAuditHeader = {
      type: "header",
      format: WORKSPACE_AUDIT_FORMAT,
      version: WORKSPACE_AUDIT_VERSION,
      workspaceId,
      exportedAt: new Date().toISOString(),
      chains: WORKSPACE_AUDIT_CHAIN_DESCRIPTION,
      members,
      sources: {
        workspace: { stream: Streams.docs, subject: subjects.workspaceEvents(workspaceId) },
        accounts: { stream: Streams.auth, subject: subjects.allAuthEvents(), userIds },
      },
    };
    return { cursor, header };
  }

  /** Who a session belongs to: the `userId` of its first event (`session.started.v1`), read once per page. */
  function sessionOwners() {
    const owners = new Map<string, Promise<string | undefined>>();
    return (subject: string): Promise<string | undefined> => {
      let p = owners.get(subject);
      if (!p) {
        p = manager()
          .then((jsm) => jsm.direct.getMessage(Streams.auth, { next_by_subj: subject, seq: 1 }))
          .then((m) => {
            const data = m ? (storedEvent(m)?.["data"] as Record<string, unknown> | undefined) : undefined;
            return typeof data?.["userId"] === "string" ? data["userId"] : undefined;
          });
        owners.set(subject, p);
      }
      return p;
    };
  }

  function chainLine(chain: WorkspaceAuditChain, workspaceId: string, state: ChainState, m: JsMsg, stored: Record<string, unknown>): WorkspaceAuditEventLine {
    const seq = state.seq + 1;
    const event = redactSecrets(stored) as Record<string, unknown>;
    const hash = eventChainHash(state.hash, { docId: workspaceChainId(chain, workspaceId), seq, event });
    return { type: "event", chain, seq, streamSeq: m.seq, event, prevHash: state.hash, hash };
  }

  async function page(input: unknown, ctx: RpcContext): Promise<RpcResult> {
    const caller = requireCaller(ctx);
    if (caller.token) throw new AppError("API_TOKEN_NOT_ALLOWED", "a workspace's audit trail is exported only when signed in, not with an API token");
    const q = parse(WorkspaceAuditPageInput, input, "query");
    const members = await access(ctx, q.id);
    const release = opts.slots?.acquire(caller.userId);
    try {
      return await buildPage(q, members, ctx);
    } finally {
      release?.();
    }
  }

  async function buildPage(q: WorkspaceAuditPageInput, members: WorkspaceAuditMember[], ctx: RpcContext): Promise<RpcResult> {
    const workspaceId = q.id;
    const budget = q.pageBytes ?? defaultPageBytes();
    const started = performance.now();
    const out: string[] = [];
    let used = 0;
    let c: WsCursor;
    if (q.cursor) {
      c = decode(q.cursor, workspaceId);
      if (c.membersHash !== workspaceMembersHash(members.map((m) => m.userId))) {
        throw new AppError("CONFLICT", "the workspace's members changed during the export; export it again");
      }
    } else {
      const first = await begin(workspaceId, members);
      c = first.cursor;
      const header = `${JSON.stringify(first.header)}\n`;
      out.push(header);
      used += replyBytes(header);
    }
    const memberIds = new Set(members.map((m) => m.userId));
    const ownerOf = sessionOwners();
    /** Adds a line if it fits; false when the page is full (the line is left for the next page). */
    const push = (line: string): boolean => {
      const text = `${line}\n`;
      const cost = replyBytes(text);
      if (out.length > 0 && cost > budget - used) return false;
      out.push(text);
      used += cost;
      return true;
    };
    const timeUp = () => out.length > 0 && performance.now() - started > pageMillis;

    try {
      // The workspace's own events.
      if (c.workspace.next <= c.workspaceBound) {
        for await (const m of readSubject(js, Streams.docs, subjects.workspaceEvents(workspaceId), c.workspace.next, c.workspaceBound, 200)) {
          if (timeUp()) return pageOf(out, c);
          const stored = storedEvent(m);
          if (!stored) throw new TrailError({ type: "error", code: "MALFORMED_EVENT", seq: c.workspace.seq + 1, streamSeq: m.seq, message: `the stored event at DOCS stream seq ${m.seq} is not a JSON object` });
          const line = chainLine("workspace", workspaceId, c.workspace, m, stored);
          if (!push(JSON.stringify(line))) return pageOf(out, c);
          c = { ...c, workspace: { next: m.seq + 1, seq: line.seq, hash: line.hash } };
        }
        if (c.workspace.next <= c.workspaceBound) throw incomplete(Streams.docs, c.workspace.next, c.workspaceBound);
      }
      // The members' account, session and API-token events.
      if (c.account.next <= c.authBound) {
        for await (const m of readSubject(js, Streams.auth, subjects.allAuthEvents(), c.account.next, c.authBound, 500)) {
          if (timeUp()) return pageOf(out, c);
          const stored = storedEvent(m);
          const data = stored?.["data"] as Record<string, unknown> | undefined;
          let owner = typeof data?.["userId"] === "string" ? data["userId"] : undefined;
          if (stored && owner === undefined && m.subject.startsWith("auth.evt.session.")) owner = await ownerOf(m.subject);
          if (stored && owner !== undefined && memberIds.has(owner)) {
            const line = chainLine("account", workspaceId, c.account, m, stored);
            if (!push(JSON.stringify(line))) return pageOf(out, c);
            c = { ...c, account: { next: m.seq + 1, seq: line.seq, hash: line.hash } };
          } else {
            c = { ...c, account: { ...c.account, next: m.seq + 1 } };
          }
        }
        if (c.account.next <= c.authBound) throw incomplete(Streams.auth, c.account.next, c.authBound);
      }
      // Both chains done: the signed checkpoint of both heads, and the end.
      const checkpoint = await opts.keys.signNow((at, kid, key) =>
        signWorkspaceCheckpoint(
          { workspaceId, workspaceEvents: c.workspace.seq, workspaceHead: c.workspace.hash, accountEvents: c.account.seq, accountHead: c.account.hash, membersHash: c.membersHash, at, kid },
          key,
        ),
      );
      const end: WorkspaceAuditEndLine = { type: "end", workspaceEvents: c.workspace.seq, workspaceHead: c.workspace.hash, accountEvents: c.account.seq, accountHead: c.account.hash };
      const tail = `${JSON.stringify(checkpoint)}\n${JSON.stringify(end)}`;
      if (!push(tail)) return pageOf(out, c);
      return pageOf(out, null);
    } catch (err) {
      if (!(err instanceof TrailError)) throw err;
      ctx.log.warn({ workspaceId, error: err.line }, "workspace audit export stopped");
      out.push(`${JSON.stringify(err.line)}\n`);
      return pageOf(out, null);
    }
  }

  function pageOf(out: string[], c: WsCursor | null): RpcResult {
    const body: AuditPage = { chunk: out.join(""), nextCursor: c ? encode(c) : null };
    return { body };
  }

  return { page };
}
