import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import type { Kysely } from "kysely";
import {
  API_TOKEN_MAX_LIFETIME_MS,
  ApiTokenIdParams,
  AppError,
  CreateApiTokenBody,
  EmptyBody,
  ResolveApiTokenInput,
  formatApiToken,
  isApiTokenScope,
  parse,
  parseApiToken,
  subjects,
  type AnyDomainEvent,
  type ApiTokenScope,
  type ApiTokenView,
  type CreatedApiToken,
  type ResolvedApiToken,
} from "@palimpsest/contracts";
import { newEvent, requireSessionCaller, type RpcContext, type RpcResult } from "@palimpsest/platform";
import type { AuthDb, ApiTokensTable } from "./schema.ts";

/** Use is recorded at most this often per token: a column written per request would be a write per request. */
const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * An API token's expiry as asked for at `now`: none, or a time in the future no further than
 * API_TOKEN_MAX_LIFETIME_MS. Pure, so the rule is tested without a clock.
 */
export function checkApiTokenExpiry(expiresAt: string | undefined, now: number): string | undefined {
  if (expiresAt === undefined) return undefined;
  const at = Date.parse(expiresAt);
  if (!Number.isFinite(at)) throw new AppError("VALIDATION_FAILED", "expiresAt must be an ISO 8601 time");
  if (at <= now) throw new AppError("VALIDATION_FAILED", "expiresAt must be in the future");
  if (at - now > API_TOKEN_MAX_LIFETIME_MS) throw new AppError("VALIDATION_FAILED", "an API token may live a year at most; choose an earlier expiresAt");
  return new Date(at).toISOString();
}

/** The name as shown: trimmed, and not empty once trimmed. */
export function checkApiTokenName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0) throw new AppError("VALIDATION_FAILED", "name must not be empty");
  return trimmed;
}

const sha256Hex = (value: string) => createHash("sha256").update(value).digest("hex");

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === y.length && timingSafeEqual(x, y);
}

function scopesOf(row: Pick<ApiTokensTable, "scopes">): ApiTokenScope[] {
  return (Array.isArray(row.scopes) ? row.scopes : []).filter(isApiTokenScope);
}

export interface ApiTokensDeps {
  db: Kysely<AuthDb>;
  /** Appends the event and applies it to the read model before returning (read-your-writes). */
  append(subject: string, event: AnyDomainEvent, expectedSeq: number | undefined): Promise<void>;
  /** The revoked token is refused everywhere at once, as a revoked session is. */
  onRevoked(tokenId: string): Promise<void>;
}

/** API tokens for bots and scripts: made, listed and revoked by their owner, signed in; resolved for the services. */
export function createApiTokens(deps: ApiTokensDeps) {
  const { db } = deps;

  const view = (row: Omit<ApiTokensTable, "secret_hash" | "user_id" | "revoked_at" | "version">, lastUsedAt: Date | null): ApiTokenView => ({
    id: row.id,
    name: row.name,
    scopes: scopesOf(row),
    createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at?.toISOString() ?? null,
    lastUsedAt: lastUsedAt?.toISOString() ?? null,
  });

  async function recordUse(tokenId: string): Promise<void> {
    const now = new Date();
    await db
      .insertInto("api_token_usage")
      .values({ token_id: tokenId, last_used_at: now })
      .onConflict((oc) =>
        oc
          .column("token_id")
          .doUpdateSet({ last_used_at: now })
          .where("api_token_usage.last_used_at", "<", new Date(now.getTime() - LAST_USED_RESOLUTION_MS)),
      )
      .execute();
  }

  return {
    async list(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      parse(EmptyBody, input ?? {}, "query");
      const caller = requireSessionCaller(ctx);
      const rows = await db
        .selectFrom("api_tokens as t")
        .leftJoin("api_token_usage as u", "u.token_id", "t.id")
        .select(["t.id", "t.name", "t.scopes", "t.created_at", "t.expires_at", "u.last_used_at"])
        .where("t.user_id", "=", caller.userId)
        .where("t.revoked_at", "is", null)
        .orderBy("t.created_at", "desc")
        .execute();
      return { body: { items: rows.map((r) => view(r, r.last_used_at)) } };
    },

    async create(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const body = parse(CreateApiTokenBody, input, "body");
      const caller = requireSessionCaller(ctx);
      const name = checkApiTokenName(body.name);
      const expiresAt = checkApiTokenExpiry(body.expiresAt, Date.now());
      const tokenId = randomUUID();
      const secret = randomBytes(32).toString("base64url");
      const event = newEvent(
        "api-token.created.v1",
        { tokenId, userId: caller.userId, name, scopes: body.scopes, secretHash: sha256Hex(secret), ...(expiresAt ? { expiresAt } : {}) },
        caller.userId,
      );
      await deps.append(subjects.apiToken(tokenId), event, 0);
      const created: CreatedApiToken = {
        ...view({ id: tokenId, name, scopes: body.scopes, created_at: new Date(event.at), expires_at: expiresAt ? new Date(expiresAt) : null }, null),
        token: formatApiToken(tokenId, secret),
      };
      return { status: 201, body: created };
    },

    async revoke(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const { id } = parse(ApiTokenIdParams, input, "params");
      const caller = requireSessionCaller(ctx);
      const row = await db.selectFrom("api_tokens").select(["id", "user_id", "revoked_at", "version"]).where("id", "=", id).executeTakeFirst();
      // Someone else's token is as unknown as a missing one.
      if (!row || row.user_id !== caller.userId) throw new AppError("NOT_FOUND", "no such API token");
      if (!row.revoked_at) await deps.append(subjects.apiToken(id), newEvent("api-token.revoked.v1", { tokenId: id, userId: caller.userId }, caller.userId), undefined);
      await deps.onRevoked(id);
      return { status: 204, body: null };
    },

    /**
     * Internal: who a presented API token belongs to and what it may do. A forged, unknown,
     * revoked or expired one is refused with the same kind of 401 a bad access token gets.
     */
    async resolve(input: unknown): Promise<RpcResult> {
      const { token } = parse(ResolveApiTokenInput, input, "input");
      const invalid = () => new AppError("TOKEN_INVALID", "API token is invalid");
      const parts = parseApiToken(token);
      if (!parts) throw invalid();
      const row = await db
        .selectFrom("api_tokens as t")
        .innerJoin("users as u", "u.id", "t.user_id")
        .select(["t.id", "t.user_id", "t.name", "t.scopes", "t.secret_hash", "t.created_at", "t.expires_at", "t.revoked_at", "u.name as user_name"])
        .where("t.id", "=", parts.tokenId)
        .executeTakeFirst();
      if (!row || !sameHash(row.secret_hash, sha256Hex(parts.secret))) throw invalid();
      if (row.revoked_at) throw new AppError("SESSION_REVOKED", "this API token was revoked");
      if (row.expires_at && row.expires_at.getTime() <= Date.now()) throw new AppError("TOKEN_EXPIRED", "this API token has expired");
      await recordUse(row.id);
      const resolved: ResolvedApiToken = {
        tokenId: row.id,
        userId: row.user_id,
        userName: row.user_name,
        name: row.name,
        scopes: scopesOf(row),
        createdAt: row.created_at.toISOString(),
        expiresAt: row.expires_at?.toISOString() ?? null,
      };
      return { body: resolved };
    },
  };
}
