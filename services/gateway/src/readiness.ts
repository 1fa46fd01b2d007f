import type { NatsConnection } from "@nats-io/transport-node";
import { rpc, type ReadyResult } from "@palimpsest/contracts";
import { backendServices, natsReady, redisReady, type ReadinessChecks, type Redis } from "@palimpsest/platform";
import type { Upstreams } from "./upstreams.ts";

/** The gateway is ready when its stores, every backend service and at least one replica of each upstream answer. */
export function gatewayReadiness(nc: NatsConnection, redis: Redis, upstreams: { syncReplicas: Upstreams; filesReplicas: Upstreams }): ReadinessChecks {
  const checks: ReadinessChecks = { nats: () => natsReady(nc), redis: () => redisReady(redis) };
  for (const svc of backendServices) {
    checks[svc] = async () => {
      const msg = await nc.request(rpc.ready(svc), "", { timeout: 2_000 });
      return msg.json<ReadyResult>().ready === true;
    };
  }
  // A gateway that has heard from no replica cannot serve /collab or files yet (it asked at start; answers take milliseconds).
  for (const [name, replicas] of Object.entries(upstreams)) {
    if (replicas.mode === "discovered") checks[name] = async () => replicas.count() > 0;
  }
  return checks;
}
