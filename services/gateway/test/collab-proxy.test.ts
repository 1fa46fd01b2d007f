import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { Registry } from "prom-client";
import { CloseCodes } from "@palimpsest/contracts";
import { createLogger, type TokenVerifier, type VerifiedToken } from "@palimpsest/platform";
import { CollabProxy } from "../src/collab-proxy.ts";
import { staticUpstreams } from "../src/upstreams.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

/** The close code a client gets for one connection attempt. */
function closeCodeOf(url: string): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.on("close", (code) => resolve(code));
    ws.on("error", () => undefined);
  });
}

describe("the gateway's /collab relay when the sync replicas are busy", () => {
  it("given a replica that answered 503, when another client comes within a second, then it is told to come back later without its token being checked or the replica dialled", async () => {
    // Given one sync replica that turns every connection away, as one opening its most at once does
    let dialled = 0;
    const replica = net.createServer((socket) => {
      dialled++;
      socket.once("data", () => socket.end("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"));
    });
    const replicaPort = await listen(replica);
    let verified = 0;
    const verifier = {
      verify: async (): Promise<VerifiedToken> => {
        verified++;
        return { userId: "u1", sessionId: "s1", name: "Ann", issuedAt: Math.floor(Date.now() / 1000), expiresAt: Math.floor(Date.now() / 1000) + 600 } as VerifiedToken;
      },
    } as unknown as TokenVerifier;
    const proxy = new CollabProxy({
      sync: staticUpstreams([`ws://127.0.0.1:${replicaPort}`]),
      verifier,
      log: createLogger("gateway", "silent", "gateway-test"),
      registry: new Registry(),
      maxBufferedBytes: 1024 * 1024,
      admit: async () => undefined,
    });
    const gateway = http.createServer();
    gateway.on("upgrade", (req, socket, head) => proxy.handleUpgrade(req, socket, head));
    const url = `ws://127.0.0.1:${await listen(gateway)}/collab/doc-1?token=t`;

    // When a first client comes, it is checked, the replica is tried, and the client is told to come back (1013)
    expect(await closeCodeOf(url)).toBe(CloseCodes.tryAgainLater);
    expect([verified, dialled]).toEqual([1, 1]);

    // Then the next ones, within the second, are told the same at once
    expect(await closeCodeOf(url)).toBe(CloseCodes.tryAgainLater);
    expect(await closeCodeOf(url)).toBe(CloseCodes.tryAgainLater);
    expect([verified, dialled]).toEqual([1, 1]);
    await proxy.close();
  });
});
