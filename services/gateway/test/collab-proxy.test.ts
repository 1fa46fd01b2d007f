import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { Registry } from "prom-client";
import { MuxKind } from "@palimpsest/contracts";
import { createLogger, type TokenVerifier, type VerifiedToken } from "@palimpsest/platform";
import { CollabProxy } from "../src/collab-proxy.ts";
import { staticUpstreams } from "../src/upstreams.ts";
import { scriptedReplica } from "./scripted-replica.ts";

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** A gateway's /collab in front of `syncUrl`, taking any token as the user u-1's. */
async function gateway(syncUrl: string) {
  const verifier = { verify: async () => ({ userId: "u-1", sessionId: "s-1", issuedAt: 0 }) as unknown as VerifiedToken } as unknown as TokenVerifier;
  const registry = new Registry();
  const proxy = new CollabProxy({ sync: staticUpstreams([syncUrl]), verifier, log: createLogger("gateway", "silent", "gateway-test"), registry, maxBufferedBytes: 1 << 20, admit: async () => undefined });
  const server = http.createServer();
  server.on("upgrade", (req, socket, head) => proxy.handleUpgrade(req, socket, head));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(async () => {
    await proxy.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`, registry };
}

describe("/collab at the gateway", () => {
  it("given every replica opening as many connections as it will, when a client comes, then it waits and is taken once a replica has room, instead of being sent away (1013)", async () => {
    // Given a replica that is busy for the first three opens
    let opens = 0;
    const replica = await scriptedReplica(cleanups, () => (++opens <= 3 ? "busy" : "accept"));
    const gw = await gateway(replica.url);

    // When a client connects
    const client = new WebSocket(`${gw.url}/collab/doc-1?token=t`);
    const received: Buffer[] = [];
    client.on("message", (m: Buffer) => received.push(m));
    const closed: number[] = [];
    client.on("close", (code) => closed.push(code));
    await new Promise<void>((resolve, reject) => {
      client.once("open", () => resolve());
      client.once("error", reject);
    });

    // Then it was taken on the fourth ask, and speaks to the replica through the gateway
    expect(opens).toBe(4);
    const stream = replica.channels[0]!.frames.at(-1)!.stream;
    replica.send(0, { kind: MuxKind.data, stream, data: new Uint8Array([0, 0, 1, 0]) });
    await vi.waitFor(() => expect(received.map((m) => [...m])).toEqual([[0, 0, 1, 0]]));
    client.send(new Uint8Array([1, 2, 3]));
    await vi.waitFor(() => expect(replica.channels[0]!.frames.at(-1)).toEqual({ kind: MuxKind.data, stream, data: new Uint8Array([1, 2, 3]) }));
    expect(closed).toEqual([]);
    expect((await gw.registry.getSingleMetric("gateway_collab_busy_waits_total")!.get()).values[0]?.value).toBe(3);
    client.close();
  });

  it("given a replica that closes a client with a code no close frame may carry, when it does, then the client gets 1011 and the gateway keeps serving", async () => {
    const replica = await scriptedReplica(cleanups);
    const gw = await gateway(replica.url);
    const open = async () => {
      const client = new WebSocket(`${gw.url}/collab/doc-1?token=t`);
      const closed = new Promise<number>((resolve) => client.on("close", (c) => resolve(c)));
      await new Promise<void>((resolve, reject) => {
        client.once("open", () => resolve());
        client.once("error", reject);
      });
      return { stream: replica.channels[0]!.frames.at(-1)!.stream, closed };
    };
    const first = await open();
    replica.send(0, { kind: MuxKind.close, stream: first.stream, code: 1005, reason: "" });
    expect(await first.closed).toBe(1011);
    const second = await open();
    replica.send(0, { kind: MuxKind.close, stream: second.stream, code: 4403, reason: "FORBIDDEN" });
    expect(await second.closed).toBe(4403);
  });

  it("given a replica that does not answer, when a client comes, then it is told to come back later (1013) once the replica has had its time to answer, without waiting further", async () => {
    const replica = await scriptedReplica(cleanups, () => "silent");
    const gw = await gateway(replica.url);
    const client = new WebSocket(`${gw.url}/collab/doc-1?token=t`);
    const code = await new Promise<number>((resolve) => client.on("close", (c) => resolve(c)));
    expect(code).toBe(1013);
  });
});
