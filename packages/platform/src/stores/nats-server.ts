import fs from "node:fs";
import path from "node:path";
import { ManagedProcess, waitUntil } from "./managed-process.ts";
import { requireBinary } from "./binaries.ts";

export interface NatsServerOptions {
  dataDir: string;
  port: number;
  monitorPort: number;
  logFile: string;
}

export async function startNatsServer(opts: NatsServerOptions): Promise<{ url: string; process: ManagedProcess }> {
  const storeDir = path.join(opts.dataDir, "jetstream");
  fs.mkdirSync(storeDir, { recursive: true });
  const conf = path.join(opts.dataDir, "nats.conf");
  fs.writeFileSync(
    conf,
    [
      `listen: "127.0.0.1:${opts.port}"`,
      `http: "127.0.0.1:${opts.monitorPort}"`,
      "server_name: palimpsest-local",
      // A large paste makes a large Yjs update; the services enforce their own, smaller limits.
      "max_payload: 8MB",
      "jetstream {",
      `  store_dir: ${JSON.stringify(storeDir)}`,
      "  max_memory_store: 256MB",
      "  max_file_store: 20GB",
      "}",
      "",
    ].join("\n"),
  );
  const proc = new ManagedProcess({
    name: "nats-server",
    command: requireBinary("nats-server"),
    args: ["-c", conf],
    logFile: opts.logFile,
  });
  await waitUntil(
    "nats-server",
    async () => {
      const res = await fetch(`http://127.0.0.1:${opts.monitorPort}/healthz`);
      return res.ok;
    },
    { process: proc },
  );
  return { url: `nats://127.0.0.1:${opts.port}`, process: proc };
}
