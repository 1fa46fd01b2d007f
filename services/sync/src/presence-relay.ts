import * as awarenessProtocol from "y-protocols/awareness";
import { headers as natsHeaders, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { EditHeaders, subjects } from "@palimpsest/contracts";
import type { Logger } from "@palimpsest/platform";
import { withoutClients } from "./presence-rules.ts";
import type { ReplicaPeers } from "./replica-presence.ts";

/** Origin of presence removed here on a dead replica's behalf, so the removal is not published back. */
const REMOTE = Symbol("remote");

/** Origin of presence that came from another replica, so it is not published back. */
interface RemoteOrigin {
  replica: string;
}
function isRemote(origin: unknown): origin is RemoteOrigin | typeof REMOTE {
  return origin === REMOTE || (typeof origin === "object" && origin !== null && "replica" in origin);
}

/**
 * One document's presence shared with the other sync replicas over core NATS (never stored):
 * what local clients announce is published, what other replicas publish is applied to the
 * room's awareness, and a replica that opens the document asks the others who is already there.
 */
export class PresenceRelay {
  private presenceSub: Subscription | undefined;
  private querySub: Subscription | undefined;
  /** Which replica each remote awareness client came through, to drop them if it dies. */
  private readonly remoteClients = new Map<number, string>();

  constructor(
    private readonly docId: string,
    private readonly awareness: awarenessProtocol.Awareness,
    private readonly nc: NatsConnection,
    private readonly replicaId: string,
    private readonly log: Logger,
    /** Whether a client id is bound to a connection on this replica. */
    private readonly isLocalClient: (clientId: number) => boolean = () => false,
    /** The other replicas; without them known, every change is published. */
    private readonly peers?: ReplicaPeers,
  ) {}

  /** Listens to the other replicas and asks them who is here. */
  start(): void {
    this.presenceSub = this.nc.subscribe(subjects.awareness(this.docId), {
      callback: (_err, msg) => {
        const replica = msg.headers?.get(EditHeaders.replica) ?? "";
        if (replica === this.replicaId) return;
        this.peers?.seen(replica);
        try {
          const update = withoutClients(msg.data, this.isLocalClient);
          if (update) awarenessProtocol.applyAwarenessUpdate(this.awareness, update, { replica } satisfies RemoteOrigin);
        } catch (err) {
          this.log.warn({ err }, "ignoring malformed presence message");
        }
      },
    });
    // Another replica just opened this document: tell it who is here.
    this.querySub = this.nc.subscribe(subjects.awarenessQuery(this.docId), {
      callback: (_err, msg) => {
        const replica = msg.headers?.get(EditHeaders.replica) ?? "";
        if (replica === this.replicaId) return;
        this.peers?.seen(replica);
        this.publishLocal();
      },
    });
    const q = natsHeaders();
    q.set(EditHeaders.replica, this.replicaId);
    this.nc.publish(subjects.awarenessQuery(this.docId), new Uint8Array(), { headers: q });
  }

  /** Presence of the clients connected here, published for the other replicas. */
  publishLocal(): void {
    const local = [...this.awareness.getStates().keys()].filter((c) => !this.remoteClients.has(c));
    if (local.length > 0) this.publish(awarenessProtocol.encodeAwarenessUpdate(this.awareness, local));
  }

  /** Drops the presence of every client that came through a replica that stopped answering. */
  dropReplica(replica: string): void {
    const gone = [...this.remoteClients].filter(([, r]) => r === replica).map(([c]) => c);
    if (gone.length > 0) awarenessProtocol.removeAwarenessStates(this.awareness, gone, REMOTE);
  }

  /** Remembers which replica the changed clients came through (before the change is fanned out). */
  noteOrigin(added: number[], updated: number[], removed: number[], origin: unknown): void {
    for (const c of removed) this.remoteClients.delete(c);
    if (typeof origin === "object" && origin !== null && "replica" in origin) {
      for (const c of [...added, ...updated]) this.remoteClients.set(c, (origin as RemoteOrigin).replica);
    } else {
      // Taken over by a connection here.
      for (const c of [...added, ...updated]) this.remoteClients.delete(c);
    }
  }

  /** Publishes a change for the other replicas unless it came from one of them. */
  forward(update: Uint8Array, origin: unknown): void {
    if (!isRemote(origin)) this.publish(update);
  }

  stop(): void {
    this.presenceSub?.unsubscribe();
    this.querySub?.unsubscribe();
  }

  private publish(update: Uint8Array): void {
    // With no other replica about, each client's presence renewal (every 15 s) would go to the
    // bus for nobody; a replica that starts asks for what it missed (see start).
    if (this.peers?.alone) return;
    const h = natsHeaders();
    h.set(EditHeaders.replica, this.replicaId);
    this.nc.publish(subjects.awareness(this.docId), update, { headers: h });
  }
}
