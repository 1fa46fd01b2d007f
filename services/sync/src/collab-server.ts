import { randomUUID } from "node:crypto";
import type { IncomingMessage as HttpRequest } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import type { NatsConnection } from "@nats-io/transport-node";
import { AppError, COLLAB_MUX_PATH, COLLAB_MUX_PROTOCOL, CloseCodes, MUX_FRAME_OVERHEAD, canWrite, closeCodeOf, toAppError, type MuxOpen } from "@palimpsest/contracts";
import { authorizeCollab, delayUntil, collabTokenOf, httpTraceContextOf, parseCollabUrl, selectCollabProtocol, runInTraceContext, spanContextOf, type Logger, type TokenVerifier } from "@palimpsest/platform";
import { webSocketLink, type ClientLink } from "./client-link.ts";
import { MuxChannel, type OpenDecision } from "./mux-channel.ts";
import { decodeMessage, encodePermissionDenied } from "./protocol.ts";
import { MessagePacer } from "./message-pacer.ts";
import { UserConnections } from "./user-connections.ts";
import type { UserConnectionLeases } from "./user-connection-leases.ts";
import type { Peer } from "./doc-room.ts";
import { applyAccessChange, type RecentAccessChanges } from "./access-changes.ts";
import type { RoomRegistry } from "./room-registry.ts";
import type { SyncMetrics } from "./sync-metrics.ts";
import type { SyncConfig } from "./config.ts";

/**
 * A draining replica waits this long for its clients to answer the close frame (normally one
 * round trip); a client that has not answered by then is cut off. Well inside the 15 s that a
 * service has to stop, and the 30 s Kubernetes gives it by default.
 */
const DRAIN_TIMEOUT_MS = 5_000;

interface Connection {
  peer: Peer;
  sessionId: string;
  tokenIssuedAt: number;
  link: ClientLink;
  /** When the client last sent a message (performance.now()). */
  readonly activity: { lastMessageAt: number };
  /** Tells the client to reconnect elsewhere (1012), taking in what it still sends until it answers. */
  drain(): void;
}

/**
 * The WebSocket adapter of the sync service: authenticates each /collab connection, hands its
 * messages to the document's room and keeps slow or misbehaving clients from hurting others.
 */
export class CollabServer {
  private readonly wss: WebSocketServer;
  /** Gateways' channels, each carrying many clients (see COLLAB_MUX_PATH). */
  private readonly channelServer: WebSocketServer;
  private readonly channels = new Set<MuxChannel>();
  private readonly connections = new Set<Connection>();
  /** Every connection being handled, from the upgrade until its last update is stored. */
  private readonly runs = new Set<Promise<void>>();
  private accepting = true;
  /** Connections between their upgrade and joining their room (or being refused). */
  private opening = 0;
  private readonly users: UserConnections;
  private readonly idleSweep: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: { config: SyncConfig; nc: NatsConnection; verifier: TokenVerifier; rooms: RoomRegistry; log: Logger; metrics: SyncMetrics; recentAccess?: RecentAccessChanges; leases?: UserConnectionLeases },
  ) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: largestMessage(deps.config), perMessageDeflate: false, handleProtocols: selectCollabProtocol });
    this.channelServer = new WebSocketServer({
      noServer: true,
      maxPayload: largestMessage(deps.config) + MUX_FRAME_OVERHEAD,
      perMessageDeflate: false,
      handleProtocols: (offered) => (offered.has(COLLAB_MUX_PROTOCOL) ? COLLAB_MUX_PROTOCOL : false),
    });
    this.users = new UserConnections(deps.config.maxConnectionsPerUser, deps.config.maxDocumentsPerUser);
    const idleMs = deps.config.idleTimeoutMs;
    if (idleMs > 0) {
      this.idleSweep = setInterval(() => this.closeIdle(idleMs), Math.max(250, Math.min(30_000, idleMs / 4)));
      this.idleSweep.unref();
    }
  }

  /** A connection that said nothing for `idleMs` holds a document and a socket for no one: it is closed (a live client reconnects). */
  private closeIdle(idleMs: number): void {
    const now = performance.now();
    for (const c of this.connections) {
      if (now - c.activity.lastMessageAt > idleMs && c.link.isOpen) c.link.close(CloseCodes.goingAway, "idle timeout");
    }
  }

  handleUpgrade(req: HttpRequest, socket: Duplex, head: Buffer): void {
    if (req.url === COLLAB_MUX_PATH) {
      this.openChannel(req, socket, head);
      return;
    }
    const target = parseCollabUrl(req.url);
    if (!target || !this.accepting) {
      socket.end(`HTTP/1.1 ${this.accepting ? "404 Not Found" : "503 Service Unavailable"}\r\nConnection: close\r\n\r\n`);
      return;
    }
    const opened = this.takeOpeningPlace();
    if (!opened) {
      socket.end("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\n\r\n");
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on("error", (err) => this.deps.log.debug({ err }, "socket error"));
      const requestId = req.headers["x-request-id"];
      this.run(httpTraceContextOf(req.headers), webSocketLink(ws, socket), target.docId, collabTokenOf(req).token, typeof requestId === "string" ? requestId : undefined, opened);
    });
    // A handshake ws refused (a bad key, a closed socket) never reaches the callback.
    socket.once("close", opened);
  }

  /** A gateway's channel: its clients' connections arrive as streams (see COLLAB_MUX_PATH). */
  private openChannel(req: HttpRequest, socket: Duplex, head: Buffer): void {
    if (!this.accepting) {
      socket.end("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n");
      return;
    }
    this.channelServer.handleUpgrade(req, socket, head, (ws) => {
      const { config } = this.deps;
      const hello = { replicaId: config.replicaId, maxMessageBytes: largestMessage(config), window: config.maxPendingBytes };
      const channel = new MuxChannel(ws, socket, hello, (open) => this.openStream(open), this.deps.log);
      this.channels.add(channel);
      ws.once("close", () => this.channels.delete(channel));
    });
  }

  private openStream(open: MuxOpen): OpenDecision {
    if (!this.accepting) return { busy: "shutting down" };
    const opened = this.takeOpeningPlace();
    if (!opened) return { busy: "opening as many connections as it will" };
    return {
      accept: (link) => {
        link.onClose(opened);
        this.run(httpTraceContextOf(open.trace), link, open.docId, open.token, open.requestId, opened);
      },
    };
  }

  /**
   * One of the SYNC_MAX_OPENING places for a connection being authorized and loaded, with the
   * function that gives it back (once, however often it is called); none when all are taken.
   */
  private takeOpeningPlace(): (() => void) | undefined {
    if (this.opening >= this.deps.config.maxOpening) {
      this.deps.metrics.shedOpens.inc();
      return undefined;
    }
    this.opening++;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.opening--;
    };
  }

  private run(trace: ReturnType<typeof httpTraceContextOf>, link: ClientLink, docId: string, token: string | null, requestId: string | undefined, opened: () => void): void {
    // With tracing on, authorizing and loading continue the trace of the gateway's connection span.
    const run = runInTraceContext(trace, () => this.onConnection(link, docId, token, requestId, opened));
    this.runs.add(run);
    void run.finally(() => {
      opened();
      this.runs.delete(run);
    });
  }

  /** Closes every connection of a revoked session at once. */
  closeSession(sessionId: string, reason: string): void {
    for (const c of this.connections) if (c.sessionId === sessionId) c.link.close(closeCodeOf("SESSION_REVOKED"), reason);
  }

  /**
   * Closes the connections of sessions the revocation list now refuses, for a notice that never
   * arrived. A list that cannot answer closes nothing: the notices still do.
   */
  async recheckSessions(assertActive: (claims: { sessionId: string; issuedAt: number }) => Promise<void>): Promise<void> {
    const sessions = new Map<string, number>();
    for (const c of this.connections) sessions.set(c.sessionId, Math.min(sessions.get(c.sessionId) ?? Infinity, c.tokenIssuedAt));
    for (const [sessionId, issuedAt] of sessions) {
      try {
        await assertActive({ sessionId, issuedAt });
      } catch (err) {
        if (err instanceof AppError && err.code === "SESSION_REVOKED") this.closeSession(sessionId, "session revoked");
      }
    }
  }

  private async onConnection(link: ClientLink, docId: string, token: string | null, requestId: string | undefined, opened: () => void): Promise<void> {
    const { config, rooms, metrics } = this.deps;
    const connId = randomUUID();
    const log = this.deps.log.child({ docId, connId, reqId: requestId });
    // Messages that arrive while we authenticate and load wait here, in order.
    // They count as pending until handled, so the pacer bounds them like any other.
    const early: Uint8Array[] = [];
    let handleEarly: () => void = () => undefined;
    const handled = new Promise<void>((resolve) => (handleEarly = resolve));
    const route: { handler?: (data: Uint8Array) => Promise<void> | undefined } = {};
    const activity = { lastMessageAt: performance.now() };
    // The link learns what is done with, so a gateway carrying the client can read it further.
    const done = (data: Uint8Array, pending: Promise<void> | undefined): Promise<void> | undefined => {
      if (!pending) {
        link.handled(data.byteLength);
        return undefined;
      }
      const settled = () => link.handled(data.byteLength);
      pending.then(settled, settled);
      return pending;
    };
    const pacer = new MessagePacer<Uint8Array>(
      {
        bytesPerSecond: config.bytesPerSecond,
        burstBytes: config.burstBytes,
        maxPendingBytes: config.maxPendingBytes,
        // What the socket had read before it was paused; more means the peer ignores flow control.
        maxHeldBytes: config.maxPendingBytes + largestMessage(config) + config.maxMessageBytes,
      },
      { pause: () => link.pause(), resume: () => link.resume(), get isOpen() { return link.isOpen; } },
      (data) => {
        if (route.handler) return done(data, route.handler(data));
        early.push(data);
        return done(data, handled);
      },
      {
        onThrottle: () => metrics.throttled.inc(),
        onOverflow: () => {
          log.warn("client ignored flow control; disconnecting it");
          metrics.rejectedUpdates.inc({ reason: "overflow" });
          link.close(closeCodeOf("RATE_LIMITED"), "RATE_LIMITED");
        },
      },
    );
    link.onMessage((data) => {
      activity.lastMessageAt = performance.now();
      pacer.push(data, data.byteLength);
    });
    const closed = new Promise<void>((resolve) => link.onClose(resolve));

    // Access changes heard from here on reach this connection even if they land before it joins its room.
    const accessMark = this.deps.recentAccess?.mark() ?? 0;
    let grant;
    try {
      grant = await authorizeCollab(this.deps.verifier, this.deps.nc, docId, token);
    } catch (err) {
      const appErr = toAppError(err);
      if (appErr.code === "INTERNAL") log.error({ err }, "collab authorization failed");
      if (link.isOpen) {
        link.send(encodePermissionDenied(appErr.message));
        link.close(closeCodeOf(appErr.code), appErr.code);
      }
      return;
    }
    if (!link.isOpen) return;

    let refusal = this.users.open(grant.userId, docId);
    if (!refusal && this.deps.leases) {
      refusal = await this.deps.leases.open(grant.userId, docId, connId);
      if (refusal) this.users.close(grant.userId, docId);
    }
    if (refusal) {
      metrics.rejectedUpdates.inc({ reason: "user-limit" });
      if (link.isOpen) {
        link.send(encodePermissionDenied(refusal));
        link.close(closeCodeOf("RATE_LIMITED"), "RATE_LIMITED");
      }
      return;
    }
    void closed.then(() => {
      this.users.close(grant.userId, docId);
      this.deps.leases?.close(connId);
    });

    let room;
    try {
      room = await rooms.acquire(docId);
    } catch (err) {
      log.error({ err }, "could not load document");
      link.close(CloseCodes.tryAgainLater, "document unavailable");
      return;
    }
    if (room.size >= config.maxConnectionsPerDoc) {
      rooms.release(room);
      link.close(CloseCodes.tryAgainLater, "too many connections to this document");
      return;
    }
    if (!link.isOpen) {
      rooms.release(room);
      return;
    }

    /** This connection's updates not yet stored. */
    const appends = new Set<Promise<void>>();
    const connectionTrace = spanContextOf();
    const peer: Peer = {
      id: connId,
      userId: grant.userId,
      name: grant.name,
      canWrite: canWrite(grant.role),
      ...(grant.apiToken ? { apiToken: grant.apiToken } : {}),
      ...(connectionTrace ? { trace: connectionTrace } : {}),
      send: (message) => {
        if (!link.isOpen) return;
        if (link.bufferedAmount > config.maxBufferedBytes) {
          log.warn({ buffered: link.bufferedAmount }, "client is not reading; disconnecting it");
          metrics.rejectedUpdates.inc({ reason: "slow-reader" });
          link.terminate();
          return;
        }
        link.holdWrites();
        link.send(message);
      },
      close: (code, reason) => link.close(code, reason),
    };
    let draining = false;
    const connection: Connection = {
      peer,
      sessionId: grant.sessionId,
      tokenIssuedAt: grant.tokenIssuedAt,
      link,
      activity,
      drain: () => {
        if (draining) return;
        draining = true;
        // Messages the pacer holds back were received from the client: they go to the room now,
        // and so does whatever arrives before the client's own close frame.
        pacer.unlimit();
        link.close(CloseCodes.serviceRestart, "server restarting");
        // A client that never answers the close is cut off; what it sent until then is kept.
        const cutOff = setTimeout(() => link.terminate(), DRAIN_TIMEOUT_MS);
        cutOff.unref();
        link.onClose(() => clearTimeout(cutOff));
      },
    };
    this.connections.add(connection);
    metrics.connections.inc();
    room.join(peer);
    opened();
    const missed = this.deps.recentAccess?.since(accessMark, docId, grant.userId);
    if (missed) applyAccessChange(peer, missed);
    // The token is only good until it expires: the client reconnects with a renewed one (4401).
    // An API token may live a year, or until revoked (Infinity): past setTimeout's 32-bit limit
    // the timer would fire at once, so a long one waits the longest it can (the socket rarely does).
    const expiry = setTimeout(() => link.close(closeCodeOf("TOKEN_EXPIRED"), "access token expired"), delayUntil(grant.tokenExpiresAt));
    expiry.unref();
    link.onClose(() => clearTimeout(expiry));

    const handler = (bytes: Uint8Array): Promise<void> | undefined => {
      let message;
      try {
        message = decodeMessage(bytes);
      } catch {
        metrics.rejectedUpdates.inc({ reason: "malformed" });
        link.close(closeCodeOf("MALFORMED_UPDATE"), "malformed message");
        return undefined;
      }
      // Only a document update may be larger than an ordinary message (ws already refused anything above its bound).
      if (bytes.byteLength > config.maxMessageBytes && message.type !== "sync-update") {
        metrics.rejectedUpdates.inc({ reason: "too-large" });
        link.close(CloseCodes.messageTooBig, "message too big");
        return undefined;
      }
      try {
        const pending = room.handle(peer, message);
        if (pending) {
          appends.add(pending);
          void pending.finally(() => appends.delete(pending));
        }
        return pending;
      } catch (err) {
        log.warn({ err }, "refusing message");
        link.close(closeCodeOf("MALFORMED_UPDATE"), "malformed message");
        return undefined;
      }
    };
    // Credited to the link already, when `handled` resolves just below.
    for (const data of early.splice(0)) handler(data);
    route.handler = handler;
    handleEarly();
    // Set up while the replica began draining: handled like the others, after what it sent so far.
    if (!this.accepting) connection.drain();

    await closed;
    // Whatever the client sent before its close frame has reached the room; the connection is
    // over only when all of it is stored (or has failed, which the client hears as 1011).
    while (appends.size > 0) await Promise.allSettled([...appends]);
    this.connections.delete(connection);
    metrics.connections.dec();
    room.leave(peer);
    rooms.release(room);
  }

  /**
   * Drains the replica: refuses new connections (503, so a gateway tries another replica), tells
   * every client to reconnect (1012), keeps taking in what each sends until it answers the close
   * (what was on the wire is not lost), and returns once every update received is stored.
   * The gateways have already been told that this replica is leaving (see main.ts).
   */
  async close(): Promise<void> {
    this.accepting = false;
    if (this.idleSweep) clearInterval(this.idleSweep);
    for (const c of this.connections) c.drain();
    while (this.runs.size > 0) await Promise.allSettled([...this.runs]);
    // Every stream has ended by now; the gateways open channels to the replicas that remain.
    for (const channel of this.channels) channel.terminate();
    this.wss.close();
    this.channelServer.close();
  }
}

/** The largest WebSocket message taken in: an update, when it may be larger than an ordinary message. */
function largestMessage(config: SyncConfig): number {
  return Math.max(config.maxMessageBytes, config.maxUpdateBytes);
}

