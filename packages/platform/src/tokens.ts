import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";
import { createHash } from "node:crypto";
import { AppError, isApiToken, type CallerApiToken, type ResolvedApiToken } from "@palimpsest/contracts";

export interface VerifiedToken {
  userId: string;
  sessionId: string;
  name: string;
  expiresAt: number;
  /** When the token was issued (ms). */
  issuedAt: number;
  /** An API token: which one and its scopes. `sessionId` is then its id, so revoking it is a session's revocation. */
  token?: CallerApiToken;
}

/** How long a refused API token is refused without asking auth again. */
const REFUSAL_CACHE_MS = 5_000;

export interface TokenVerifierOptions {
  /** Loads the current public keys (from the auth service). */
  fetchJwks: () => Promise<JSONWebKeySet>;
  issuer: string;
  audience: string;
  /** A token with an unknown `kid` triggers a reload, at most this often. @default 1000 */
  minRefreshIntervalMs?: number;
  /**
   * Verified tokens remembered until they expire, so a client's repeated requests skip the
   * signature check. Revocation is checked on every call all the same (see `revocations`).
   * @default 10000
   */
  cacheSize?: number;
  /**
   * Checked on every verification, cached or not: a token of a revoked session is refused
   * (SESSION_REVOKED) wherever it is presented. Throws UNAVAILABLE when it cannot tell.
   */
  revocations?: { assertActive(claims: { sessionId: string; issuedAt: number }): Promise<void> };
  /**
   * Resolves an API token (`pal_…`) with the auth service, which checks its hash and expiry.
   * None: API tokens are refused (TOKEN_INVALID).
   */
  resolveApiToken?: (token: string) => Promise<ResolvedApiToken>;
  /**
   * How long a resolved API token is remembered (by a hash of it, never the token itself). Its
   * revocation is checked on every call all the same; this only bounds the calls to auth.
   * @default 30000
   */
  apiTokenCacheMs?: number;
}

export interface TokenVerifier {
  verify(token: string): Promise<VerifiedToken>;
}

/**
 * Verifies access tokens locally against a cached JWKS: no call to the auth service per request.
 * Only EdDSA is accepted, so `alg: none` and algorithm-confusion tokens never verify.
 * An unknown `kid` (a freshly rotated key) reloads the key set, rate-limited so forged
 * tokens with random kids cannot turn into a flood of reloads.
 */
export function createTokenVerifier(opts: TokenVerifierOptions): TokenVerifier {
  const minInterval = opts.minRefreshIntervalMs ?? 1_000;
  let keySet: JWTVerifyGetKey | undefined;
  let loadedAt = 0;
  let loading: Promise<JWTVerifyGetKey> | undefined;
  const cacheSize = opts.cacheSize ?? 10_000;
  // Insertion-ordered: the oldest entry goes first when full.
  const verified = new Map<string, VerifiedToken>();
  const apiTokenCacheMs = opts.apiTokenCacheMs ?? 30_000;
  const resolved = new Map<string, { claims: VerifiedToken; until: number }>();
  /** API tokens auth refused, by hash, until when they are refused here without asking. */
  const refused = new Map<string, number>();

  async function load(): Promise<JWTVerifyGetKey> {
    loading ??= opts
      .fetchJwks()
      .then((jwks) => {
        keySet = createLocalJWKSet(jwks);
        loadedAt = Date.now();
        return keySet;
      })
      .finally(() => {
        loading = undefined;
      });
    return loading;
  }

  async function verifyWith(keys: JWTVerifyGetKey, token: string): Promise<VerifiedToken> {
    const { payload } = await jwtVerify(token, keys, {
      issuer: opts.issuer,
      audience: opts.audience,
      algorithms: ["EdDSA"],
      requiredClaims: ["sub", "sid", "exp", "iat"],
    });
    if (typeof payload.sub !== "string" || typeof payload.sid !== "string" || typeof payload.exp !== "number" || typeof payload.iat !== "number") {
      throw new AppError("TOKEN_INVALID", "access token is missing claims");
    }
    return {
      userId: payload.sub,
      sessionId: payload.sid,
      name: typeof payload["name"] === "string" ? payload["name"] : "",
      expiresAt: payload.exp * 1000,
      issuedAt: payload.iat * 1000,
    };
  }

  async function checked(claims: VerifiedToken): Promise<VerifiedToken> {
    await opts.revocations?.assertActive(claims);
    return claims;
  }

  return {
    async verify(token: string): Promise<VerifiedToken> {
      return checked(isApiToken(token) ? await resolveApiToken(token) : await verifySignature(token));
    },
  };

  async function resolveApiToken(token: string): Promise<VerifiedToken> {
    if (!opts.resolveApiToken || token.length > 256) throw new AppError("TOKEN_INVALID", "access token is invalid");
    const key = createHash("sha256").update(token).digest("base64url");
    const now = Date.now();
    const known = resolved.get(key);
    if (known && known.until > now) return known.claims;
    resolved.delete(key);
    // A refused token is refused again here for a moment, so a flood of made-up ones costs auth one look each.
    const refusedUntil = refused.get(key);
    if (refusedUntil !== undefined && refusedUntil > now) throw new AppError("TOKEN_INVALID", "access token is invalid");
    refused.delete(key);
    let r: Awaited<ReturnType<NonNullable<TokenVerifierOptions["resolveApiToken"]>>>;
    try {
      r = await opts.resolveApiToken(token);
    } catch (err) {
      if (err instanceof AppError && (err.code === "TOKEN_INVALID" || err.code === "TOKEN_EXPIRED" || err.code === "SESSION_REVOKED")) {
        if (refused.size >= cacheSize) refused.delete(refused.keys().next().value as string);
        refused.set(key, now + REFUSAL_CACHE_MS);
      }
      throw err;
    }
    const expiresAt = r.expiresAt === null ? Number.POSITIVE_INFINITY : Date.parse(r.expiresAt);
    const claims: VerifiedToken = {
      userId: r.userId,
      sessionId: r.tokenId,
      name: r.userName,
      expiresAt,
      // When auth last found it live: revocations since then are what the local list must have heard
      // (a token made long before this process started still works while Redis is away).
      issuedAt: now,
      token: { id: r.tokenId, name: r.name, scopes: r.scopes },
    };
    if (resolved.size >= cacheSize) resolved.delete(resolved.keys().next().value as string);
    resolved.set(key, { claims, until: Math.min(expiresAt, now + apiTokenCacheMs) });
    return claims;
  }

  async function verifySignature(token: string): Promise<VerifiedToken> {
    if (token.length === 0 || token.length > 4096) throw new AppError("TOKEN_INVALID", "access token is malformed");
    const known = verified.get(token);
    if (known) {
      if (known.expiresAt > Date.now()) return known;
      verified.delete(token);
    }
    try {
      const keys = keySet ?? (await load());
      try {
        const claims = await verifyWith(keys, token);
        if (verified.size >= cacheSize) verified.delete(verified.keys().next().value as string);
        verified.set(token, claims);
        return claims;
      } catch (err) {
        if (err instanceof joseErrors.JWKSNoMatchingKey && Date.now() - loadedAt >= minInterval) {
          return await verifyWith(await load(), token);
        }
        throw err;
      }
    } catch (err) {
      throw toTokenError(err);
    }
  }
}

function toTokenError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof joseErrors.JWTExpired) return new AppError("TOKEN_EXPIRED", "access token has expired");
  if (err instanceof joseErrors.JOSEError) return new AppError("TOKEN_INVALID", "access token is invalid");
  return new AppError("UNAVAILABLE", "could not verify the access token right now", { cause: err });
}
