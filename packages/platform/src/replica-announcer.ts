import os from "node:os";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { subjects, type DiscoverableService, type ReplicaAnnouncement } from "@palimpsest/contracts";
import type { Logger } from "./logger.ts";

export interface ReplicaAnnouncer {
  /** The URL this replica announces. */
  readonly url: string;
  /** Says once that this replica is leaving and stops announcing; call first when shutting down. */
  leave(): Promise<void>;
}

export interface AnnounceOptions {
  service: DiscoverableService;
  replicaId: string;
  url: string;
  log: Logger;
  /** How often the replica says it is still there; gateways forget it after three silent periods. @default 2000 */
  heartbeatMs?: number;
}

/**
 * Makes a sync or files replica findable by the gateways without a fixed list: it announces its
 * URL on core NATS at start, every heartbeat and whenever a gateway asks, and says it is leaving
 * when shutdown begins, so no gateway sends it a new connection while it drains. A replica that
 * dies without a word is forgotten when its last announcement expires (three heartbeats).
 */
export function announceReplica(nc: NatsConnection, opts: AnnounceOptions): ReplicaAnnouncer {
  const heartbeatMs = opts.heartbeatMs ?? 2_000;
  const subject = subjects.replicaAnnounce(opts.service);
  const message = (status: ReplicaAnnouncement["status"]): string =>
    JSON.stringify({ service: opts.service, replicaId: opts.replicaId, url: opts.url, status, ttlMs: heartbeatMs * 3 } satisfies ReplicaAnnouncement);
  const up = () => nc.publish(subject, message("up"));
  const query: Subscription = nc.subscribe(subjects.replicaQuery(opts.service), { callback: () => up() });
  const beat = setInterval(up, heartbeatMs);
  beat.unref();
  up();
  opts.log.info({ url: opts.url }, "announcing this replica to the gateways");
  let left = false;
  return {
    url: opts.url,
    async leave() {
      if (left) return;
      left = true;
      clearInterval(beat);
      query.unsubscribe();
      nc.publish(subject, message("leaving"));
      // The gateways must have it before the clients are told to reconnect.
      await nc.flush().catch((err: unknown) => opts.log.warn({ err }, "could not flush the leave announcement"));
    },
  };
}

/**
 * The URL a replica announces: `ADVERTISE_URL` when set (a proxy, a TLS terminator, a name in
 * DNS); otherwise the interface it listens on, or, listening on every interface (HOST=0.0.0.0,
 * as in a container), this machine's first outward IPv4 address, which is what a Kubernetes pod
 * is reached at.
 */
export function advertisedUrl(opts: { explicit: string | undefined; scheme: "ws" | "http"; host: string; port: number }): string {
  if (opts.explicit) return opts.explicit;
  const wildcard = opts.host === "" || opts.host === "0.0.0.0" || opts.host === "::";
  const host = wildcard ? (outwardAddress() ?? os.hostname()) : opts.host;
  return `${opts.scheme}://${host.includes(":") ? `[${host}]` : host}:${opts.port}`;
}

function outwardAddress(): string | undefined {
  for (const addresses of Object.values(os.networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return undefined;
}
