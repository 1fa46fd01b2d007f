// The one place that talks fetch(): turns every failure into an ApiError carrying the
// server's message, so screens can show it verbatim.

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

export type HttpMethod = "GET" | "POST" | "PATCH" | "PUT" | "DELETE";

export interface HttpRequest {
  method: HttpMethod;
  path: string;
  body?: unknown;
  accessToken?: string | null;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

const FALLBACK_MESSAGES: Record<number, string> = {
  400: "The request was not valid.",
  401: "You need to sign in.",
  403: "You don't have access to this.",
  404: "Not found.",
  409: "That conflicts with something that already exists.",
  413: "That is too large.",
  429: "Too many requests. Please wait a moment and try again.",
  500: "Something went wrong on the server.",
  502: "The server is not reachable right now.",
  503: "The service is starting or unavailable. Please try again shortly.",
  504: "The server took too long to answer.",
};

/**
 * The services' messages are written for logs and API clients ("email or password is incorrect");
 * on a screen they read as sentences: a capital first letter and a full stop.
 */
export function asSentence(message: string): string {
  const text = message.trim();
  if (text === "") return text;
  const capitalised = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?…)]$/.test(capitalised) ? capitalised : `${capitalised}.`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/** A failed answer as an ApiError with the server's code and message. */
export async function errorFrom(response: Response): Promise<ApiError> {
  let code = `HTTP_${response.status}`;
  let message = FALLBACK_MESSAGES[response.status] ?? `Request failed (${response.status}).`;
  try {
    const body: unknown = await response.json();
    if (isRecord(body) && isRecord(body.error)) {
      if (typeof body.error.code === "string") code = body.error.code;
      if (typeof body.error.message === "string" && body.error.message !== "") message = asSentence(body.error.message);
    }
  } catch {
    // Not JSON (a proxy error page, say): the fallback message is the best we can do.
  }
  return new ApiError(response.status, code, message);
}

export async function sendJson<T>({ method, path, body, accessToken, headers: extra, signal }: HttpRequest): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json", ...extra };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (accessToken) headers.Authorization = `Bearer ${accessToken}`;

  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") throw err;
    throw new ApiError(0, "NETWORK", "Can't reach the server. Check your connection and try again.");
  }

  if (!response.ok) throw await errorFrom(response);
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  return (text === "" ? undefined : JSON.parse(text)) as T;
}

export function isAbortError(err: unknown): boolean {
  return err instanceof DOMException && err.name === "AbortError";
}
