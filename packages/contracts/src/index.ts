export {
  AppError,
  ErrorCodes,
  closeCodeOf,
  httpStatusOf,
  isErrorCode,
  toAppError,
  type ErrorBody,
  type ErrorCode,
} from "./errors.ts";
export { Streams, isSubjectSafeId, rpc, subjects, ServiceNames, type ServiceName, type StreamName } from "./subjects.ts";
export {
  DocKind,
  EventEnvelope,
  EventPayloads,
  Role,
  isEventType,
  payloadSchemaOf,
  type AnyDomainEvent,
  type DomainEvent,
  type EventPayload,
  type EventType,
} from "./events.ts";
export { EditHeaders, EventHeaders } from "./edits.ts";
export { isValid, parse, parseJson } from "./schema.ts";
export {
  AccessInput,
  CallerSchema,
  CreateDocBody,
  DocGetInput,
  DocIdParams,
  HistoryListInput,
  HistoryQuery,
  ListDocsQuery,
  LoginBody,
  LogoutBody,
  RefreshBody,
  RegisterBody,
  RpcRequestSchema,
  type AccessClaims,
  type AccessResult,
  type AuthResult,
  type UserView,
  type Caller,
  type DocView,
  type EditView,
  type Page,
  type ReadyResult,
  type RpcReply,
  type RpcRequest,
} from "./api.ts";
export { GENESIS_HASH, chainHash, type ChainedEdit } from "./edit-chain.ts";
export { revokedSessionKey } from "./revocation.ts";
