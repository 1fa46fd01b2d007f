import type { NatsConnection } from "@nats-io/transport-node";
import { rpc, type ReadyResult, type ServiceName } from "@palimpsest/contracts";
import { backendServices, natsReady, redisReady, type ReadinessChecks, type Redis } from "@palimpsest/platform";
import type { Upstreams } from "./upstreams.ts";

/** The gateway is ready when its stores, every backend service and at least one replica of each upstream answer. */
export function gatewayReadiness(nc: NatsConnection, redis: Redis, upstreams: { syncReplicas: Upstreams; filesReplicas: Upstreams }): ReadinessChecks {
  const checks: ReadinessChecks = { nats: () => natsReady(nc), redis: () => redisReady(redis) };
  for (const svc of backendServices) checks[svc] = () => anyReplicaReady(nc, svc);
  // A gateway that has heard from no replica cannot serve /collab or files yet (it asked at start; answers take milliseconds).
  for (const [name, replicas] of Object.entries(upstreams)) {
    if (replicas.mode === "discovered") checks[name] = async () => replicas.count() > 0;
  }
  return checks;
}

/**
 * Every replica answers; one that says yes is enough. Taking the first answer would let a replica
 * that is stopping (a rolling deploy) or stuck take every gateway out of service while the others
 * serve. The first yes ends the wait; without one, answers are awaited for two seconds, since a
 * replica that says no answers at once while a ready one first runs its checks.
 */
async function anyReplicaReady(nc: NatsConnection, svc: ServiceName): Promise<boolean> {
  const answers = await nc.requestMany(rpc.ready(svc), "", { strategy: "timer", maxWait: 2_000 });
  for await (const msg of answers) {
    let ready = false;
    try {
      ready = msg.json<ReadyResult>().ready === true;
    } catch {
      // One replica's unreadable answer is its no, not the end of the others'.
    }
    if (ready) return true;
  }
  return false;
}
