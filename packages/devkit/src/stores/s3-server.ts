import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { ManagedProcess, waitUntil } from "./managed-process.ts";

export interface S3ServerOptions {
  dataDir: string;
  port: number;
  bucket: string;
  logFile: string;
  /** A key pair the store accepts besides its built-in one. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** The tsx loader, so child processes run our TypeScript sources directly. */
export const tsxLoader = pathToFileURL(
  path.join(path.dirname(createRequire(import.meta.url).resolve("tsx/package.json")), "dist", "loader.mjs"),
).href;

export async function startS3Server(opts: S3ServerOptions): Promise<{ endpoint: string; process: ManagedProcess }> {
  fs.mkdirSync(opts.dataDir, { recursive: true });
  const proc = new ManagedProcess({
    name: "s3rver",
    command: process.execPath,
    args: ["--import", tsxLoader, fileURLToPath(new URL("./s3-server-main.ts", import.meta.url)), String(opts.port), opts.dataDir, opts.bucket, ...(opts.credentials ? [opts.credentials.accessKeyId, opts.credentials.secretAccessKey] : [])],
    logFile: opts.logFile,
  });
  await waitUntil(
    "s3rver",
    async () => {
      const res = await fetch(`http://127.0.0.1:${opts.port}/`);
      return res.status < 500;
    },
    { process: proc },
  );
  return { endpoint: `http://127.0.0.1:${opts.port}`, process: proc };
}
