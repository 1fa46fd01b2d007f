import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { AppError, decodeCollabControl, revokedSessionKey, subjects } from "@palimpsest/contracts";
import type { Logger } from "./logger.ts";
import type { Redis } from "./redis.ts";

/** The longest an access token may live (auth refuses ACCESS_TOKEN_TTL_SECONDS above a day). */
const MAX_TOKEN_LIFETIME_MS = 86_400_000;

export interface RevocationOptions {
  nc: NatsConnection;
  /** The shared list auth writes (see revokedSessionKey); none: the local copy only. */
  redis?: Redis;
  log: Logger;
  /** How long one Redis look-up may take before the local copy decides. @default 300 */
  redisTimeoutMs?: number;
  /** Revocations remembered here. @default 100000 */
  maxEntries?: number;
  /** For tests. */
  now?: () => number;
}

/** Who a token says it is, as far as revocation is concerned. */
export interface SessionClaims {
  sessionId: string;
  /** When the token was issued (ms): a revocation heard about since then covers it. */
  issuedAt: number;
}

/**
 * Decides whether a session was revoked, failing closed. Two sources: the shared list in Redis
 * that auth writes, and a bounded local copy of the `session.revoked` notices heard on
 * `collab.control` since this process subscribed. When Redis does not answer, the local copy
 * decides for tokens issued while it has been listening without a break (every revocation of
 * their session since they were issued reached it); an older token is refused as UNAVAILABLE
 * rather than let through.
 */
export class RevocationList {
  private readonly revokedAt = new Map<string, number>();
  /** The local copy holds every revocation heard since this time (ms); Infinity while not listening. */
  private coveredSince = Number.POSITIVE_INFINITY;
  private sub: Subscription | undefined;
  private readonly listeners = new Set<(sessionId: string) => void>();
  private readonly now: () => number;

  constructor(private readonly opts: RevocationOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Starts listening; coverage begins once the subscription is registered with the server. */
  async start(): Promise<void> {
    const { nc, log } = this.opts;
    this.sub = nc.subscribe(subjects.collabControl(), {
      callback: (_err, msg) => {
        try {
          const notice = decodeCollabControl(msg.string());
          if (notice?.type === "session.revoked") this.note(notice.sessionId);
        } catch {
          log.warn("ignoring malformed control message");
        }
      },
    });
    await nc.flush();
    this.coveredSince = this.now();
    void (async () => {
      for await (const s of nc.status()) {
        // Notices published while disconnected are lost: coverage restarts once back.
        if (s.type === "disconnect") this.coveredSince = Number.POSITIVE_INFINITY;
        // Back, or messages dropped for a slow subscriber: only what comes from now on is known.
        else if (s.type === "reconnect" || s.type === "slowConsumer") this.coveredSince = this.now();
      }
    })();
  }

  stop(): void {
    this.sub?.unsubscribe();
    this.coveredSince = Number.POSITIVE_INFINITY;
  }

  /** Called for each session revoked from now on (after it is recorded). */
  onRevoked(listener: (sessionId: string) => void): void {
    this.listeners.add(listener);
  }

  /** Records a revocation heard of (a notice, or a Redis answer). */
  note(sessionId: string): void {
    const now = this.now();
    this.revokedAt.delete(sessionId);
    this.revokedAt.set(sessionId, now);
    for (const [id, at] of this.revokedAt) {
      if (this.revokedAt.size <= (this.opts.maxEntries ?? 100_000) && now - at < MAX_TOKEN_LIFETIME_MS) break;
      this.revokedAt.delete(id);
      // What is forgotten is no longer covered: tokens issued before it are asked about again.
      this.coveredSince = Math.max(this.coveredSince, at);
    }
    for (const l of this.listeners) l(sessionId);
  }

  /** Throws SESSION_REVOKED for a revoked session, UNAVAILABLE when that cannot be told. */
  async assertActive(claims: SessionClaims): Promise<void> {
    if (this.revokedAt.has(claims.sessionId)) throw revoked();
    const { redis } = this.opts;
    let shared: boolean | undefined;
    if (redis) {
      try {
        shared = await withTimeout(redis.exists(revokedSessionKey(claims.sessionId)), this.opts.redisTimeoutMs ?? 300).then((n) => n === 1);
      } catch (err) {
        this.opts.log.warn({ err }, "revocation list in Redis unavailable; deciding from the local copy");
      }
    }
    this.decide(claims, shared);
  }

  /**
   * As assertActive, with the shared list's answer already in hand (`undefined`: it could not be
   * asked), for a caller that reads the revocation marker in a round trip to Redis of its own.
   */
  decide(claims: SessionClaims, shared: boolean | undefined): void {
    if (this.revokedAt.has(claims.sessionId)) throw revoked();
    if (shared === true) {
      this.note(claims.sessionId);
      throw revoked();
    }
    if (shared === false) return;
    if (claims.issuedAt < this.coveredSince) throw new AppError("UNAVAILABLE", "cannot check the session right now; try again shortly");
  }
}

function revoked(): AppError {
  return new AppError("SESSION_REVOKED", "this session has ended; sign in again");
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
