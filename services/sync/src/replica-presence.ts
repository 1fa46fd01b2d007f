import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { subjects } from "@palimpsest/contracts";
import type { RoomRegistry } from "./room-registry.ts";

export interface ReplicaPresenceOptions {
  /** How often this replica says it is alive. @default 2000 */
  heartbeatMs?: number;
  /** Called once for each replica found gone, after its clients' presence is removed. */
  onGone?: (replica: string) => void;
}

/**
 * The other sync replicas this one has heard from lately: by their heartbeats, and by any
 * presence or presence query they send. A replica that has heard from none is alone, and its
 * clients' presence has nobody to go to; until it has listened for a whole dead period after
 * starting, it does not count itself alone.
 */
export class ReplicaPeers {
  private readonly lastSeen = new Map<string, number>();
  private readonly listeningSince: number;

  constructor(
    private readonly replicaId: string,
    /** A replica silent this long is dead: its clients' presence is removed everywhere. */
    readonly deadAfterMs = 6_000,
    private readonly now: () => number = Date.now,
  ) {
    this.listeningSince = now();
  }

  seen(replica: string): void {
    if (replica && replica !== this.replicaId) this.lastSeen.set(replica, this.now());
  }

  get alone(): boolean {
    const now = this.now();
    if (now - this.listeningSince < this.deadAfterMs) return false;
    for (const at of this.lastSeen.values()) if (now - at < this.deadAfterMs) return false;
    return true;
  }

  /** Forgets and returns the replicas silent for a dead period. */
  expire(): string[] {
    const now = this.now();
    const gone = [...this.lastSeen].filter(([, at]) => now - at >= this.deadAfterMs).map(([r]) => r);
    for (const r of gone) this.lastSeen.delete(r);
    return gone;
  }
}

/**
 * Replicas announce themselves every few seconds on core NATS. When one falls silent (killed,
 * partitioned), every other replica removes the presence of the clients it carried, so their
 * cursors vanish within seconds instead of lingering until the awareness timeout (30 s).
 */
export function trackReplicas(nc: NatsConnection, replicaId: string, rooms: RoomRegistry, peers: ReplicaPeers, opts: ReplicaPresenceOptions = {}): { stop(): void } {
  const heartbeatMs = opts.heartbeatMs ?? 2_000;
  const sub: Subscription = nc.subscribe(subjects.replicaHeartbeat(), {
    callback: (_err, msg) => peers.seen(msg.string()),
  });
  const beat = setInterval(() => nc.publish(subjects.replicaHeartbeat(), replicaId), heartbeatMs);
  nc.publish(subjects.replicaHeartbeat(), replicaId);
  const sweep = setInterval(() => {
    for (const replica of peers.expire()) {
      void rooms.loaded().then((all) => {
        for (const room of all) room.dropReplica(replica);
      });
      opts.onGone?.(replica);
    }
  }, 1_000);
  beat.unref();
  sweep.unref();
  return {
    stop() {
      clearInterval(beat);
      clearInterval(sweep);
      sub.unsubscribe();
    },
  };
}
