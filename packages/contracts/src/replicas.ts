import { Type, type Static } from "@sinclair/typebox";
import { DiscoverableServices } from "./subjects.ts";

/**
 * What a sync or files replica publishes on `replicas.announce.<service>` (core NATS, never
 * stored). Gateways keep the replicas they heard from within `ttlMs` and connect clients to
 * `url`; a replica that says `leaving` is dropped at once, before its connections are closed.
 *
 * | status  | sent                                         | a gateway                         |
 * |---------|----------------------------------------------|-----------------------------------|
 * | up      | at start, every heartbeat, when queried      | adds or refreshes it for `ttlMs`  |
 * | leaving | once, when shutdown begins (SIGTERM)         | removes it; sends it nothing new  |
 */
export const ReplicaAnnouncement = Type.Object(
  {
    service: Type.Union(DiscoverableServices.map((s) => Type.Literal(s))),
    replicaId: Type.String({ minLength: 1, maxLength: 200 }),
    /** Where a gateway reaches it: `ws://host:port` for sync, `http://host:port` for files. */
    url: Type.String({ minLength: 1, maxLength: 2048, pattern: "^(wss?|https?)://" }),
    status: Type.Union([Type.Literal("up"), Type.Literal("leaving")]),
    /** How long this announcement holds without another: a few heartbeats, so one lost message is harmless. */
    ttlMs: Type.Integer({ minimum: 1, maximum: 3_600_000 }),
  },
  { additionalProperties: false },
);
export type ReplicaAnnouncement = Static<typeof ReplicaAnnouncement>;
