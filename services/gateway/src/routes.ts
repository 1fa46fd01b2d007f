import type { TSchema } from "@sinclair/typebox";
import {
  CreateDocBody,
  DocIdParams,
  HistoryQuery,
  ListDocsQuery,
  LoginBody,
  LogoutBody,
  RefreshBody,
  RegisterBody,
  rpc,
} from "@palimpsest/contracts";

export interface RouteRequest {
  params: Record<string, unknown>;
  query: Record<string, unknown>;
  body: unknown;
}

/**
 * The public REST API, each route mapped to the service call behind it. The gateway validates
 * what it can (schemas), authenticates (`auth: true`), and forwards the input; the service
 * validates again and decides.
 */
export interface ApiRoute {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  url: string;
  subject: string;
  auth: boolean;
  summary: string;
  schema: { body?: TSchema; params?: TSchema; querystring?: TSchema };
  input(req: RouteRequest): unknown;
}

export const apiRoutes: ApiRoute[] = [
  {
    method: "POST", url: "/api/auth/register", subject: rpc.auth.register, auth: false, summary: "create an account and sign in",
    schema: { body: RegisterBody }, input: (r) => r.body,
  },
  {
    method: "POST", url: "/api/auth/login", subject: rpc.auth.login, auth: false, summary: "sign in",
    schema: { body: LoginBody }, input: (r) => r.body,
  },
  {
    method: "POST", url: "/api/auth/refresh", subject: rpc.auth.refresh, auth: false, summary: "exchange a refresh token for a new pair",
    schema: { body: RefreshBody }, input: (r) => r.body,
  },
  {
    method: "POST", url: "/api/auth/logout", subject: rpc.auth.logout, auth: true, summary: "end this session",
    schema: { body: LogoutBody }, input: (r) => r.body ?? {},
  },
  {
    method: "GET", url: "/api/auth/me", subject: rpc.auth.me, auth: true, summary: "the signed-in user",
    schema: {}, input: () => ({}),
  },
  {
    method: "POST", url: "/api/docs", subject: rpc.docs.create, auth: true, summary: "create a document or board",
    schema: { body: CreateDocBody }, input: (r) => r.body,
  },
  {
    method: "GET", url: "/api/docs", subject: rpc.docs.list, auth: true, summary: "documents I own or that are shared with me",
    schema: { querystring: ListDocsQuery }, input: (r) => r.query,
  },
  {
    method: "GET", url: "/api/docs/:id", subject: rpc.docs.get, auth: true, summary: "one document with my role",
    schema: { params: DocIdParams }, input: (r) => ({ id: r.params["id"] }),
  },
  {
    method: "GET", url: "/api/docs/:id/history", subject: rpc.history.list, auth: true, summary: "the document's edit events",
    schema: { params: DocIdParams, querystring: HistoryQuery }, input: (r) => ({ ...r.query, id: r.params["id"] }),
  },
];
