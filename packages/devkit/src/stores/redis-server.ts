import fs from "node:fs";
import net from "node:net";
import { ManagedProcess, waitUntil } from "./managed-process.ts";
import { requireBinary } from "./binaries.ts";

export interface RedisServerOptions {
  dataDir: string;
  port: number;
  logFile: string;
  /** Append-only persistence for local runs; tests need none. */
  persist: boolean;
}

async function pingRedis(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host: "127.0.0.1" });
    sock.setTimeout(1_000, () => {
      sock.destroy();
      resolve(false);
    });
    sock.once("connect", () => sock.write("PING\r\n"));
    sock.once("data", (d) => {
      sock.destroy();
      resolve(d.toString().startsWith("+PONG"));
    });
    sock.once("error", () => resolve(false));
  });
}

export async function startRedisServer(opts: RedisServerOptions): Promise<{ url: string; process: ManagedProcess }> {
  fs.mkdirSync(opts.dataDir, { recursive: true });
  const proc = new ManagedProcess({
    name: "redis-server",
    command: requireBinary("redis-server"),
    args: [
      "--port", String(opts.port),
      "--bind", "127.0.0.1",
      "--dir", opts.dataDir,
      "--save", "",
      "--appendonly", opts.persist ? "yes" : "no",
      "--daemonize", "no",
    ],
    logFile: opts.logFile,
  });
  await waitUntil("redis-server", () => pingRedis(opts.port), { process: proc });
  return { url: `redis://127.0.0.1:${opts.port}`, process: proc };
}
