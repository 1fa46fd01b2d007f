import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { subjects } from "@palimpsest/contracts";
import type { RoomRegistry } from "./room-registry.ts";

export interface ReplicaPresenceOptions {
  /** How often this replica says it is alive. @default 2000 */
  heartbeatMs?: number;
  /** A replica silent this long is dead: its clients' presence is removed everywhere. @default 6000 */
  deadAfterMs?: number;
}

/**
 * Replicas announce themselves every few seconds on core NATS. When one falls silent (killed,
 * partitioned), every other replica removes the presence of the clients it carried, so their
 * cursors vanish within seconds instead of lingering until the awareness timeout (30 s).
 */
export function trackReplicas(nc: NatsConnection, replicaId: string, rooms: RoomRegistry, opts: ReplicaPresenceOptions = {}): { stop(): void } {
  const heartbeatMs = opts.heartbeatMs ?? 2_000;
  const deadAfterMs = opts.deadAfterMs ?? 6_000;
  const lastSeen = new Map<string, number>();
  const sub: Subscription = nc.subscribe(subjects.replicaHeartbeat(), {
    callback: (_err, msg) => {
      const from = msg.string();
      if (from && from !== replicaId) lastSeen.set(from, Date.now());
    },
  });
  const beat = setInterval(() => nc.publish(subjects.replicaHeartbeat(), replicaId), heartbeatMs);
  nc.publish(subjects.replicaHeartbeat(), replicaId);
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [replica, seen] of lastSeen) {
      if (now - seen < deadAfterMs) continue;
      lastSeen.delete(replica);
      void rooms.loaded().then((all) => {
        for (const room of all) room.dropReplica(replica);
      });
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
