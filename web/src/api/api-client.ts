// Typed calls to the REST API. Authorised calls carry the access token and, on a 401,
// rotate the tokens once and retry; if that fails the session ends and the app shows the
// sign-in screen with an explanation.

import { endSession, freshAccessToken, refreshSession, SESSION_EXPIRED_MESSAGE } from "../auth/session";
import { ApiError, sendJson } from "./http";
import type { HttpRequest } from "./http";
import type { AuthResponse, DocKind, DocSummary, HistoryEvent, Page, User } from "./types";

type AuthorizedRequest = Omit<HttpRequest, "accessToken">;

async function authorized<T>(request: AuthorizedRequest): Promise<T> {
  const token = await freshAccessToken();
  if (!token) throw new ApiError(401, "UNAUTHENTICATED", "Please sign in.");
  try {
    return await sendJson<T>({ ...request, accessToken: token });
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) throw err;
  }

  const rotated = await refreshSession(token);
  if (!rotated) throw new ApiError(401, "SESSION_EXPIRED", SESSION_EXPIRED_MESSAGE);
  try {
    return await sendJson<T>({ ...request, accessToken: rotated });
  } catch (err) {
    // A brand-new token was refused too: the session is unusable, so start over cleanly.
    if (err instanceof ApiError && err.status === 401) {
      endSession(SESSION_EXPIRED_MESSAGE);
      throw new ApiError(401, "SESSION_EXPIRED", SESSION_EXPIRED_MESSAGE);
    }
    throw err;
  }
}

function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text === "" ? "" : `?${text}`;
}

const docPath = (id: string): string => `/api/docs/${encodeURIComponent(id)}`;

export interface ListDocsParams {
  q?: string;
  limit?: number;
  cursor?: string | null;
}

export interface HistoryParams {
  after?: number;
  limit?: number;
}

export const api = {
  auth: {
    register: (input: { email: string; password: string; name: string }): Promise<AuthResponse> =>
      sendJson({ method: "POST", path: "/api/auth/register", body: input }),

    login: (input: { email: string; password: string }): Promise<AuthResponse> =>
      sendJson({ method: "POST", path: "/api/auth/login", body: input }),

    logout: (refreshToken: string): Promise<void> =>
      authorized({ method: "POST", path: "/api/auth/logout", body: { refreshToken } }),

    me: (signal?: AbortSignal): Promise<{ user: User }> =>
      authorized({ method: "GET", path: "/api/auth/me", signal }),
  },

  docs: {
    create: (input: { title: string; kind?: DocKind }): Promise<DocSummary> =>
      authorized({ method: "POST", path: "/api/docs", body: input }),

    list: (params: ListDocsParams = {}, signal?: AbortSignal): Promise<Page<DocSummary>> =>
      authorized({ method: "GET", path: `/api/docs${query({ ...params })}`, signal }),

    get: (id: string, signal?: AbortSignal): Promise<DocSummary> =>
      authorized({ method: "GET", path: docPath(id), signal }),

    history: (id: string, params: HistoryParams = {}, signal?: AbortSignal): Promise<Page<HistoryEvent>> =>
      authorized({ method: "GET", path: `${docPath(id)}/history${query({ ...params })}`, signal }),
  },
};
