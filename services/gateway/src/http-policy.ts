import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { AppError, revokedSessionKey, type Caller } from "@palimpsest/contracts";
import type { Logger, Redis, RevocationList, TokenVerifier } from "@palimpsest/platform";
import type { CollabCaller } from "./collab-proxy.ts";
import { RateLimiter, rateLimitHeaders, type LimitDecision, type LimitPolicy } from "./rate-limiter.ts";
import { LoginLockout } from "./login-lockout.ts";
import { contentSecurityPolicy, strictTransportSecurity } from "./browser-policy.ts";

import type { GatewayConfig } from "./config.ts";

declare module "fastify" {
  interface FastifyRequest {
    caller?: Caller;
    accessToken?: string;
  }
}

const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "strict-origin-when-cross-origin",
  "cross-origin-opener-policy": "same-origin",
} as const;

/** Security headers on every response; CORS only for the configured origins, so other sites cannot read the API. */
export function addCorsAndSecurityHeaders(
  http: FastifyInstance,
  config: Pick<GatewayConfig, "corsOrigins" | "imageHosts" | "hstsMaxAgeSeconds" | "s3Endpoint" | "s3PublicEndpoint">,
): void {
  const { corsOrigins } = config;
  const csp = contentSecurityPolicy(config.imageHosts, new URL(config.s3PublicEndpoint ?? config.s3Endpoint).origin);
  http.addHook("onSend", async (req, reply) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) reply.header(k, v);
    reply.header("content-security-policy", csp);
    // req.protocol is "https" for a TLS socket, or per X-Forwarded-Proto only when TRUST_PROXY is on.
    const hsts = strictTransportSecurity(req.protocol, config.hstsMaxAgeSeconds);
    if (hsts) reply.header("strict-transport-security", hsts);
    const origin = req.headers.origin;
    if (origin && corsOrigins.includes(origin)) {
      reply.header("access-control-allow-origin", origin);
      reply.header("vary", "Origin");
      reply.header("access-control-expose-headers", "x-request-id");
    }
  });
  http.options("/api/*", async (req, reply) => {
    const origin = req.headers.origin;
    if (!origin || !corsOrigins.includes(origin)) return reply.status(204).send();
    return reply
      .header("access-control-allow-methods", "GET,POST,PATCH,DELETE")
      .header("access-control-allow-headers", "authorization,content-type,x-request-id")
      .header("access-control-max-age", "600")
      .status(204)
      .send();
  });
}

/** Who may come in and how often: the checks routes and the /collab upgrade run before any work. */
export interface RequestGuards {
  /** For signed-in routes: a valid bearer token (kept on the request for the service) and the per-user limit. */
  signedIn(req: FastifyRequest, reply: FastifyReply): Promise<void>;
  /** For routes without a token (sign-in, register): a per-address limit against guessing. */
  anonymous(req: FastifyRequest, reply: FastifyReply): Promise<void>;
  /** For a /collab connection whose token's signature was verified: revocation and the connection rate. */
  admitCollab(caller: CollabCaller): Promise<void>;
  /** Before a sign-in to `email` is checked: refused while the account is locked for this address. */
  beforeSignIn(req: FastifyRequest, reply: FastifyReply, email: string): Promise<void>;
  /** After it was checked: a 401 counts towards a lockout, a success starts this address's count over. */
  afterSignIn(req: FastifyRequest, email: string, status: number): Promise<void>;
}

export function requestGuards(deps: { config: GatewayConfig; redis: Redis; verifier: TokenVerifier; revocations: Pick<RevocationList, "decide">; log: Logger }): RequestGuards {
  const { config, redis, verifier, revocations, log } = deps;
  const limiter = new RateLimiter(redis);
  const lockout = new LoginLockout(redis, {
    failuresPerAddress: config.loginFailuresPerAddress,
    failuresPerAccount: config.loginFailuresPerAccount,
    windowSeconds: config.loginFailureWindowSeconds,
    lockoutSeconds: config.loginLockoutSeconds,
    maxLockoutSeconds: config.loginLockoutMaxSeconds,
  });
  const policies = {
    auth: { name: "auth", limit: config.rateLimitAuthPerWindow, windowSeconds: config.rateLimitWindowSeconds },
    user: { name: "user", limit: config.rateLimitUserPerWindow, windowSeconds: config.rateLimitWindowSeconds },
    collab: { name: "collab-connect", limit: config.rateLimitCollabConnectsPerWindow, windowSeconds: config.rateLimitWindowSeconds },
  } as const satisfies Record<string, LimitPolicy>;

  /** Counts a request; Redis being down must not take the API down, so the limiter then lets it through. */
  async function limit(policy: LimitPolicy, subject: string, sessionId?: string): Promise<LimitDecision | undefined> {
    try {
      return await limiter.check(policy, subject, sessionId ? revokedSessionKey(sessionId) : undefined);
    } catch (err) {
      log.warn({ err, policy: policy.name }, "rate limiter unavailable; letting the request through");
      return undefined;
    }
  }

  function enforce(reply: FastifyReply, policy: LimitPolicy, decision: LimitDecision | undefined): void {
    if (!decision) return;
    reply.headers(rateLimitHeaders(policy, decision));
    if (!decision.allowed) throw new AppError("RATE_LIMITED", `too many requests; try again in ${decision.resetSeconds} s`);
  }

  return {
    async signedIn(req, reply) {
      const header = req.headers.authorization;
      const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
      if (!match?.[1]) throw new AppError("UNAUTHENTICATED", "send an access token as 'Authorization: Bearer <token>'");
      const claims = await verifier.verify(match[1]);
      // One round trip counts the request and reads the session's revocation marker.
      const decision = await limit(policies.user, claims.userId, claims.sessionId);
      revocations.decide(claims, decision?.revoked);
      req.accessToken = match[1];
      req.caller = { userId: claims.userId, sessionId: claims.sessionId, ...(claims.token ? { token: claims.token } : {}) };
      enforce(reply, policies.user, decision);
    },
    async anonymous(req, reply) {
      enforce(reply, policies.auth, await limit(policies.auth, req.ip));
    },
    async beforeSignIn(req, reply, email) {
      let seconds: number;
      try {
        seconds = await lockout.lockedFor(email, req.ip);
      } catch (err) {
        log.warn({ err }, "sign-in lockout unavailable; letting the request through");
        return;
      }
      if (seconds > 0) {
        // The password is not even checked while locked: guessing gains nothing, and the answer is the same whether the account exists or not.
        reply.header("retry-after", String(seconds));
        throw new AppError("RATE_LIMITED", `too many failed sign-ins to this account; try again in ${seconds} s`);
      }
    },
    async afterSignIn(req, email, status) {
      if (status !== 401 && (status < 200 || status >= 300)) return;
      try {
        await (status === 401 ? lockout.failed(email, req.ip) : lockout.succeeded(email, req.ip));
      } catch (err) {
        log.warn({ err }, "sign-in lockout unavailable; the attempt is not counted");
      }
    },
    async admitCollab(caller) {
      const decision = await limit(policies.collab, caller.userId, caller.sessionId);
      revocations.decide(caller, decision?.revoked);
      if (decision && !decision.allowed) throw new AppError("RATE_LIMITED", `too many connections; try again in ${decision.resetSeconds} s`);
    },
  };
}
