/**
 * Every code a /collab WebSocket can be closed with, by the sync service or the gateway, and
 * what the web client decides its reconnects by. Standard codes (RFC 6455 registry) where one
 * fits; otherwise 4000 + the HTTP status of the same failure, the Hocuspocus convention, so a
 * close reads like the REST answer to the same request.
 */
export const CloseCodes = {
  /** "Going Away": the connection sent nothing for too long (SYNC_IDLE_TIMEOUT_MS); a live client reconnects. */
  goingAway: 1001,
  /** A message above the server's size limit (ws sends it itself, from maxPayload). */
  messageTooBig: 1009,
  /** The server failed, for example storing an update; the client reconnects and sends it again. */
  internalError: 1011,
  /** "Service Restart": not the client's fault; connect again and the gateway picks a live replica. */
  serviceRestart: 1012,
  /** "Try Again Later": the document or the service is busy or unavailable for now. */
  tryAgainLater: 1013,
  badRequest: 4400,
  unauthenticated: 4401,
  forbidden: 4403,
  notFound: 4404,
  conflict: 4409,
  quotaExceeded: 4413,
  unsupportedMediaType: 4415,
  unprocessable: 4422,
  rateLimited: 4429,
} as const;

export type CloseCode = (typeof CloseCodes)[keyof typeof CloseCodes];

/**
 * A refusal of the client's own (the close mirrors an HTTP 4xx): connecting again as it is gets
 * the same answer, unlike the 1xxx codes, which ask for a reconnect.
 */
export function isRefusalClose(code: number): boolean {
  return code >= 4400 && code < 4500;
}

/**
 * Whether a close frame may carry the code (RFC 6455 section 7.4): 1004, 1005, 1006 and 1015 are
 * never sent, 1016-2999 are unassigned and the rest is out of range. `ws` throws on any other, so
 * a code that came from elsewhere (a client, a replica) is checked with this before it is sent.
 */
export function closeFrameMayCarry(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

/**
 * Every error that crosses a service boundary carries one of these stable codes.
 * The HTTP status and the WebSocket close code are decided here and nowhere else,
 * so the gateway, the services and the clients agree on what a failure means.
 */
export const ErrorCodes = {
  VALIDATION_FAILED: { status: 400, close: CloseCodes.badRequest },
  MALFORMED_JSON: { status: 400, close: CloseCodes.badRequest },
  MALFORMED_UPDATE: { status: 400, close: CloseCodes.badRequest },
  /** An emailed registration link that was used, has expired, or never existed. */
  REGISTRATION_LINK_INVALID: { status: 400, close: CloseCodes.badRequest },
  UNAUTHENTICATED: { status: 401, close: CloseCodes.unauthenticated },
  INVALID_CREDENTIALS: { status: 401, close: CloseCodes.unauthenticated },
  TOKEN_INVALID: { status: 401, close: CloseCodes.unauthenticated },
  TOKEN_EXPIRED: { status: 401, close: CloseCodes.unauthenticated },
  REFRESH_TOKEN_INVALID: { status: 401, close: CloseCodes.unauthenticated },
  SESSION_REVOKED: { status: 401, close: CloseCodes.unauthenticated },
  FORBIDDEN: { status: 403, close: CloseCodes.forbidden },
  /** The call is about the account itself (its tokens, sessions, password) or a document's management: a person signed in makes it, not an API token. */
  API_TOKEN_NOT_ALLOWED: { status: 403, close: CloseCodes.forbidden },
  /** A cookie-authenticated call without the anti-forgery header, or from another site. */
  CSRF_REJECTED: { status: 403, close: CloseCodes.forbidden },
  NOT_FOUND: { status: 404, close: CloseCodes.notFound },
  CONFLICT: { status: 409, close: CloseCodes.conflict },
  EMAIL_TAKEN: { status: 409, close: CloseCodes.conflict },
  PAYLOAD_TOO_LARGE: { status: 413, close: CloseCodes.messageTooBig },
  /** The upload would take its uploader past their storage quota. */
  QUOTA_EXCEEDED: { status: 413, close: CloseCodes.quotaExceeded },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, close: CloseCodes.unsupportedMediaType },
  WEAK_PASSWORD: { status: 422, close: CloseCodes.unprocessable },
  /** A diff whose range would cost more than the service allows: the caller should choose a smaller range. */
  DIFF_TOO_LARGE: { status: 422, close: CloseCodes.unprocessable },
  /** A document update nesting types deeper than the sync service allows (readers' recursion would overflow). */
  UPDATE_TOO_DEEP: { status: 422, close: CloseCodes.unprocessable },
  /** A webhook URL pointing where the service does not send: a private, loopback or otherwise internal address (SSRF), or a name that does not resolve. */
  WEBHOOK_TARGET_REFUSED: { status: 422, close: CloseCodes.unprocessable },
  /** The document already has as many webhooks as it may (MAX_WEBHOOKS_PER_DOC). */
  WEBHOOK_LIMIT_REACHED: { status: 422, close: CloseCodes.unprocessable },
  /** A document update building on changes the server does not have: it could never be applied. */
  RATE_LIMITED: { status: 429, close: CloseCodes.rateLimited },
  INTERNAL: { status: 500, close: CloseCodes.internalError },
  UNAVAILABLE: { status: 503, close: CloseCodes.tryAgainLater },
  TIMEOUT: { status: 504, close: CloseCodes.tryAgainLater },
} as const satisfies Record<string, { status: number; close: CloseCode }>;

export type ErrorCode = keyof typeof ErrorCodes;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ErrorCodes, value);
}

export function httpStatusOf(code: ErrorCode): number {
  return ErrorCodes[code].status;
}

export function closeCodeOf(code: ErrorCode): CloseCode {
  return ErrorCodes[code].close;
}

/** The JSON body of every failed REST call: `{"error": {"code", "message"}}`. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

/**
 * An expected failure with a stable code. Anything thrown that is not an AppError
 * is an internal error and is reported as INTERNAL without its message.
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AppError";
    this.code = code;
    this.details = options?.details;
  }

  get status(): number {
    return httpStatusOf(this.code);
  }

  toBody(): ErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}

export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  return new AppError("INTERNAL", "internal error", { cause: err });
}
