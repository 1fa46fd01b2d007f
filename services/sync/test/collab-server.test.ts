import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import type { NatsConnection } from "@nats-io/transport-node";
import { AppError, CloseCodes } from "@palimpsest/contracts";
import { createLogger, createMetrics, type TokenVerifier } from "@palimpsest/platform";
import { CollabServer } from "../src/collab-server.ts";
import { loadSyncConfig } from "../src/config.ts";
import type { RoomRegistry } from "../src/room-registry.ts";
import { createSyncMetrics } from "../src/sync-metrics.ts";

/** How a connection attempt ended: the handshake refused with a status, or opened and later closed with a code. */
function attempt(url: string): Promise<{ status?: number; closeCode?: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.on("unexpected-response", (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      ws.terminate();
    });
    ws.on("close", (code) => resolve({ closeCode: code }));
    ws.on("error", () => undefined);
  });
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe("opening /collab connections", () => {
  it("given as many connections being authorized as the replica works on at once, when one more comes, then it is answered 503 before the handshake, and one is taken again once they are done", async () => {
    // Given a replica that works on two opens at once, whose token checks wait until released
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let verifying = 0;
    const verifier = {
      verify: async () => {
        verifying++;
        await held;
        throw new AppError("TOKEN_INVALID", "not a token");
      },
    } as unknown as TokenVerifier;
    const metrics = createSyncMetrics(createMetrics("sync"));
    const collab = new CollabServer({
      config: loadSyncConfig({ SYNC_MAX_OPENING: "2" }),
      nc: {} as NatsConnection,
      verifier,
      rooms: {} as RoomRegistry,
      log: createLogger("sync", "silent", "sync-test"),
      metrics,
    });
    const server = http.createServer();
    server.on("upgrade", (req, socket, head) => collab.handleUpgrade(req, socket, head));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanups.push(async () => {
      await collab.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/collab/doc-1?token=t`;
    const opening = [attempt(url), attempt(url)];
    await vi.waitFor(() => expect(verifying).toBe(2));

    // When a third comes while both are still being authorized
    const third = await attempt(url);

    // Then it is turned away before any work, and counted
    expect(third).toEqual({ status: 503 });
    expect((await metrics.shedOpens.get()).values[0]?.value).toBe(1);

    // And once the two are answered (here refused: 4401), a new one is worked on again
    release();
    expect(await Promise.all(opening)).toEqual([{ closeCode: CloseCodes.unauthenticated }, { closeCode: CloseCodes.unauthenticated }]);
    expect(await attempt(url)).toEqual({ closeCode: CloseCodes.unauthenticated });
  });
});
