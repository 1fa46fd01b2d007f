import { randomUUID } from "node:crypto";
import type { IncomingMessage as HttpRequest } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, WebSocket, type RawData } from "ws";
import type { NatsConnection } from "@nats-io/transport-node";
import { AppError, CloseCodes, canWrite, closeCodeOf, toAppError } from "@palimpsest/contracts";
import { authorizeCollab, collabTokenOf, httpTraceContextOf, parseCollabUrl, selectCollabProtocol, runInTraceContext, spanContextOf, type Logger, type TokenVerifier } from "@palimpsest/platform";
import { decodeMessage, encodePermissionDenied } from "./protocol.ts";
import { MessagePacer } from "./message-pacer.ts";
import { UserConnections } from "./user-connections.ts";
import type { UserConnectionLeases } from "./user-connection-leases.ts";
import { writeCoalescer } from "./write-coalescer.ts";
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
  ws: WebSocket;
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
      if (now - c.activity.lastMessageAt > idleMs && c.ws.readyState === WebSocket.OPEN) c.ws.close(CloseCodes.goingAway, "idle timeout");
    }
  }

  handleUpgrade(req: HttpRequest, socket: Duplex, head: Buffer): void {
    const target = parseCollabUrl(req.url);
    if (!target || !this.accepting) {
      socket.end(`HTTP/1.1 ${this.accepting ? "404 Not Found" : "503 Service Unavailable"}\r\nConnection: close\r\n\r\n`);
      return;
    }
    if (this.opening >= this.deps.config.maxOpening) {
      this.deps.metrics.shedOpens.inc();
      socket.end("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\n\r\n");
      return;
    }
    this.opening++;
    let counted = true;
    const opened = () => {
      if (!counted) return;
      counted = false;
      this.opening--;
    };
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      // With tracing on, authorizing and loading continue the trace of the gateway's connection span.
      const run = runInTraceContext(httpTraceContextOf(req.headers), () => this.onConnection(ws, socket, target.docId, collabTokenOf(req).token, req.headers["x-request-id"], opened));
      this.runs.add(run);
      void run.finally(() => {
        opened();
        this.runs.delete(run);
      });
    });
    // A handshake ws refused (a bad key, a closed socket) never reaches the callback.
    socket.once("close", opened);
  }

  /** Closes every connection of a revoked session at once. */
  closeSession(sessionId: string, reason: string): void {
    for (const c of this.connections) if (c.sessionId === sessionId) c.ws.close(closeCodeOf("SESSION_REVOKED"), reason);
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

  private async onConnection(ws: WebSocket, socket: Duplex, docId: string, token: string | null, requestIdHeader: string | string[] | undefined, opened: () => void): Promise<void> {
    const { config, rooms, metrics } = this.deps;
    const connId = randomUUID();
    const log = this.deps.log.child({ docId, connId, reqId: typeof requestIdHeader === "string" ? requestIdHeader : undefined });
    // Messages that arrive while we authenticate and load wait here, in order.
    // They count as pending until handled, so the pacer bounds them like any other.
    const early: RawData[] = [];
    let handleEarly: () => void = () => undefined;
    const handled = new Promise<void>((resolve) => (handleEarly = resolve));
    const route: { handler?: (data: RawData) => Promise<void> | undefined } = {};
    const activity = { lastMessageAt: performance.now() };
    const pacer = new MessagePacer<RawData>(
      {
        bytesPerSecond: config.bytesPerSecond,
        burstBytes: config.burstBytes,
        maxPendingBytes: config.maxPendingBytes,
        // What the socket had read before it was paused; more means the peer ignores flow control.
        maxHeldBytes: config.maxPendingBytes + largestMessage(config) + config.maxMessageBytes,
      },
      { pause: () => ws.pause(), resume: () => ws.resume(), get isOpen() { return ws.readyState === WebSocket.OPEN; } },
      (data) => {
        if (route.handler) return route.handler(data);
        early.push(data);
        return handled;
      },
      {
        onThrottle: () => metrics.throttled.inc(),
        onOverflow: () => {
          log.warn("client ignored flow control; disconnecting it");
          metrics.rejectedUpdates.inc({ reason: "overflow" });
          ws.close(closeCodeOf("RATE_LIMITED"), "RATE_LIMITED");
        },
      },
    );
    ws.on("message", (data) => {
      activity.lastMessageAt = performance.now();
      pacer.push(data, byteLengthOf(data));
    });
    ws.on("error", (err) => log.debug({ err }, "socket error"));
    const closed = new Promise<void>((resolve) => ws.once("close", () => resolve()));

    // Access changes heard from here on reach this connection even if they land before it joins its room.
    const accessMark = this.deps.recentAccess?.mark() ?? 0;
    let grant;
    try {
      grant = await authorizeCollab(this.deps.verifier, this.deps.nc, docId, token);
    } catch (err) {
      const appErr = toAppError(err);
      if (appErr.code === "INTERNAL") log.error({ err }, "collab authorization failed");
      if (ws.readyState === WebSocket.OPEN) {
        ws.send(encodePermissionDenied(appErr.message));
        ws.close(closeCodeOf(appErr.code), appErr.code);
      }
      return;
    }
    if (ws.readyState !== WebSocket.OPEN) return;

    let refusal = this.users.open(grant.userId, docId);
    if (!refusal && this.deps.leases) {
      refusal = await this.deps.leases.open(grant.userId, docId, connId);
      if (refusal) this.users.close(grant.userId, docId);
    }
    if (refusal) {
      metrics.rejectedUpdates.inc({ reason: "user-limit" });
      if (ws.readyState === WebSocket.OPEN) {
        ws.send(encodePermissionDenied(refusal));
        ws.close(closeCodeOf("RATE_LIMITED"), "RATE_LIMITED");
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
      ws.close(CloseCodes.tryAgainLater, "document unavailable");
      return;
    }
    if (room.size >= config.maxConnectionsPerDoc) {
      rooms.release(room);
      ws.close(CloseCodes.tryAgainLater, "too many connections to this document");
      return;
    }
    if (ws.readyState !== WebSocket.OPEN) {
      rooms.release(room);
      return;
    }

    const holdWrites = writeCoalescer(socket);
    /** This connection's updates not yet stored. */
    const appends = new Set<Promise<void>>();
    const connectionTrace = spanContextOf();
    const peer: Peer = {
      id: connId,
      userId: grant.userId,
      name: grant.name,
      canWrite: canWrite(grant.role),
      ...(connectionTrace ? { trace: connectionTrace } : {}),
      send: (message) => {
        if (ws.readyState !== WebSocket.OPEN) return;
        if (ws.bufferedAmount > config.maxBufferedBytes) {
          log.warn({ buffered: ws.bufferedAmount }, "client is not reading; disconnecting it");
          metrics.rejectedUpdates.inc({ reason: "slow-reader" });
          ws.terminate();
          return;
        }
        holdWrites();
        ws.send(message);
      },
      close: (code, reason) => ws.close(code, reason),
    };
    let draining = false;
    const connection: Connection = {
      peer,
      sessionId: grant.sessionId,
      tokenIssuedAt: grant.tokenIssuedAt,
      ws,
      activity,
      drain: () => {
        if (draining) return;
        draining = true;
        // Messages the pacer holds back were received from the client: they go to the room now,
        // and so does whatever arrives before the client's own close frame.
        pacer.unlimit();
        ws.close(CloseCodes.serviceRestart, "server restarting");
        // A client that never answers the close is cut off; what it sent until then is kept.
        const cutOff = setTimeout(() => ws.terminate(), DRAIN_TIMEOUT_MS);
        cutOff.unref();
        ws.once("close", () => clearTimeout(cutOff));
      },
    };
    this.connections.add(connection);
    metrics.connections.inc();
    room.join(peer);
    opened();
    const missed = this.deps.recentAccess?.since(accessMark, docId, grant.userId);
    if (missed) applyAccessChange(peer, missed);
    // The token is only good until it expires: the client reconnects with a renewed one (4401).
    const expiry = setTimeout(() => ws.close(closeCodeOf("TOKEN_EXPIRED"), "access token expired"), Math.max(0, grant.tokenExpiresAt - Date.now()));
    expiry.unref();
    ws.once("close", () => clearTimeout(expiry));

    const handler = (data: RawData): Promise<void> | undefined => {
      const bytes = toUint8Array(data);
      let message;
      try {
        message = decodeMessage(bytes);
      } catch {
        metrics.rejectedUpdates.inc({ reason: "malformed" });
        ws.close(closeCodeOf("MALFORMED_UPDATE"), "malformed message");
        return undefined;
      }
      // Only a document update may be larger than an ordinary message (ws already refused anything above its bound).
      if (bytes.byteLength > config.maxMessageBytes && message.type !== "sync-update") {
        metrics.rejectedUpdates.inc({ reason: "too-large" });
        ws.close(CloseCodes.messageTooBig, "message too big");
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
        ws.close(closeCodeOf("MALFORMED_UPDATE"), "malformed message");
        return undefined;
      }
    };
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
    this.wss.close();
  }
}

/** The largest WebSocket message taken in: an update, when it may be larger than an ordinary message. */
function largestMessage(config: SyncConfig): number {
  return Math.max(config.maxMessageBytes, config.maxUpdateBytes);
}

function byteLengthOf(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.byteLength, 0);
  return data.byteLength;
}

function toUint8Array(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
