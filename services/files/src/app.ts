import type { FastifyInstance } from "fastify";
import type { NatsConnection } from "@nats-io/transport-node";
import type { S3Client } from "@aws-sdk/client-s3";
import { createServiceShell, natsReady, s3Ready, type Logger, type Metrics } from "@palimpsest/platform";
import type { FilesConfig } from "./config.ts";

export interface FilesDeps {
  config: FilesConfig;
  nc: NatsConnection;
  s3: S3Client;
  log: Logger;
  metrics: Metrics;
}

export interface FilesApp {
  http: FastifyInstance;
  close(): Promise<void>;
}

/** The files service: owns the object store. Uploads and downloads arrive with the files feature. */
export async function buildFilesApp(deps: FilesDeps): Promise<FilesApp> {
  const { config, nc, s3, log, metrics } = deps;
  const checks = { nats: () => natsReady(nc), s3: () => s3Ready(s3, config.s3Bucket) };
  const shell = createServiceShell({ service: "files", nc, log, metrics, checks });
  const http = shell.http;
  return {
    http,
    async close() {
      shell.beginShutdown();
      await shell.close();
    },
  };
}
