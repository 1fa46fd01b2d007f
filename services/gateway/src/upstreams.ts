import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { ReplicaAnnouncement, isValid, subjects, type DiscoverableService } from "@palimpsest/contracts";
import type { Logger } from "@palimpsest/platform";
import { Gauge, type Registry } from "prom-client";
import { ReplicaSet, rotate, type ReplicaChange } from "./replica-set.ts";

/** Where the gateway sends new /collab connections or file transfers of one service. */
export interface Upstreams {
  readonly mode: "static" | "discovered";
  /** URLs to try for one new connection, in order; empty when no replica is known. */
  pick(): string[];
  /** How many replicas new work may go to now (a fixed list counts its entries). */
  count(): number;
  /** Resolves once a replica is known, or after `ms` without one (a gateway that just started, a rollout's gap). */
  waitForAny(ms: number): Promise<void>;
  stop(): void;
}

/** A fixed list (SYNC_URLS / FILES_URLS): a Kubernetes Service or a load balancer that does its own balancing. */
export function staticUpstreams(urls: readonly string[]): Upstreams {
  let turn = 0;
  return {
    mode: "static",
    pick: () => rotate(urls, turn++),
    count: () => urls.length,
    waitForAny: async () => undefined,
    stop: () => undefined,
  };
}

/**
 * The replicas of a service that announce themselves on NATS (see `announceReplica`): the
 * gateway listens, asks every live replica to announce itself once when it starts (so it knows
 * them at once, not a heartbeat later), forgets a replica that says it is leaving or falls silent,
 * and hands out the live ones in turn.
 */
export async function discoveredUpstreams(nc: NatsConnection, service: DiscoverableService, log: Logger, registry: Registry): Promise<Upstreams> {
  const set = new ReplicaSet();
  const waiting = new Set<() => void>();
  const known = new Gauge({ name: `gateway_${service}_replicas`, help: `${service} replicas this gateway sends new connections to`, registers: [registry] });
  const report = (changes: ReplicaChange[]) => {
    for (const c of changes) log.info({ service, replicaId: c.replicaId, url: c.url }, `${service} replica ${c.kind}`);
    if (changes.length > 0) known.set(set.live(Date.now()).length);
  };
  const sub: Subscription = nc.subscribe(subjects.replicaAnnounce(service), {
    callback: (_err, msg) => {
      let a: unknown;
      try {
        a = msg.json();
      } catch {
        a = undefined;
      }
      if (!isValid(ReplicaAnnouncement, a) || a.service !== service) {
        log.warn({ service }, "ignoring a malformed replica announcement");
        return;
      }
      report(a.status === "leaving" ? set.leave(a.replicaId) : set.up(a.replicaId, a.url, a.ttlMs, Date.now()));
      if (a.status === "up") for (const wake of waiting) wake();
    },
  });
  const sweep = setInterval(() => report(set.expire(Date.now())), 500);
  sweep.unref();
  // The subscription must be in place at the server before the replicas answer the question.
  await nc.flush();
  nc.publish(subjects.replicaQuery(service), "");
  return {
    mode: "discovered",
    pick: () => set.choose(Date.now()),
    count: () => set.live(Date.now()).length,
    waitForAny(ms) {
      if (set.live(Date.now()).length > 0) return Promise.resolve();
      return new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          waiting.delete(done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        waiting.add(done);
      });
    },
    stop() {
      clearInterval(sweep);
      sub.unsubscribe();
      for (const wake of waiting) wake();
    },
  };
}
