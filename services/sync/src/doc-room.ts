import * as Y from "yjs";
import * as awarenessProtocol from "y-protocols/awareness";
import type { NatsConnection } from "@nats-io/transport-node";
import { CloseCodes, READ_ONLY_REFUSAL, closeCodeOf, isRestoreClient, type CallerApiToken } from "@palimpsest/contracts";
import type { Logger, SpanContext } from "@palimpsest/platform";
import { SnapshotAhead, type EditFeed, type EditLog, type EditMeta } from "./edit-log.ts";
import {
  encodeAwareness,
  encodePermissionDenied,
  encodeSyncStep1,
  encodeSyncStep2,
  encodeUpdate,
  inspectUpdate,
  type IncomingMessage,
} from "./protocol.ts";
import { PresenceRelay } from "./presence-relay.ts";
import type { ReplicaPeers } from "./replica-presence.ts";
import { documentNoticeMessage } from "./document-notices.ts";
import { PresenceRefused, admitPresence, userOfState } from "./presence-rules.ts";
import { RoomWriter } from "./room-writer.ts";
import { splitUpdate } from "./update-parts.ts";
import { UpdateRefused, appliedDepth, measureNesting, type StructDepth } from "./update-nesting.ts";
import type { StorageQuota } from "./storage-quota.ts";
import type { SyncMetrics } from "./sync-metrics.ts";

/** One client connection as the room sees it; the WebSocket stays in the adapter. */
export interface Peer {
  readonly id: string;
  readonly userId: string;
  /** The display name in the access token: the name the peer's presence shows. */
  readonly name: string;
  /** Changes live when the user's role changes. */
  canWrite: boolean;
  /** Connected with an API token: which one (its edits name it) and the scopes that cap the role. */
  readonly apiToken?: CallerApiToken;
  /** The trace the connection was opened in (tracing on): each edit's own trace links to it. */
  readonly trace?: SpanContext;
  send(message: Uint8Array): void;
  close(code: number, reason: string): void;
}

/**
 * A client's update above this is stored as several events (a catch-up after a long time
 * offline), each well inside what the EDITS stream takes in one message (8 MiB).
 */
const STORED_PART_BYTES = 1024 * 1024;
/** What one stored event may be at most: the EDITS stream's 8 MiB message limit, less room for headers. */
const MAX_STORED_EVENT_BYTES = 8 * 1024 * 1024 - 64 * 1024;

/** What a room is built from. */
export interface RoomDeps {
  editLog: EditLog;
  nc: NatsConnection;
  replicaId: string;
  log: Logger;
  metrics: SyncMetrics;
  quota: StorageQuota;
  maxNestingDepth: number;
  /** The other sync replicas, to share presence with only when there are some. */
  replicas?: ReplicaPeers;
  /** The newest snapshot of a document and the chunks after it; null when it has none. */
  loadSnapshot?: (docId: string) => Promise<{ streamSeq: number; updates: Uint8Array[] } | null>;
}

/** A connection that sent nothing new is asked for what the server lacks once in this many resync rounds. */
export const QUIET_RESYNC_ROUNDS = 6;

/** Origin of updates that came from the stream or a snapshot, never from a client. */
const REMOTE = Symbol("remote");

/**
 * A document open on this replica: its Y.Doc as stored in JetStream, its awareness, and its
 * local clients. The doc only ever changes by updates coming back from the stream, so what a
 * client sees from the server has been stored first. Clients on other replicas reach us the
 * same way (edits) and through core NATS (presence, never stored).
 */
export class DocRoom {
  readonly doc: Y.Doc;
  readonly awareness: awarenessProtocol.Awareness;
  private readonly peers = new Map<string, Peer>();
  /** Awareness client ids each peer announced, so they are removed when it leaves. */
  private readonly peerClients = new Map<string, Set<number>>();
  /** The connection each awareness client id is bound to: the one that announced it first. */
  private readonly clientOwner = new Map<number, Peer>();
  private readonly readOnlyWarned = new Set<string>();
  private readonly writer: RoomWriter;
  private readonly relay: PresenceRelay;
  private feed: EditFeed | undefined;
  /**
   * The last few sync step 2 answers, by the stream position they were encoded at and the state
   * vector asked with: a client asking again for the same state (a 3-byte step 1 asks for the
   * whole document) costs a lookup, not an encoding of the document.
   */
  private readonly answers = new Map<string, Uint8Array>();
  /**
   * Depths of items accepted from clients but not yet back from the stream: a client's next update
   * builds on its previous one before the room has applied it. Dropped once applied.
   */
  private readonly accepted = new Map<number, StructDepth[]>();
  /**
   * Rounds of the periodic resync each connection has not been asked in. A connection that sent
   * something new since it was last asked is asked at the next round (its update may be what the
   * server lacks); any other only every `QUIET_RESYNC_ROUNDS`th, so idle documents cost little.
   */
  private readonly unasked = new Map<string, { rounds: number; sent: boolean }>();
  lastStreamSeq = 0;
  /** Set once its feed broke: the room takes no more edits and is being replaced. */
  broken = false;

  private constructor(
    readonly docId: string,
    editLog: EditLog,
    nc: NatsConnection,
    replicaId: string,
    private readonly log: Logger,
    private readonly metrics: SyncMetrics,
    quota: StorageQuota,
    private readonly maxNestingDepth: number,
    replicas?: ReplicaPeers,
  ) {
    // Named by the document: otherwise Yjs draws a random guid, 31 calls to the system's random source per document opened.
    this.doc = new Y.Doc({ gc: true, guid: docId });
    this.awareness = new awarenessProtocol.Awareness(this.doc);
    // Each Awareness checks its states on a timer of its own every 3 s: with thousands of open
    // documents that is thousands of timers. The replica sweeps every room on one timer instead
    // (`dropOutdatedPresence`).
    clearInterval((this.awareness as unknown as { _checkInterval?: ReturnType<typeof setInterval> })._checkInterval);
    this.writer = new RoomWriter(docId, editLog, log, metrics, quota);
    this.relay = new PresenceRelay(docId, this.awareness, nc, replicaId, log, (client) => this.clientOwner.has(client), replicas);
    // The server is not a participant.
    this.awareness.setLocalState(null);
    this.awareness.on("update", this.onAwarenessUpdate);
  }

  static async open(
    docId: string,
    deps: RoomDeps & {
      /** The room's feed broke: it no longer follows the stream and must not be handed out again. */
      onBroken?: () => void;
    },
  ): Promise<DocRoom> {
    const room = new DocRoom(docId, deps.editLog, deps.nc, deps.replicaId, deps.log.child({ docId }), deps.metrics, deps.quota, deps.maxNestingDepth, deps.replicas);
    const started = performance.now();
    // The newest snapshot plus only the tail after it; without one (or if history is down), the whole log.
    let after = 0;
    try {
      // A document never edited (most often a new one, opened by its author) has no snapshot:
      // one look at the stream spares asking history for it.
      const snap = deps.loadSnapshot && (await deps.editLog.lastStreamSeq(docId)) > 0 ? await deps.loadSnapshot(docId) : null;
      if (snap) {
        Y.transact(room.doc, () => {
          for (const u of snap.updates) Y.applyUpdate(room.doc, u, REMOTE);
        }, REMOTE);
        after = snap.streamSeq;
        room.lastStreamSeq = snap.streamSeq;
        room.metrics.snapshotLoads.inc();
      }
    } catch (err) {
      room.log.warn({ err }, "no snapshot available; replaying the whole edit log");
    }
    room.relay.start();
    try {
      room.feed = await deps.editLog.follow(
        docId,
        (update, meta) => room.onStored(update, meta),
        (err) => room.breakDown(err, deps.onBroken),
        after,
      );
      await room.feed.caughtUp;
    } catch (err) {
      room.close();
      if (!(err instanceof SnapshotAhead)) throw err;
      // The snapshot holds edits the stream lost: the room is built from what is stored, so
      // clients are asked for what is missing instead of being told it is there.
      room.log.error({ err }, "the snapshot is ahead of the edits stream; loading the document from the stream alone");
      const { loadSnapshot: _ignored, ...withoutSnapshot } = deps;
      return DocRoom.open(docId, withoutSnapshot);
    }
    room.metrics.docLoadSeconds.observe((performance.now() - started) / 1000);
    room.log.debug({ seq: room.lastStreamSeq, fromSnapshot: after, ms: Math.round(performance.now() - started) }, "document loaded");
    return room;
  }

  /**
   * The feed broke (the stream failed or went back): the room no longer follows what is stored,
   * and may hold edits the stream lost. It stops, is dropped by its registry so the document is
   * loaded afresh, and its clients are told to reconnect, which makes them send what the fresh
   * room lacks.
   */
  private breakDown(err: unknown, onBroken: (() => void) | undefined): void {
    if (this.broken) return;
    this.broken = true;
    this.log.error({ err }, "edit feed failed; reloading the document and reconnecting its clients");
    this.feed?.stop();
    onBroken?.();
    for (const peer of this.peers.values()) peer.close(CloseCodes.serviceRestart, "document reloading");
  }

  get size(): number {
    return this.peers.size;
  }

  /**
   * One round of anti-entropy: asks for whatever the server does not have yet every connection
   * that may write and sent something since it was last asked, and the others once in a while.
   * A connection loses nothing silently (a failed append closes it), so the quiet ones are asked
   * only against a path nobody foresaw.
   */
  resync(): void {
    let step1: Uint8Array | undefined;
    for (const peer of this.peers.values()) {
      const state = this.unasked.get(peer.id);
      if (!peer.canWrite || !state) continue;
      state.rounds++;
      if (!state.sent && state.rounds < QUIET_RESYNC_ROUNDS) continue;
      state.rounds = 0;
      state.sent = false;
      step1 ??= encodeSyncStep1(this.doc);
      peer.send(step1);
    }
  }

  peersOf(userId: string): Peer[] {
    return [...this.peers.values()].filter((p) => p.userId === userId);
  }

  allPeers(): Peer[] {
    return [...this.peers.values()];
  }

  join(peer: Peer): void {
    if (this.broken) {
      peer.close(CloseCodes.serviceRestart, "document reloading");
      return;
    }
    this.peers.set(peer.id, peer);
    this.peerClients.set(peer.id, new Set());
    this.unasked.set(peer.id, { rounds: 0, sent: false });
    peer.send(encodeSyncStep1(this.doc));
    const states = [...this.awareness.getStates().keys()];
    if (states.length > 0) peer.send(encodeAwareness(awarenessProtocol.encodeAwarenessUpdate(this.awareness, states)));
  }

  leave(peer: Peer): void {
    this.peers.delete(peer.id);
    const clients = this.peerClients.get(peer.id);
    this.peerClients.delete(peer.id);
    this.unasked.delete(peer.id);
    this.readOnlyWarned.delete(peer.id);
    this.writer.forget(peer.id);
    // What a failed write left behind is never applied; with nobody connected nothing builds on it.
    if (this.peers.size === 0) this.accepted.clear();
    for (const c of clients ?? []) if (this.clientOwner.get(c) === peer) this.clientOwner.delete(c);
    if (clients && clients.size > 0) awarenessProtocol.removeAwarenessStates(this.awareness, [...clients], peer);
  }

  /** Handles one decoded message; returns the pending append for updates so the caller can pipeline them. */
  handle(peer: Peer, message: IncomingMessage): Promise<void> | undefined {
    switch (message.type) {
      case "sync-step1":
        peer.send(this.answerStep1(message.stateVector));
        return undefined;
      case "sync-update":
        return this.submit(peer, message.update);
      case "awareness":
        this.acceptPresence(peer, message.update);
        return undefined;
      case "query-awareness": {
        const states = [...this.awareness.getStates().keys()];
        peer.send(encodeAwareness(awarenessProtocol.encodeAwarenessUpdate(this.awareness, states)));
        return undefined;
      }
      case "auth":
        return undefined;
    }
  }

  private answerStep1(stateVector: Uint8Array): Uint8Array {
    const key = `${this.lastStreamSeq}:${Buffer.from(stateVector).toString("base64")}`;
    const cached = this.answers.get(key);
    if (cached) return cached;
    const answer = encodeSyncStep2(this.doc, stateVector);
    // Answers from an older position are stale; a handful of distinct state vectors is plenty.
    for (const k of this.answers.keys()) if (!k.startsWith(`${this.lastStreamSeq}:`) || this.answers.size >= 4) this.answers.delete(k);
    if (stateVector.byteLength <= 1024) this.answers.set(key, answer);
    return answer;
  }

  /** Relays a peer's presence only for client ids bound to it, as the user its token names. */
  private acceptPresence(peer: Peer, update: Uint8Array): void {
    const own = this.peerClients.get(peer.id) ?? new Set<number>();
    let admitted: Uint8Array | null;
    try {
      admitted = admitPresence(update, { userId: peer.userId, name: peer.name, connectionId: peer.id }, {
        own,
        userOf: (client) => this.clientOwner.get(client)?.userId ?? userOfState(this.awareness.getStates().get(client)),
        known: (client) => {
          const meta = this.awareness.meta.get(client);
          return meta ? { clock: meta.clock, present: this.awareness.states.has(client) } : undefined;
        },
      });
    } catch (err) {
      if (!(err instanceof PresenceRefused)) throw err;
      this.metrics.rejectedUpdates.inc({ reason: "presence" });
      this.log.debug({ peer: peer.id, why: err.message }, "refusing a presence message");
      return;
    }
    if (admitted) awarenessProtocol.applyAwarenessUpdate(this.awareness, admitted, peer);
  }

  private submit(peer: Peer, update: Uint8Array): Promise<void> | undefined {
    // A connection that has left (or never joined) has no writer to keep, and none is made for it.
    if (!this.peers.has(peer.id)) return undefined;
    let empty: boolean;
    let decoded: ReturnType<typeof inspectUpdate>["decoded"];
    try {
      const inspected = inspectUpdate(update, this.doc);
      empty = inspected.empty || inspected.nothingNew;
      decoded = inspected.decoded;
    } catch {
      this.metrics.rejectedUpdates.inc({ reason: "malformed" });
      peer.close(closeCodeOf("MALFORMED_UPDATE"), "malformed update");
      return undefined;
    }
    if (empty) return undefined;
    const asked = this.unasked.get(peer.id);
    if (asked) asked.sent = true;
    // Its clients are being reconnected; they send this again to the room that replaces it.
    if (this.broken) return undefined;
    if (peer.canWrite && update.byteLength > STORED_PART_BYTES) return this.submitInParts(peer, update);
    return this.accept(peer, update, decoded);
  }

  /**
   * A catch-up larger than one stored event: what the document already has is left out, and the
   * rest is stored as several events, in order, each checked like an update of its own. If the
   * connection fails part way, the client still has it all and sends what is missing again.
   */
  private submitInParts(peer: Peer, update: Uint8Array): Promise<void> | undefined {
    const parts = splitUpdate(Y.diffUpdate(update, Y.encodeStateVector(this.doc)), STORED_PART_BYTES);
    // One struct (an enormous paste) is a part alone; one the stream cannot take would fail on
    // every reconnect. Refused before anything is stored, and the client is told why (1009).
    if (parts.some((p) => p.byteLength > MAX_STORED_EVENT_BYTES)) {
      this.metrics.rejectedUpdates.inc({ reason: "too-large" });
      peer.close(CloseCodes.messageTooBig, "update too large to store");
      return undefined;
    }
    const admitted: Uint8Array[] = [];
    for (const part of parts) {
      let inspected: ReturnType<typeof inspectUpdate>;
      try {
        inspected = inspectUpdate(part, this.doc);
      } catch {
        this.metrics.rejectedUpdates.inc({ reason: "malformed" });
        peer.close(closeCodeOf("MALFORMED_UPDATE"), "malformed update");
        return undefined;
      }
      if (inspected.empty || inspected.nothingNew) continue;
      if (!this.admit(peer, inspected.decoded)) return undefined;
      admitted.push(part);
    }
    // One write: its quota is taken for all parts before the first is stored.
    return admitted.length === 0 ? undefined : this.writer.write(peer, admitted);
  }

  /** Stores a new update from a peer, unless the peer may not write or the update would break the document. */
  private accept(peer: Peer, update: Uint8Array, decoded: ReturnType<typeof inspectUpdate>["decoded"]): Promise<void> | undefined {
    return this.admit(peer, decoded) ? this.writer.write(peer, update) : undefined;
  }

  /** Whether the peer may store this update; counts its items as accepted when it may. */
  private admit(peer: Peer, decoded: ReturnType<typeof inspectUpdate>["decoded"]): boolean {
    if (!peer.canWrite) {
      this.metrics.rejectedUpdates.inc({ reason: "read-only" });
      // The client keeps its change locally; tell it once that it is not saved.
      if (!this.readOnlyWarned.has(peer.id)) {
        this.readOnlyWarned.add(peer.id);
        peer.send(encodePermissionDenied(READ_ONLY_REFUSAL));
      }
      return false;
    }
    let depths: StructDepth[];
    try {
      depths = this.measure(decoded);
    } catch (err) {
      if (!(err instanceof UpdateRefused)) throw err;
      this.metrics.rejectedUpdates.inc({ reason: err.reason });
      this.log.info({ peer: peer.id, user: peer.userId, why: err.message }, "refusing an update that would break the document");
      const code = err.reason === "too-deep" ? "UPDATE_TOO_DEEP" : "MALFORMED_UPDATE";
      peer.close(closeCodeOf(code), code);
      return false;
    }
    for (const d of depths) {
      const list = this.accepted.get(d.client);
      if (list) list.push(d);
      else this.accepted.set(d.client, [d]);
    }
    return true;
  }

  /** Depths the update's items take in this document, counting updates accepted and not yet applied. */
  private measure(decoded: ReturnType<typeof inspectUpdate>["decoded"]): StructDepth[] {
    const store = this.doc.store;
    const memo = new Map<Y.Item, number>();
    return measureNesting(decoded.structs, {
      depthOf: (id) => {
        const applied = appliedDepth(store, id, memo, this.maxNestingDepth);
        if (applied !== undefined) return applied;
        const list = this.accepted.get(id.client);
        if (!list) return undefined;
        for (let i = list.length - 1; i >= 0; i--) {
          const d = list[i]!;
          if (id.clock >= d.clock && id.clock < d.end) return d.depth;
        }
        return undefined;
      },
    }, this.maxNestingDepth);
  }

  /** Forgets accepted items the document now holds. */
  private pruneAccepted(update: Uint8Array): void {
    if (this.accepted.size === 0) return;
    for (const client of Y.decodeStateVector(Y.encodeStateVectorFromUpdate(update)).keys()) {
      const list = this.accepted.get(client);
      if (!list) continue;
      const applied = Y.getState(this.doc.store, client);
      const rest = list.filter((d) => d.end > applied);
      if (rest.length === 0) this.accepted.delete(client);
      else this.accepted.set(client, rest);
    }
  }

  private onStored(update: Uint8Array, meta: EditMeta): void {
    this.lastStreamSeq = meta.streamSeq;
    try {
      Y.applyUpdate(this.doc, update, REMOTE);
    } catch (err) {
      // Validated before storing; a stored update that fails to apply is logged, never fatal.
      this.log.error({ err, seq: meta.streamSeq }, "stored update failed to apply");
      return;
    }
    this.pruneAccepted(update);
    if (this.peers.size === 0) return;
    const message = encodeUpdate(update);
    // A restore replaces what people see, their own recent typing included: each page is told who did it.
    const restored = isRestoreClient(meta.client) ? documentNoticeMessage({ what: "restored", at: Date.now(), by: meta.author }) : undefined;
    for (const peer of this.peers.values()) {
      if (peer.id !== meta.client) peer.send(message);
      if (restored) peer.send(restored);
    }
    const storedAt = Date.parse(meta.time);
    if (!Number.isNaN(storedAt)) this.metrics.fanoutSeconds.observe(Math.max(0, Date.now() - storedAt) / 1000);
  }

  /**
   * Removes the presence of clients that have not renewed it within y-protocols' 30 s, as each
   * Awareness would on its own timer (a client that vanished without saying so).
   */
  dropOutdatedPresence(now = Date.now()): void {
    const outdated: number[] = [];
    for (const [client, meta] of this.awareness.meta) {
      if (client !== this.awareness.clientID && now - meta.lastUpdated >= awarenessProtocol.outdatedTimeout && this.awareness.states.has(client)) outdated.push(client);
    }
    if (outdated.length > 0) awarenessProtocol.removeAwarenessStates(this.awareness, outdated, "timeout");
  }

  /** Presence of the clients connected here, published for the other replicas. */
  publishLocalPresence(): void {
    this.relay.publishLocal();
  }

  /** Drops the presence of every client that came through a replica that stopped answering. */
  dropReplica(replica: string): void {
    this.relay.dropReplica(replica);
  }

  private onAwarenessUpdate = (
    { added, updated, removed }: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ): void => {
    const changed = [...added, ...updated, ...removed];
    if (changed.length === 0) return;
    this.relay.noteOrigin(added, updated, removed, origin);
    if (origin && typeof origin === "object" && "id" in origin) {
      const clients = this.peerClients.get((origin as Peer).id);
      if (clients) {
        for (const c of [...added, ...updated]) {
          clients.add(c);
          const before = this.clientOwner.get(c);
          // Taken over by another connection of the same user: the old one no longer removes it when it leaves.
          if (before && before !== origin) this.peerClients.get(before.id)?.delete(c);
          this.clientOwner.set(c, origin as Peer);
        }
        for (const c of removed) clients.delete(c);
      }
    }
    const update = awarenessProtocol.encodeAwarenessUpdate(this.awareness, changed);
    const message = encodeAwareness(update);
    // Sent to every peer, the sender too, as the reference y-websocket server does: a client
    // alone in a document hears nothing else, and y-websocket drops a connection that received
    // nothing for 30 s (its own awareness renewal every 15 s is what keeps it open).
    for (const peer of this.peers.values()) peer.send(message);
    this.relay.forward(update, origin);
  };

  close(): void {
    this.feed?.stop();
    this.relay.stop();
    this.awareness.off("update", this.onAwarenessUpdate);
    this.awareness.destroy();
    this.doc.destroy();
  }
}
