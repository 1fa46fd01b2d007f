import type { FastifyReply, FastifyRequest } from "fastify";
import { parse as parseCookies, serialize as serializeCookie } from "cookie";
import { AppError } from "@palimpsest/contracts";

/**
 * The refresh token as an HttpOnly cookie for the web app, so script on the page (an injected one
 * included) never holds the 30-day credential. API clients keep the public contract: the token in
 * the body of login, register and refresh. A browser opts in per call with
 * `X-Session-Transport: cookie`; a refresh without a token in its body is a cookie refresh.
 *
 * A cookie is ambient: the browser attaches it to any request to its path, whoever made the page.
 * So a cookie refresh must also carry `X-CSRF: 1` (a cross-site form cannot set a header, and a
 * cross-origin fetch with one needs a preflight the gateway never grants for it) and must not come
 * from another origin (Origin and Sec-Fetch-Site, where the browser sends them). SameSite=Strict
 * and the path scope keep the cookie off every other request in the first place.
 */

/** Which part of a session a route plays: starts one, rotates it, or ends it. */
export type SessionStep = "issue" | "rotate" | "end";

export const SESSION_TRANSPORT_HEADER = "x-session-transport";
export const CSRF_HEADER = "x-csrf";
export const REFRESH_COOKIE = "palimpsest_refresh";
/** Refresh and logout live under it; no other request carries the cookie. */
export const REFRESH_COOKIE_PATH = "/api/auth";

export interface SessionCookieOptions {
  /** How long the browser keeps the cookie; the auth service's own expiry still decides. */
  maxAgeSeconds: number;
}

function headerValue(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === "string" && v.length > 0 ? v : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function cookieToken(req: FastifyRequest): string | undefined {
  const raw = headerValue(req, "cookie");
  const token = raw ? parseCookies(raw)[REFRESH_COOKIE] : undefined;
  return token && token.length > 0 ? token : undefined;
}

/** A cookie-authenticated call must come from our own pages. */
function refuseCrossSite(req: FastifyRequest): void {
  if (headerValue(req, CSRF_HEADER) !== "1") {
    throw new AppError("CSRF_REJECTED", `a refresh with the session cookie must send the header '${CSRF_HEADER}: 1'`);
  }
  const site = headerValue(req, "sec-fetch-site");
  if (site !== undefined && site !== "same-origin") throw new AppError("CSRF_REJECTED", "a refresh with the session cookie must come from this site");
  const origin = headerValue(req, "origin");
  if (origin !== undefined && origin !== `${req.protocol}://${req.host}`) {
    throw new AppError("CSRF_REJECTED", "a refresh with the session cookie must come from this origin");
  }
}

function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || hostname === "::1" || /^127(?:\.\d{1,3}){3}$/.test(hostname);
}

export interface SessionCookies {
  /** The service call's input for a session route: a cookie refresh sends the cookie's token. */
  input(step: SessionStep, req: FastifyRequest, input: unknown): unknown;
  /** Whether the answer to this call goes out with the token in the cookie rather than the body. */
  cookieMode(step: SessionStep, req: FastifyRequest): boolean;
  /** Puts a new token in the cookie and takes it out of the body. */
  issued(reply: FastifyReply, req: FastifyRequest, body: Record<string, unknown>): Record<string, unknown>;
  /** Removes the cookie: at logout, or when a cookie refresh was refused for good. */
  clear(reply: FastifyReply, req: FastifyRequest): void;
  /** Whether the request carries the session cookie. */
  present(req: FastifyRequest): boolean;
}

export function sessionCookies(opts: SessionCookieOptions): SessionCookies {
  const attributes = (req: FastifyRequest, maxAge: number) => ({
    httpOnly: true,
    // Browsers treat loopback as a secure context and keep Secure cookies from plain http there;
    // elsewhere plain http could not keep one at all, so only TLS (direct or proxied) gets it.
    secure: req.protocol === "https" || isLoopback(req.hostname),
    sameSite: "strict" as const,
    path: REFRESH_COOKIE_PATH,
    maxAge,
  });
  const bodyToken = (input: unknown): string | undefined =>
    isRecord(input) && typeof input["refreshToken"] === "string" ? input["refreshToken"] : undefined;

  return {
    cookieMode(step, req) {
      if (headerValue(req, SESSION_TRANSPORT_HEADER) === "cookie") return step !== "end";
      return step === "rotate" && bodyToken(req.body) === undefined;
    },
    input(step, req, input) {
      if (step !== "rotate" || bodyToken(input) !== undefined) return input;
      const token = cookieToken(req);
      if (!token) throw new AppError("UNAUTHENTICATED", "send the refresh token in the body, or sign in again");
      refuseCrossSite(req);
      return { refreshToken: token };
    },
    issued(reply, req, body) {
      const token = body["refreshToken"];
      if (typeof token !== "string") return body;
      reply.header("set-cookie", serializeCookie(REFRESH_COOKIE, token, attributes(req, opts.maxAgeSeconds)));
      const { refreshToken: _sent, ...rest } = body;
      return rest;
    },
    clear(reply, req) {
      reply.header("set-cookie", serializeCookie(REFRESH_COOKIE, "", attributes(req, 0)));
    },
    present(req) {
      return cookieToken(req) !== undefined;
    },
  };
}
