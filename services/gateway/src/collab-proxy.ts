import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, WebSocket } from "ws";
import { AppError, CloseCodes, MUX_TERMINATE_CODE, closeCodeOf, closeFrameMayCarry, toAppError, type ErrorCode, type MuxHello } from "@palimpsest/contracts";
import {
  SpanAttributes,
  SpanKind,
  collabTokenOf,
  httpTraceContextOf,
  parseCollabUrl,
  recordFailure,
  selectCollabProtocol,
  traceHttpHeaders,
  tracingEnabled,
  withSpan,
  type Logger,
  type Span,
  type TokenVerifier,
  type VerifiedToken,
} from "@palimpsest/platform";
import { Counter, Gauge } from "prom-client";
import type { Registry } from "prom-client";
import { SyncChannels, type SyncStream } from "./sync-channels.ts";
import type { Upstreams } from "./upstreams.ts";

/** With no sync replica known (this gateway just started, or every replica is restarting), how long a connection waits for one. */
const NO_REPLICA_WAIT_MS = 3_000;
/** How long a relay waits for the sync replica's own close before cutting a revoked session. */
const REVOCATION_GRACE_MS = 1_000;
/** How long a client may take to answer a close before its socket is dropped. */
const CLOSE_GRACE_MS = 2_000;
/**
 * When every replica answers that it is opening as many connections as it will (a burst of
 * reconnects after a replica died), the gateway keeps the client waiting and asks again, for up to
 * this long, instead of sending it away with 1013: a client sent away comes back within a second or
 * two and pays for its token check, its admission and its handshake again, and a thousand of them
 * doing so at once are what keeps the replicas busy.
 */
const BUSY_WAIT_MS = 15_000;
/** The first pause between two rounds of asking; it doubles up to a second, with jitter. */
const BUSY_FIRST_PAUSE_MS = 100;
const WEBSOCKET_KEY = /^[+/0-9A-Za-z]{22}==$/;

/** y-protocols auth message: [messageAuth=2][permissionDenied=0][reason]. Built by hand to keep Yjs out of the gateway. */
function permissionDenied(reason: string): Buffer {
  const text = Buffer.from(reason, "utf8");
  const len: number[] = [];
  let n = text.length;
  while (n > 0x7f) {
    len.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  len.push(n);
  return Buffer.concat([Buffer.from([2, 0, ...len]), text]);
}

interface Relay {
  sessionId: string;
  /** Closes the client with a code of the gateway's own. */
  close(code: number, reason: string): void;
}

/** Who opens a /collab connection, as their token says. */
export type CollabCaller = Pick<VerifiedToken, "userId" | "sessionId" | "issuedAt">;

export interface CollabProxyOptions {
  /** The sync replicas, fixed or discovered; tried in the order given for each connection. */
  sync: Upstreams;
  verifier: TokenVerifier;
  log: Logger;
  registry: Registry;
  /** A client that does not read is cut off once this much is queued for it here. */
  maxBufferedBytes: number;
  /** Checks after the token's signature, before a connection is relayed (revocation, connection rate); throws an AppError to refuse. */
  admit: (caller: CollabCaller) => Promise<void>;
}

/**
 * Terminates /collab on the public side: checks the token, the session and the connection rate
 * before any work (the replica checks the caller's role before anything of the document is
 * sent), then carries the client's messages to a sync replica over a channel that many clients
 * share (sync-channels.ts): one socket and one set of system calls for all of them, instead of a
 * TCP connection and a handshake per client. New connections go to the replicas in turn; one that
 * does not answer, or answers that it is busy or draining, is skipped for the next.
 *
 * The replica handles each client as if it were connected directly: it checks the token and the
 * role, paces the client (the gateway stops reading a client whose data the replica has not
 * handled yet, so TCP slows it down) and decides when to close it and with which code. The gateway
 * ends connections on its own for a revoked session, its own shutdown, a client that stops
 * reading, and a replica that went away (1012: reconnect).
 */

export class CollabProxy {
  private readonly refusals: WebSocketServer;
  /** Client-facing servers by the largest message they take (a replica's hello says its own). */
  private readonly servers = new Map<number, WebSocketServer>();
  private readonly channels: SyncChannels;
  private readonly relays = new Set<Relay>();
  private accepting = true;
  private readonly active: Gauge;
  private readonly refused: Counter<"code">;
  private readonly slowDisconnects: Counter;
  private readonly busyWaits: Counter;

  constructor(private readonly opts: CollabProxyOptions) {
    // Only to answer refused connections in the protocol: an auth message and a close code.
    // A browser that offered a subprotocol drops a handshake answered without one, and would never see the close code.
    this.refusals = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024, perMessageDeflate: false, handleProtocols: selectCollabProtocol });
    this.active = new Gauge({ name: "gateway_collab_connections", help: "open /collab relays", registers: [opts.registry] });
    this.refused = new Counter({ name: "gateway_collab_refused_total", help: "refused /collab connections", labelNames: ["code"], registers: [opts.registry] });
    this.slowDisconnects = new Counter({ name: "gateway_collab_slow_disconnects_total", help: "/collab clients cut off for not reading", registers: [opts.registry] });
    this.busyWaits = new Counter({ name: "gateway_collab_busy_waits_total", help: "times a /collab client waited because every sync replica was opening as many connections as it will", registers: [opts.registry] });
    const channelCount = new Gauge({ name: "gateway_sync_channels", help: "open channels to sync replicas, each carrying many /collab clients", registers: [opts.registry] });
    this.channels = new SyncChannels(opts.log, (n) => channelCount.set(n));
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const target = parseCollabUrl(req.url);
    if (!target || !this.accepting) {
      socket.end(`HTTP/1.1 ${this.accepting ? "404 Not Found" : "503 Service Unavailable"}\r\nConnection: close\r\n\r\n`);
      return;
    }
    const key = req.headers["sec-websocket-key"];
    if (req.method !== "GET" || req.headers.upgrade?.toLowerCase() !== "websocket" || typeof key !== "string" || !WEBSOCKET_KEY.test(key) || req.headers["sec-websocket-version"] !== "13") {
      socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
      return;
    }
    const { token } = collabTokenOf(req);
    const requestId = typeof req.headers["x-request-id"] === "string" ? req.headers["x-request-id"] : crypto.randomUUID();
    socket.on("error", (err) => this.opts.log.debug({ err }, "client socket error"));
    if (!tracingEnabled()) {
      void this.relay(req, socket, head, target.docId, token, requestId, undefined);
      return;
    }
    // The span covers opening the connection (authorization, admission, reaching a replica), not
    // its life: the edits made over it are traces of their own, linked to this one.
    void withSpan(
      "GET /collab/:docId",
      {
        kind: SpanKind.SERVER,
        parent: httpTraceContextOf(req.headers) ?? null,
        attributes: { [SpanAttributes.httpMethod]: "GET", [SpanAttributes.httpRoute]: "/collab/:docId", [SpanAttributes.docId]: target.docId, [SpanAttributes.requestId]: requestId },
      },
      (span) => this.relay(req, socket, head, target.docId, token, requestId, span),
    );
  }

  /** Closes every relay of a revoked session. The sync replica closes them too; this is the backstop. */
  closeSession(sessionId: string): void {
    for (const r of this.relays) {
      if (r.sessionId !== sessionId) continue;
      setTimeout(() => r.close(closeCodeOf("SESSION_REVOKED"), "session revoked"), REVOCATION_GRACE_MS).unref();
    }
  }

  private refuse(req: IncomingMessage, socket: Duplex, head: Buffer, code: ErrorCode | "TRY_AGAIN_LATER", message: string): void {
    this.refused.inc({ code: code === "TRY_AGAIN_LATER" ? "UNAVAILABLE" : code });
    if (socket.destroyed) return;
    this.refusals.handleUpgrade(req, socket, head, (ws) => {
      if (code === "TRY_AGAIN_LATER") {
        ws.close(CloseCodes.tryAgainLater, message);
        return;
      }
      ws.send(permissionDenied(message));
      ws.close(closeCodeOf(code), code);
    });
  }

  private async relay(req: IncomingMessage, client: Duplex, head: Buffer, docId: string, token: string | null, requestId: string, span: Span | undefined): Promise<void> {
    const log = this.opts.log.child({ docId, reqId: requestId });
    try {
      // Here: who is calling (a valid token of a live session) and how often they connect. Their
      // role on the document is decided by the replica that takes the connection, which asks docs
      // anyway; asking here too cost every open one more round trip through the bus.
      if (!token) throw new AppError("UNAUTHENTICATED", "an access token is required");
      const grant = await this.opts.verifier.verify(token);
      await this.opts.admit(grant);
      if (client.destroyed) return;
      const stream = await this.openStream(docId, token, requestId, client, log);
      if (!stream) {
        span?.setAttribute(SpanAttributes.errorType, "UNAVAILABLE");
        this.refuse(req, client, head, "TRY_AGAIN_LATER", "no sync service available");
        return;
      }
      if (client.destroyed || !this.accepting) {
        stream.end(CloseCodes.goingAway);
        if (!client.destroyed) this.refuse(req, client, head, "TRY_AGAIN_LATER", "server restarting");
        return;
      }
      this.accept(req, client, head, stream, grant.sessionId, log);
    } catch (err) {
      const appErr = toAppError(err);
      if (appErr.code === "INTERNAL") log.error({ err }, "collab authorization failed");
      if (span) recordFailure(span, appErr);
      this.refuse(req, client, head, appErr.code, appErr.message);
    }
  }

  /**
   * A stream on a replica that takes the client: the replicas in turn, skipping those that are busy
   * or do not answer. While at least one said busy, it asks again after a pause, for a while.
   */
  private async openStream(docId: string, token: string, requestId: string, client: Duplex, log: Logger): Promise<SyncStream | undefined> {
    // The replica continues this connection's trace (empty when tracing is off).
    const open = { docId, token, requestId, trace: traceHttpHeaders() };
    const giveUpAt = performance.now() + BUSY_WAIT_MS;
    for (let round = 0; ; round++) {
      let urls = this.opts.sync.pick();
      if (urls.length === 0) {
        await this.opts.sync.waitForAny(NO_REPLICA_WAIT_MS);
        urls = this.opts.sync.pick();
      }
      let busy = 0;
      for (const base of urls) {
        const result = await this.channels.open(base, open);
        if (result === "busy") {
          // A replica opening as many connections as it will at once, or draining: expected in a burst of reconnects.
          log.debug({ syncUrl: base }, "sync replica busy; trying the next");
          busy++;
          continue;
        }
        if (result === "failed") {
          log.warn({ syncUrl: base }, "sync replica did not accept the connection; trying the next");
          continue;
        }
        return result.stream;
      }
      if (busy === 0 || client.destroyed || !this.accepting) return undefined;
      const pause = Math.min(1_000, BUSY_FIRST_PAUSE_MS * 2 ** round) * (0.5 + Math.random());
      if (performance.now() + pause > giveUpAt) return undefined;
      this.busyWaits.inc();
      await new Promise((resolve) => setTimeout(resolve, pause));
      if (client.destroyed || !this.accepting) return undefined;
    }
  }

  private serverFor(hello: MuxHello): WebSocketServer {
    let server = this.servers.get(hello.maxMessageBytes);
    if (!server) {
      server = new WebSocketServer({ noServer: true, maxPayload: hello.maxMessageBytes, perMessageDeflate: false, handleProtocols: selectCollabProtocol });
      this.servers.set(hello.maxMessageBytes, server);
    }
    return server;
  }

  /** Completes the client's handshake and joins it to its stream. */
  private accept(req: IncomingMessage, client: Duplex, head: Buffer, stream: SyncStream, sessionId: string, log: Logger): void {
    let upgraded = false;
    // A handshake ws refuses, or a client gone meanwhile, never reaches the callback.
    client.once("close", () => {
      if (!upgraded) stream.end(CloseCodes.goingAway);
    });
    this.serverFor(stream.hello).handleUpgrade(req, client, head, (ws) => {
      upgraded = true;
      this.join(ws, client, stream, sessionId, log);
    });
  }

  private join(ws: WebSocket, socket: Duplex, stream: SyncStream, sessionId: string, log: Logger): void {
    const { window } = stream.hello;
    let outstanding = 0;
    let paused = false;
    /** The replica has forgotten the stream (it dropped the client, or the channel is lost). */
    let replicaGone = false;
    let held = false;
    let cutOff: NodeJS.Timeout | undefined;
    const closeClient = (code: number, reason: string) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      // A code no close frame may carry (a replica's mistake) would make ws throw: 1011 instead.
      if (!closeFrameMayCarry(code)) ws.close(CloseCodes.internalError, "internal error");
      else ws.close(code, reason);
      // A client that does not answer the close is dropped, whatever it still sends.
      cutOff = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
      cutOff.unref();
    };
    const relay: Relay = { sessionId, close: (code, reason) => closeClient(code, reason) };
    this.relays.add(relay);
    this.active.inc();

    ws.on("error", (err) => log.debug({ err }, "client socket error"));
    ws.on("message", (data) => {
      if (replicaGone) return;
      const message = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      stream.send(message);
      outstanding += message.byteLength;
      // What the replica has not handled yet stays in TCP, on the client's side.
      if (!paused && outstanding >= window) {
        paused = true;
        ws.pause();
      }
    });
    ws.once("close", (code) => {
      clearTimeout(cutOff);
      this.relays.delete(relay);
      this.active.dec();
      if (!replicaGone) stream.end(code);
    });
    stream.listen({
      data: (message) => {
        if (ws.readyState !== WebSocket.OPEN) return;
        // Messages for one client produced together leave in one system call.
        if (!held) {
          held = true;
          socket.cork();
          process.nextTick(() => {
            held = false;
            socket.uncork();
          });
        }
        ws.send(message);
        if (ws.bufferedAmount > this.opts.maxBufferedBytes) {
          log.warn({ buffered: ws.bufferedAmount }, "client is not reading; disconnecting it");
          this.slowDisconnects.inc();
          ws.terminate();
        }
      },
      credit: (bytes) => {
        outstanding = Math.max(0, outstanding - bytes);
        if (paused && outstanding < window) {
          paused = false;
          ws.resume();
        }
      },
      close: (code, reason) => {
        if (code === MUX_TERMINATE_CODE) {
          replicaGone = true;
          ws.terminate();
          return;
        }
        // What the client sends until it answers still goes to the replica (a draining replica
        // stores it), and the stream ends when the client's socket does.
        closeClient(code, reason);
      },
      lost: () => {
        replicaGone = true;
        // The replica went away without closing its clients (crashed): they reconnect.
        closeClient(CloseCodes.serviceRestart, "sync service went away");
      },
    });
  }

  async close(): Promise<void> {
    this.accepting = false;
    for (const r of this.relays) r.close(CloseCodes.serviceRestart, "server restarting");
    this.refusals.close();
    for (const server of this.servers.values()) server.close();
    this.channels.close();
  }
}
