// The signed-in session: tokens, the user, and the one code path that rotates tokens.
//
// The refresh token lives only in an HttpOnly cookie the gateway sets (scoped to /api/auth),
// so no script on the page can read it; storage keeps the user and the short-lived access token.
// Refresh tokens rotate and reusing an old one revokes the whole family, so every refresh
// goes through a single in-flight promise per tab and a Web Lock across tabs; inside the
// lock we re-read storage first, because another tab may already have rotated the pair.

import { ApiError, sendJson } from "../api/http";
import type { SessionGrant, User } from "../api/types";

export interface Session {
  user: User;
  accessToken: string;
  /** Local clock time (ms) after which the access token should be treated as expired. */
  accessExpiresAt: number | null;
  /** How long the access token lives (ms), from its claims; sets how early it is renewed. */
  accessLifetimeMs?: number | null;
}

export interface SessionSnapshot {
  session: Session | null;
  /** A message for the sign-in screen, e.g. why the user was signed out. */
  notice: string | null;
}

export const SESSION_EXPIRED_MESSAGE = "Your session expired. Please sign in again.";

const STORAGE_KEY = "palimpsest.session";
const REFRESH_LOCK = "palimpsest.refresh";
// Refresh a little early so a request never leaves with a token that dies in flight, and
// renew in the background ahead of that so nobody ever waits for it; short-lived tokens get
// proportionally shorter margins, or they would be "expiring" from the moment they arrive.
const EXPIRY_MARGIN_MS = 30_000;
const RENEW_AHEAD_MS = 60_000;
const RENEW_RETRY_MS = 15_000;

type Listener = () => void;
const listeners = new Set<Listener>();
let snapshot: SessionSnapshot = { session: readStored()?.session ?? null, notice: null };
let inFlightRefresh: Promise<string | null> | null = null;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function isUser(value: unknown): value is User {
  return isRecord(value) && typeof value.id === "string" && typeof value.email === "string" && typeof value.name === "string";
}

/** A stored session, with the refresh token an older version of the app kept in storage. */
interface Stored {
  session: Session;
  legacyRefreshToken: string | null;
}

function readStored(): Stored | null {
  let raw: string | null;
  try {
    raw = localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
  if (!raw) return null;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (
      isRecord(parsed) &&
      isUser(parsed.user) &&
      typeof parsed.accessToken === "string"
    ) {
      return {
        session: {
          user: parsed.user,
          accessToken: parsed.accessToken,
          accessExpiresAt: typeof parsed.accessExpiresAt === "number" ? parsed.accessExpiresAt : null,
          accessLifetimeMs: typeof parsed.accessLifetimeMs === "number" ? parsed.accessLifetimeMs : null,
        },
        legacyRefreshToken: typeof parsed.refreshToken === "string" ? parsed.refreshToken : null,
      };
    }
  } catch {
    // Corrupt entry: treat as signed out rather than crash the app.
  }
  return null;
}

function writeStored(session: Session | null): void {
  try {
    if (session) localStorage.setItem(STORAGE_KEY, JSON.stringify(session));
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    // Storage can be full or disabled (private mode); the in-memory session still works.
  }
}

function publish(next: SessionSnapshot): void {
  const renew = next.session?.accessToken !== snapshot.session?.accessToken;
  snapshot = next;
  if (renew) scheduleRenewal();
  for (const listener of listeners) listener();
}

/** The token's lifetime (exp - iat) in ms, or null when it is not a JWT we can read. */
function tokenLifetime(accessToken: string): number | null {
  const payload = accessToken.split(".")[1];
  if (!payload) return null;
  try {
    const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(payload.length / 4) * 4, "="));
    const claims: unknown = JSON.parse(json);
    if (isRecord(claims) && typeof claims.exp === "number" && typeof claims.iat === "number" && claims.exp > claims.iat) {
      return (claims.exp - claims.iat) * 1000;
    }
  } catch {
    // Not a JWT we can read; rely on 401 handling instead.
  }
  return null;
}

/** A margin before expiry: `preferred`, but never more than a fraction of the token's life. */
function marginFor(session: Session, preferred: number, fraction: number): number {
  const lifetime = session.accessLifetimeMs ?? null;
  return lifetime === null ? preferred : Math.min(preferred, lifetime * fraction);
}

function isExpiring(session: Session): boolean {
  return session.accessExpiresAt !== null && Date.now() > session.accessExpiresAt - marginFor(session, EXPIRY_MARGIN_MS, 0.1);
}

let renewTimer: ReturnType<typeof setTimeout> | undefined;

/**
 * Renews the access token in the background before it expires, so neither a request nor a
 * reconnecting document ever has to wait for it. Every tab schedules this; the refresh lock
 * and the re-read of storage inside it make the first one do the work and the others adopt it.
 */
function scheduleRenewal(delayOverride?: number): void {
  clearTimeout(renewTimer);
  renewTimer = undefined;
  const session = snapshot.session;
  if (!session || session.accessExpiresAt === null || typeof window === "undefined") return;
  // A little jitter so tabs opened together do not all wake at the same moment.
  const jitter = Math.random() * 2_000;
  const due = session.accessExpiresAt - marginFor(session, RENEW_AHEAD_MS, 0.25) - jitter;
  const delay = delayOverride ?? Math.max(1_000, due - Date.now());
  renewTimer = setTimeout(() => {
    renewTimer = undefined;
    const current = snapshot.session;
    if (!current || current.accessToken !== session.accessToken) return;
    refreshSession(current.accessToken).catch(() => {
      // Offline or the server is down: try again a little later (requests still refresh on demand).
      if (snapshot.session?.accessToken === current.accessToken) scheduleRenewal(RENEW_RETRY_MS);
    });
  }, delay);
}

function sameSession(a: Session | null, b: Session | null): boolean {
  return a?.accessToken === b?.accessToken;
}

export function getSessionSnapshot(): SessionSnapshot {
  return snapshot;
}

export function subscribeSession(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function startSession(auth: SessionGrant): Session {
  // The lifetime is anchored to the local clock at the moment we received the token, so a
  // skewed client clock cannot make a fresh token look expired.
  const lifetime = tokenLifetime(auth.accessToken);
  const session: Session = {
    user: auth.user,
    accessToken: auth.accessToken,
    accessExpiresAt: lifetime === null ? null : Date.now() + lifetime,
    accessLifetimeMs: lifetime,
  };
  writeStored(session);
  publish({ session, notice: null });
  return session;
}

/** Forget the session locally; `notice` is shown on the sign-in screen. */
export function endSession(notice: string | null = null): void {
  writeStored(null);
  publish({ session: null, notice });
}

export function dismissNotice(): void {
  if (snapshot.notice !== null) publish({ ...snapshot, notice: null });
}

async function withRefreshLock<T>(task: () => Promise<T>): Promise<T> {
  if (typeof navigator !== "undefined" && "locks" in navigator && navigator.locks) {
    return navigator.locks.request(REFRESH_LOCK, task);
  }
  return task();
}

async function runRefresh(staleAccessToken: string | null): Promise<string | null> {
  return withRefreshLock(async () => {
    const fromStorage = readStored();
    const stored = fromStorage?.session ?? null;
    if (!sameSession(stored, snapshot.session)) {
      // Another tab signed in, out, or rotated tokens while we were waiting.
      publish({ session: stored, notice: stored ? null : snapshot.notice });
    }
    if (!stored) return null;
    const legacy = fromStorage?.legacyRefreshToken ?? null;
    const alreadyRotated = staleAccessToken !== null && stored.accessToken !== staleAccessToken;
    if (alreadyRotated && !isExpiring(stored) && legacy === null) return stored.accessToken;

    try {
      // The cookie carries the token; the header proves the call comes from our own pages. A
      // token an older version kept in storage is exchanged once, into the cookie, and forgotten.
      const auth = await sendJson<SessionGrant>({
        method: "POST",
        path: "/api/auth/refresh",
        headers: { "X-CSRF": "1", "X-Session-Transport": "cookie" },
        body: legacy === null ? {} : { refreshToken: legacy },
      });
      return startSession(auth).accessToken;
    } catch (err) {
      if (err instanceof ApiError && err.status >= 400 && err.status < 500 && err.status !== 429) {
        endSession(SESSION_EXPIRED_MESSAGE);
        return null;
      }
      // Network trouble or a server error: keep the session, the caller reports the failure.
      throw err;
    }
  });
}

/**
 * Rotates the token pair. Returns the new access token, or null when the session is over
 * (the user is then signed out with SESSION_EXPIRED_MESSAGE). Throws on network errors.
 * Pass the access token that was rejected so a refresh another caller already did is reused.
 */
export function refreshSession(staleAccessToken: string | null = null): Promise<string | null> {
  if (!inFlightRefresh) {
    inFlightRefresh = runRefresh(staleAccessToken).finally(() => {
      inFlightRefresh = null;
    });
  }
  return inFlightRefresh;
}

/** An access token that is not about to expire, refreshing first if needed; null when signed out. */
export async function freshAccessToken(): Promise<string | null> {
  const session = snapshot.session;
  if (!session) return null;
  if (!isExpiring(session)) return session.accessToken;
  try {
    return await refreshSession(session.accessToken);
  } catch {
    // Offline: hand out what we have; the request itself will report the failure.
    return snapshot.session?.accessToken ?? null;
  }
}

if (typeof window !== "undefined") {
  scheduleRenewal();
  if (readStored()?.legacyRefreshToken) {
    refreshSession().catch(() => {
      // Offline: the token stays until the next refresh, which exchanges it then.
    });
  }
  // Keep tabs in agreement: a sign-out or token rotation elsewhere applies here too.
  window.addEventListener("storage", (event) => {
    if (event.key !== STORAGE_KEY && event.key !== null) return;
    const stored = readStored()?.session ?? null;
    if (!sameSession(stored, snapshot.session)) publish({ session: stored, notice: null });
  });
}
