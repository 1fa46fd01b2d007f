import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createHash } from "node:crypto";
import { execFile } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeliverPolicy, jetstream } from "@nats-io/jetstream";
import {
  GENESIS_HASH,
  SECRET_FIELD,
  Streams,
  WORKSPACE_AUDIT_FORMAT,
  eventChainHash,
  subjects,
  workspaceChainId,
  rpc,
  type AuditKeySet,
  type AuditPage,
  type AuthResult,
  type CreatedApiToken,
  type ErrorBody,
  type WorkspaceAuditCheckpointLine,
  type WorkspaceAuditEndLine,
  type WorkspaceAuditEventLine,
  type WorkspaceAuditHeader,
  type WorkspaceView,
} from "@palimpsest/contracts";
import { repoRoot, type TestApi } from "@palimpsest/devkit";
import { callRpcRaw } from "@palimpsest/platform";
import { useSystem } from "./system.ts";

/**
 * A workspace's audit trail against the real system: its owners and auditors download its events
 * and its members' account, session and API-token events, hash-chained and signed; it verifies
 * offline with the published keys, holds no secret, and a rewritten, re-chained copy fails.
 */
const ctx = useSystem("workspace-audit");
const PASSWORD = "correct horse battery staple";
const NEW_PASSWORD = "a brand new passphrase for the audit";
let dir: string;

type Line = WorkspaceAuditHeader | WorkspaceAuditEventLine | WorkspaceAuditCheckpointLine | WorkspaceAuditEndLine | { type: "error" };

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "palimpsest-workspace-audit-"));
});
afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", "scripts/audit.ts", ...args], { cwd: repoRoot }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

let fileNo = 0;
function write(content: string): string {
  const file = path.join(dir, `file-${++fileNo}`);
  fs.writeFileSync(file, content);
  return file;
}
const writeLines = (lines: readonly unknown[]) => write(lines.map((l) => `${JSON.stringify(l)}\n`).join(""));

async function download(token: string, workspaceId: string): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(`${ctx.system.gatewayUrl()}/api/workspaces/${workspaceId}/audit`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, type: res.headers.get("content-type"), text: await res.text() };
}
const linesOf = (text: string): Line[] =>
  text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Line);

async function auditKeys(): Promise<AuditKeySet> {
  const res = await fetch(`${ctx.system.gatewayUrl()}/.well-known/audit-keys.json`);
  expect(res.status).toBe(200);
  return (await res.json()) as AuditKeySet;
}

const sessionOf = (accessToken: string): string => (JSON.parse(Buffer.from(accessToken.split(".")[1] ?? "", "base64url").toString("utf8")) as { sid: string }).sid;

/** Every secret field's value in the stored AUTH events on these subjects, as stored. */
async function storedSecrets(subjectList: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const subject of subjectList) {
    const consumer = await jetstream(ctx.nc).consumers.get(Streams.auth, { filter_subjects: subject, deliver_policy: DeliverPolicy.All });
    const batch = await consumer.fetch({ max_messages: 100, expires: 2_000 });
    for await (const m of batch) {
      const data = m.json<{ data: Record<string, unknown> }>().data;
      for (const [k, v] of Object.entries(data)) if (SECRET_FIELD.test(k) && typeof v === "string") out.push(v);
      if (m.info.pending === 0) break;
    }
  }
  return out;
}

/** What whoever holds the file can do: change every event and recompute every hash and the end line. */
function rewriteAndRechain(lines: Line[], workspaceId: string): Line[] {
  const prev = { workspace: GENESIS_HASH, account: GENESIS_HASH };
  return lines.map((l) => {
    if (l.type === "event") {
      const event = { ...l.event, at: "2000-01-01T00:00:00.000Z" };
      const hash = eventChainHash(prev[l.chain], { docId: workspaceChainId(l.chain, workspaceId), seq: l.seq, event });
      const out: WorkspaceAuditEventLine = { ...l, event, prevHash: prev[l.chain], hash };
      prev[l.chain] = hash;
      return out;
    }
    if (l.type === "end") return { ...l, workspaceHead: prev.workspace, accountHead: prev.account };
    return l;
  });
}

describe("a workspace's audit trail", () => {
  const users = {} as Record<"owner" | "member" | "auditor" | "stranger", { api: TestApi; auth: AuthResult }>;
  let workspace: WorkspaceView;
  let memberSessions: string[];
  let memberToken: CreatedApiToken;
  let secrets: string[];

  beforeAll(async () => {
    for (const who of ["owner", "member", "auditor", "stranger"] as const) users[who] = await ctx.anon.newUser(`wa-${who}`);
    const made = await users.owner.api.post<WorkspaceView>("/api/workspaces", { name: "Audited" });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    workspace = made.body;
    expect((await users.owner.api.post(`/api/workspaces/${workspace.id}/members`, { email: users.member.auth.user.email, role: "guest" })).status).toBe(201);
    expect((await users.owner.api.post(`/api/workspaces/${workspace.id}/members`, { email: users.auditor.auth.user.email, role: "auditor" })).status).toBe(201);
    const changed = await users.owner.api.call("PATCH", `/api/workspaces/${workspace.id}/members/${users.member.auth.user.id}`, { role: "member" });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);

    // The member signs in again, refreshes that session, makes an API token, and changes their password.
    const login = await ctx.anon.post<AuthResult>("/api/auth/login", { email: users.member.auth.user.email, password: PASSWORD });
    expect(login.status).toBe(200);
    const refreshed = await ctx.anon.post<AuthResult>("/api/auth/refresh", { refreshToken: login.body.refreshToken });
    expect(refreshed.status).toBe(200);
    const token = await users.member.api.post<CreatedApiToken>("/api/auth/tokens", { name: "member bot", scopes: ["read"] });
    expect(token.status).toBe(201);
    memberToken = token.body;
    expect((await users.member.api.post("/api/auth/password", { currentPassword: PASSWORD, newPassword: NEW_PASSWORD })).status).toBe(204);
    // The stranger signs in too: none of that may show.
    expect((await ctx.anon.post("/api/auth/login", { email: users.stranger.auth.user.email, password: PASSWORD })).status).toBe(200);

    memberSessions = [sessionOf(users.member.auth.accessToken), sessionOf(login.body.accessToken)];
    const memberId = users.member.auth.user.id;
    secrets = [
      ...(await storedSecrets([
        subjects.user(memberId),
        subjects.userByEmail(createHash("sha256").update(users.member.auth.user.email).digest("hex")),
        ...memberSessions.map((s) => subjects.session(s)),
        subjects.apiToken(memberToken.id),
      ])),
      login.body.refreshToken,
      refreshed.body.refreshToken,
      memberToken.token,
    ];
    // The password hash, the refresh tokens' hashes (started, refreshed) and the API token's.
    expect(secrets.length).toBeGreaterThanOrEqual(8);
  });

  it("its owner and its auditor download it; it verifies with the published keys, and holds the workspace's events and the members' account events, no secret", async () => {
    const keys = write(JSON.stringify(await auditKeys()));
    for (const who of ["owner", "auditor"] as const) {
      const res = await download(users[who].auth.accessToken, workspace.id);
      expect(res.status, res.text).toBe(200);
      expect(res.type).toMatch(/^application\/x-ndjson/);
      const lines = linesOf(res.text);
      const header = lines[0] as WorkspaceAuditHeader;
      expect(header).toMatchObject({ type: "header", format: WORKSPACE_AUDIT_FORMAT, version: 1, workspaceId: workspace.id, exportedAt: expect.any(String) });
      expect(header.sources.workspace).toEqual({ stream: "DOCS", subject: subjects.workspaceEvents(workspace.id) });
      expect(header.members.map((m) => m.userId).sort()).toEqual([users.owner, users.member, users.auditor].map((u) => u.auth.user.id).sort());

      const events = lines.filter((l): l is WorkspaceAuditEventLine => l.type === "event");
      const ws = events.filter((e) => e.chain === "workspace").map((e) => e.event["type"]);
      // Its maker joins as its first owner; then the member (a guest), the auditor, and the member's new role.
      expect(ws).toEqual(["workspace.created.v1", "workspace.member-added.v1", "workspace.member-added.v1", "workspace.member-added.v1", "workspace.role-changed.v1"]);
      const accounts = events.filter((e) => e.chain === "account");
      const memberTypes = accounts
        .filter((e) => {
          const data = e.event["data"] as { userId?: string; sessionId?: string };
          return data.userId === users.member.auth.user.id || (data.sessionId !== undefined && memberSessions.includes(data.sessionId));
        })
        .map((e) => e.event["type"]);
      for (const t of ["user.registered.v1", "session.started.v1", "session.refreshed.v1", "api-token.created.v1", "user.password-changed.v1", "session.revoked.v2"]) expect(memberTypes, t).toContain(t);
      expect(memberTypes.filter((t) => t === "session.started.v1")).toHaveLength(2);
      // Nobody else's.
      const strangerSession = accounts.filter((e) => (e.event["data"] as { userId?: string }).userId === users.stranger.auth.user.id);
      expect(strangerSession).toEqual([]);
      // No secret: not the stored hashes, not the tokens themselves; each secret field holds the SHA-256 of the stored value.
      for (const s of secrets) expect(res.text.includes(s), `a secret appears: ${s.slice(0, 12)}...`).toBe(false);
      const changedPassword = accounts.find((e) => e.event["type"] === "user.password-changed.v1" && (e.event["data"] as { userId: string }).userId === users.member.auth.user.id);
      expect((changedPassword?.event["data"] as { passwordHash: string }).passwordHash).toMatch(/^redacted:sha256:[0-9a-f]{64}$/);
      const redacted = new Set(secrets.map((s) => `redacted:sha256:${createHash("sha256").update(s).digest("hex")}`));
      expect(redacted.has((changedPassword?.event["data"] as { passwordHash: string }).passwordHash)).toBe(true);

      const cps = lines.filter((l): l is WorkspaceAuditCheckpointLine => l.type === "checkpoint");
      expect(cps).toHaveLength(1);
      const end = lines.at(-1) as WorkspaceAuditEndLine;
      expect(end).toMatchObject({ type: "end", workspaceEvents: 5, accountEvents: accounts.length });
      expect(cps[0]).toMatchObject({ workspaceId: workspace.id, workspaceEvents: 5, workspaceHead: end.workspaceHead, accountHead: end.accountHead });

      const trail = write(res.text);
      const verified = await run(["verify", trail, "--keys", keys]);
      expect(verified.stdout).toContain(`OK: workspace ${workspace.id}: 5 workspace events and ${accounts.length} account events of its 3 members verified`);
      expect(verified.stdout).toContain("signed checkpoint(s) verified with the given keys");
      expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    }
  });

  it("a copy whose events were all rewritten and re-chained fails against the signed checkpoint", async () => {
    const res = await download(users.owner.auth.accessToken, workspace.id);
    expect(res.status).toBe(200);
    const lines = linesOf(res.text);
    const keys = write(JSON.stringify(await auditKeys()));
    const rewritten = rewriteAndRechain(lines, workspace.id);

    const kept = await run(["verify", writeLines(rewritten), "--keys", keys]);
    expect(kept.code).toBe(1);
    expect(kept.stdout).toMatch(/checkpoint-mismatch: the signed checkpoint says the workspace chain's head after seq 5 was/);

    // Without the checkpoint the chains alone hold, but with the keys nothing vouches for them.
    const dropped = writeLines(rewritten.filter((l) => l.type !== "checkpoint"));
    const chainOnly = await run(["verify", dropped]);
    expect(chainOnly.code).toBe(0);
    const withKeys = await run(["verify", dropped, "--keys", keys]);
    expect(withKeys.code).toBe(1);
    expect(withKeys.stdout).toContain("unsigned-end");

    // The checkpoint's counts and heads changed to the forgery's: the signature fails.
    const end = rewritten.at(-1) as WorkspaceAuditEndLine;
    const reHeaded = rewritten.map((l) => (l.type === "checkpoint" ? { ...l, workspaceHead: end.workspaceHead, accountHead: end.accountHead } : l));
    const forged = await run(["verify", writeLines(reHeaded), "--keys", keys]);
    expect(forged.code).toBe(1);
    expect(forged.stdout).toContain("checkpoint-signature: the workspace checkpoint: the signature does not verify");

    // A secret put back in fails too, whatever the chain says.
    const firstAccount = lines.findIndex((l) => l.type === "event" && l.chain === "account" && l.event["type"] === "user.registered.v1");
    const leaked = rewriteAndRechain(
      lines.map((l, i) => (i === firstAccount && l.type === "event" ? { ...l, event: { ...l.event, data: { ...(l.event["data"] as object), passwordHash: "$argon2id$v=19$leaked" } } } : l)),
      workspace.id,
    );
    const leak = await run(["verify", writeLines(leaked.filter((l) => l.type !== "checkpoint"))]);
    expect(leak.code).toBe(1);
    expect(leak.stdout).toContain("unredacted-secret");
  });

  it("comes in pages of a bounded size that join into the same trail, which verifies", async () => {
    const chunks: string[] = [];
    let cursor: string | undefined;
    do {
      const input = { id: workspace.id, pageBytes: 4096, ...(cursor ? { cursor } : {}) };
      const reply = await callRpcRaw(ctx.nc, rpc.history.workspaceAudit, { requestId: "workspace-audit-pages", token: users.auditor.auth.accessToken, input }, 10_000);
      if (!reply.ok) throw new Error(JSON.stringify(reply.error));
      expect(reply.json.byteLength).toBeLessThan(4096 + 1024);
      const page = JSON.parse(Buffer.from(reply.json).toString("utf8")) as AuditPage;
      chunks.push(page.chunk);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(chunks.length).toBeGreaterThan(2);
    const paged = chunks.join("");
    const whole = (await download(users.auditor.auth.accessToken, workspace.id)).text;
    const eventsOf = (text: string) => linesOf(text).filter((l) => l.type === "event");
    expect(eventsOf(paged)).toEqual(eventsOf(whole));
    const verified = await run(["verify", write(paged), "--keys", write(JSON.stringify(await auditKeys()))]);
    expect(verified.code, verified.stdout).toBe(0);
  });

  it("members and guests below admin get 403, strangers 404, an API token 403 API_TOKEN_NOT_ALLOWED", async () => {
    const member = await download(users.member.auth.accessToken, workspace.id);
    expect(member.status).toBe(403);
    expect((JSON.parse(member.text) as ErrorBody).error.code).toBe("FORBIDDEN");
    const stranger = await download(users.stranger.auth.accessToken, workspace.id);
    expect(stranger.status).toBe(404);
    const bot = await users.owner.api.post<CreatedApiToken>("/api/auth/tokens", { name: "owner bot", scopes: ["read", "comment", "write"] });
    expect(bot.status).toBe(201);
    const byToken = await download(bot.body.token, workspace.id);
    expect(byToken.status).toBe(403);
    expect((JSON.parse(byToken.text) as ErrorBody).error.code).toBe("API_TOKEN_NOT_ALLOWED");
    // The member's own API token, made before: no better.
    expect((await download(memberToken.token, workspace.id)).status).toBe(403);
  });
});
