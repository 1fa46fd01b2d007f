import type { Redis } from "@palimpsest/platform";

export interface LimitPolicy {
  /** Names the policy in keys and headers. */
  name: string;
  limit: number;
  windowSeconds: number;
}

export interface LimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window resets. */
  resetSeconds: number;
  /** True when the session named in the check has been revoked. */
  revoked: boolean;
}

/**
 * One round trip: count this request in a fixed window and, when given, look up whether the
 * caller's session was revoked. KEYS[1] counter, KEYS[2] revocation marker; ARGV[1] window ms.
 */
const SCRIPT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl, redis.call('EXISTS', KEYS[2])}
`;

const NO_SESSION = "revoked:session:-";

/**
 * Rate limits kept in Redis, so every gateway replica counts against the same budget.
 * Fixed windows: simple, cheap (one script call per request, revocation check included),
 * and a client that exceeds its budget is told exactly when it resets.
 */
export class RateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = "ratelimit",
  ) {}

  async check(policy: LimitPolicy, subject: string, revocationKey: string = NO_SESSION): Promise<LimitDecision> {
    const windowMs = policy.windowSeconds * 1000;
    const key = `${this.prefix}:${policy.name}:${subject}`;
    const [count, ttlMs, revoked] = (await this.redis.eval(SCRIPT, 2, key, revocationKey, String(windowMs))) as [number, number, number];
    return {
      allowed: count <= policy.limit,
      limit: policy.limit,
      remaining: Math.max(0, policy.limit - count),
      resetSeconds: Math.max(1, Math.ceil(ttlMs / 1000)),
      revoked: revoked === 1,
    };
  }
}

/** Standard headers (IETF draft "RateLimit header fields for HTTP"), plus Retry-After on refusal. */
export function rateLimitHeaders(policy: LimitPolicy, d: LimitDecision): Record<string, string> {
  return {
    "ratelimit-policy": `${policy.limit};w=${policy.windowSeconds}`,
    "ratelimit-limit": String(d.limit),
    "ratelimit-remaining": String(d.remaining),
    "ratelimit-reset": String(d.resetSeconds),
    ...(d.allowed ? {} : { "retry-after": String(d.resetSeconds) }),
  };
}
