import { randomUUID } from "node:crypto";
import type { AuthResult, DocView } from "@palimpsest/contracts";

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

/** A thin REST client for tests: what a real client sends, what it gets back. */
export class TestApi {
  constructor(
    readonly baseUrl: string,
    readonly token?: string,
  ) {}

  withToken(token: string): TestApi {
    return new TestApi(this.baseUrl, token);
  }

  async call<T = unknown>(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
    const send = () =>
      fetch(`${this.baseUrl}${url}`, {
        method,
        headers: {
          ...(body === undefined ? {} : { "content-type": "application/json" }),
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
          ...headers,
        },
        ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
      });
    let res: Response;
    try {
      res = await send();
    } catch (err) {
      // A kept-alive connection the server closed while this process was busy is only noticed on
      // use; like a browser, send a request that changes nothing once more, on a new connection.
      const code = (err as { cause?: { code?: string } }).cause?.code;
      if ((method !== "GET" && method !== "HEAD") || (code !== "UND_ERR_SOCKET" && code !== "ECONNRESET")) throw err;
      res = await send();
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  get<T = unknown>(url: string) {
    return this.call<T>("GET", url);
  }

  post<T = unknown>(url: string, body?: unknown) {
    return this.call<T>("POST", url, body ?? {});
  }

  /** Registers a fresh user and returns a client signed in as them. */
  async newUser(name = "Test User"): Promise<{ api: TestApi; auth: AuthResult }> {
    const email = `u-${randomUUID()}@example.test`;
    const res = await this.post<AuthResult>("/api/auth/register", { email, password: "correct horse battery staple", name });
    if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
    return { api: this.withToken(res.body.accessToken), auth: res.body };
  }

  async createDoc(title = "A document", kind: "text" | "board" = "text"): Promise<DocView> {
    const res = await this.post<DocView>("/api/docs", { title, kind });
    if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }
}
