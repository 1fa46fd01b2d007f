import { Type, type Static } from "@sinclair/typebox";
import { DocKind, Role } from "./events.ts";
import type { ErrorBody } from "./errors.ts";

/**
 * Request and response shapes of the public REST API (see DESIGN.md) and of the NATS
 * request/reply calls behind it. The gateway validates REST bodies with these schemas;
 * each service validates the RPC input again at its own edge.
 */
const Id = Type.String({ pattern: "^[A-Za-z0-9_-]{1,64}$" });

export const RegisterBody = Type.Object(
  {
    email: Type.String({ minLength: 3, maxLength: 320 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
    name: Type.String({ minLength: 1, maxLength: 100 }),
  },
  { additionalProperties: false },
);
export type RegisterBody = Static<typeof RegisterBody>;

export const LoginBody = Type.Object(
  {
    email: Type.String({ minLength: 1, maxLength: 320 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);
export type LoginBody = Static<typeof LoginBody>;

export const RefreshBody = Type.Object(
  { refreshToken: Type.String({ minLength: 16, maxLength: 256 }) },
  { additionalProperties: false },
);
export type RefreshBody = Static<typeof RefreshBody>;

export const LogoutBody = Type.Object(
  { refreshToken: Type.Optional(Type.String({ minLength: 16, maxLength: 256 })) },
  { additionalProperties: false },
);
export type LogoutBody = Static<typeof LogoutBody>;

export const CreateDocBody = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 200 }),
    kind: Type.Optional(DocKind),
  },
  { additionalProperties: false },
);
export type CreateDocBody = Static<typeof CreateDocBody>;

export const ListDocsQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
    q: Type.Optional(Type.String({ maxLength: 200 })),
    /** `true` lists my documents in the trash instead. */
    trashed: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type ListDocsQuery = Static<typeof ListDocsQuery>;

export const HistoryQuery = Type.Object(
  {
    after: Type.Optional(Type.Integer({ minimum: 0 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false },
);
export type HistoryQuery = Static<typeof HistoryQuery>;

export const DocIdParams = Type.Object({ id: Id }, { additionalProperties: false });
export const MemberParams = Type.Object({ id: Id, userId: Id }, { additionalProperties: false });

export const RenameDocBody = Type.Object({ title: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });
export const ShareBody = Type.Object(
  { email: Type.String({ minLength: 3, maxLength: 320 }), role: Role },
  { additionalProperties: false },
);
export const InvitationBody = Type.Object({ email: Type.String({ minLength: 3, maxLength: 320 }) }, { additionalProperties: false });
export const RoleBody = Type.Object({ role: Role }, { additionalProperties: false });
export const TransferBody = Type.Object({ userId: Id }, { additionalProperties: false });
export const EmptyBody = Type.Object({}, { additionalProperties: false });

/**
 * Input of every document command over RPC: the route's params and body, plus what the
 * gateway adds: an idempotency key (retries store once) and an expected version (If-Match).
 */
export const DocCommandInput = Type.Object(
  {
    id: Id,
    userId: Type.Optional(Id),
    body: Type.Optional(Type.Unknown()),
    idempotencyKey: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    expectedVersion: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);
export type DocCommandInput = Static<typeof DocCommandInput>;
export const CreateDocInput = Type.Object(
  { body: Type.Unknown(), idempotencyKey: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) },
  { additionalProperties: false },
);

export interface MemberView {
  userId: string;
  email: string;
  name: string;
  role: Static<typeof Role>;
}

export interface MembersView {
  members: MemberView[];
  invitations: { email: string; role: Static<typeof Role> }[];
}

export interface ActivityItem {
  at: string;
  /** Who acted (for an editing session, who edited). */
  userId: string | null;
  type: string;
  data?: Record<string, unknown>;
  /** Editing sessions: consecutive edits of one person summarised. */
  session?: { from: string; to: string; edits: number };
}

export interface UserView {
  id: string;
  email: string;
  name: string;
}

export interface AuthResult {
  user: UserView;
  accessToken: string;
  refreshToken: string;
}

export interface DocView {
  id: string;
  title: string;
  kind: Static<typeof DocKind>;
  role: Static<typeof Role>;
  ownerId: string;
  createdAt: string;
  /** Last change to the document: its content or its metadata. */
  updatedAt: string;
  trashed: boolean;
  /** The aggregate's version, for `If-Match`. */
  version: number;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface EditView {
  /** The document's version: 1 for its first edit, counted per document. */
  seq: number;
  /** Position in the EDITS stream, the global order of all edits. */
  streamSeq: number;
  at: string;
  userId: string;
  clientId: string;
  size: number;
}

/* ---- NATS request/reply envelope ---- */

/** Who is calling, as established by the gateway from a verified access token. */
export const CallerSchema = Type.Object({
  userId: Id,
  sessionId: Id,
});
export type Caller = Static<typeof CallerSchema>;

export const RpcRequestSchema = Type.Object({
  requestId: Type.String({ minLength: 1, maxLength: 128 }),
  caller: Type.Optional(CallerSchema),
  input: Type.Unknown(),
});
export type RpcRequest = Static<typeof RpcRequestSchema>;

export type RpcReply =
  | { ok: true; status: number; body: unknown }
  | ({ ok: false } & ErrorBody);

export const AccessInput = Type.Object({ docId: Id, userId: Id }, { additionalProperties: false });
export type AccessInput = Static<typeof AccessInput>;
export interface AccessResult {
  role: Static<typeof Role> | null;
  kind: Static<typeof DocKind> | null;
}

export const DocGetInput = Type.Object({ id: Id }, { additionalProperties: false });
export const HistoryListInput = Type.Object(
  { id: Id, after: Type.Optional(Type.Integer({ minimum: 0 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) },
  { additionalProperties: false },
);
export type HistoryListInput = Static<typeof HistoryListInput>;

export interface ReadyResult {
  service: string;
  ready: boolean;
  checks: Record<string, boolean>;
}

/** Access-token claims beyond the registered ones. */
export interface AccessClaims {
  sub: string;
  sid: string;
  name: string;
}
