/**
 * Clients held in child processes (bench/connection-worker.ts), for runs with more connections
 * than one process may hold descriptors: the parent hands each worker its share and asks them
 * all how many clients are synced at a moment.
 */
import { fork, type ChildProcess } from "node:child_process";
import { tsxLoader } from "./sync-clients.ts";

export interface WorkerClient {
  kind: "ours" | "hocuspocus";
  url: string;
  room: string;
  token?: string;
}

export type WorkerRequest = { op: "open"; clients: WorkerClient[]; concurrency: number } | { op: "count" } | { op: "close" };
export type WorkerReply =
  | { op: "opened"; ms: number; failed: number }
  | { op: "count"; synced: number; total: number; closes: Record<string, number> }
  | { op: "closed" }
  | { op: "error"; message: string };

/** Most clients one worker holds: two descriptors each would already pass the limit at 10,000. */
export const CLIENTS_PER_WORKER = 5_000;

export class ClientWorkers {
  private constructor(private readonly children: ChildProcess[]) {}

  static start(count: number): ClientWorkers {
    const children = Array.from({ length: count }, () =>
      fork(new URL("./connection-worker.ts", import.meta.url).pathname, [], { execArgv: ["--import", tsxLoader], stdio: ["ignore", "inherit", "inherit", "ipc"] }),
    );
    return new ClientWorkers(children);
  }

  get size(): number {
    return this.children.length;
  }

  /** Opens the clients, spread over the workers in turn; resolves once each worker has opened its share. */
  async open(clients: WorkerClient[], concurrencyEach: number, timeoutMs: number): Promise<{ ms: number; failed: number }> {
    const shares = this.children.map((_, i) => clients.filter((_, j) => j % this.children.length === i));
    const started = performance.now();
    const answers = await Promise.all(this.children.map((child, i) => this.ask(child, { op: "open", clients: shares[i]!, concurrency: concurrencyEach }, "opened", timeoutMs)));
    return { ms: performance.now() - started, failed: answers.reduce((n, a) => n + (a.op === "opened" ? a.failed : 0), 0) };
  }

  /** How many of all the clients are connected and synced now, and the close codes they have seen so far. */
  async synced(): Promise<{ synced: number; total: number; closes: Map<string, number> }> {
    const answers = await Promise.all(this.children.map((child) => this.ask(child, { op: "count" }, "count", 10_000)));
    const closes = new Map<string, number>();
    let synced = 0;
    let total = 0;
    for (const a of answers) {
      if (a.op !== "count") continue;
      synced += a.synced;
      total += a.total;
      for (const [code, n] of Object.entries(a.closes)) closes.set(code, (closes.get(code) ?? 0) + n);
    }
    return { synced, total, closes };
  }

  /** Closes every client and ends the workers. */
  async close(): Promise<void> {
    await Promise.all(this.children.map((child) => this.ask(child, { op: "close" }, "closed", 30_000).catch(() => undefined)));
    for (const child of this.children) if (child.exitCode === null) child.kill("SIGKILL");
  }

  private ask(child: ChildProcess, request: WorkerRequest, answer: WorkerReply["op"], timeoutMs: number): Promise<WorkerReply> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.off("message", onMessage);
        reject(new Error(`a client worker did not answer "${request.op}" within ${timeoutMs} ms`));
      }, timeoutMs);
      const onMessage = (raw: unknown) => {
        const reply = raw as WorkerReply;
        if (reply.op !== answer && reply.op !== "error") return;
        clearTimeout(timer);
        child.off("message", onMessage);
        if (reply.op === "error") reject(new Error(`client worker: ${reply.message}`));
        else resolve(reply);
      };
      child.on("message", onMessage);
      child.send(request);
    });
  }
}
