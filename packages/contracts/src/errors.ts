/**
 * Every error that crosses a service boundary carries one of these stable codes.
 * The HTTP status and the WebSocket close code are decided here and nowhere else,
 * so the gateway, the services and the clients agree on what a failure means.
 * WebSocket codes mirror HTTP statuses in the 4xxx range (the Hocuspocus convention).
 */
export const ErrorCodes = {
  VALIDATION_FAILED: { status: 400, close: 4400 },
  MALFORMED_JSON: { status: 400, close: 4400 },
  MALFORMED_UPDATE: { status: 400, close: 4400 },
  UNAUTHENTICATED: { status: 401, close: 4401 },
  INVALID_CREDENTIALS: { status: 401, close: 4401 },
  TOKEN_INVALID: { status: 401, close: 4401 },
  TOKEN_EXPIRED: { status: 401, close: 4401 },
  REFRESH_TOKEN_INVALID: { status: 401, close: 4401 },
  SESSION_REVOKED: { status: 401, close: 4401 },
  FORBIDDEN: { status: 403, close: 4403 },
  NOT_FOUND: { status: 404, close: 4404 },
  CONFLICT: { status: 409, close: 4409 },
  EMAIL_TAKEN: { status: 409, close: 4409 },
  PAYLOAD_TOO_LARGE: { status: 413, close: 1009 },
  /** The upload would take its uploader past their storage quota. */
  QUOTA_EXCEEDED: { status: 413, close: 4413 },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, close: 4415 },
  WEAK_PASSWORD: { status: 422, close: 4422 },
  RATE_LIMITED: { status: 429, close: 4429 },
  INTERNAL: { status: 500, close: 1011 },
  UNAVAILABLE: { status: 503, close: 1013 },
  TIMEOUT: { status: 504, close: 1013 },
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

/**
 * WebSocket close "Service Restart" (RFC 6455 registry): not an error of the client's, but "this
 * server is going away; connect again". y-websocket and the web app reconnect at once, and the
 * gateway then sends them to another replica.
 */
export const SERVICE_RESTART_CLOSE = 1012;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ErrorCodes, value);
}

export function httpStatusOf(code: ErrorCode): number {
  return ErrorCodes[code].status;
}

export function closeCodeOf(code: ErrorCode): number {
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
