import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { decodeCollabControl, subjects } from "@palimpsest/contracts";
import type { Logger } from "@palimpsest/platform";
import type { CollabProxy } from "./collab-proxy.ts";

/**
 * Acts on collab.control notices: a revoked session loses its open /collab connections at once,
 * not when its token would have expired. Every gateway replica hears every notice.
 */
export function followControlNotices(nc: NatsConnection, collab: CollabProxy, log: Logger): Subscription {
  return nc.subscribe(subjects.collabControl(), {
    callback: (_err, msg) => {
      try {
        const notice = decodeCollabControl(msg.string());
        if (notice?.type === "session.revoked") collab.closeSession(notice.sessionId);
      } catch {
        log.warn("ignoring malformed control message");
      }
    },
  });
}
