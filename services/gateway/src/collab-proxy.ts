import type { IncomingMessage } from "node:http";
import net from "node:net";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { AppError, CloseCodes, closeCodeOf, toAppError, type ErrorCode } from "@palimpsest/contracts";
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
import { FrameBoundaries, closeFrame } from "./ws-frames.ts";
import type { Upstreams } from "./upstreams.ts";

/** With no sync replica known (this gateway just started, or every replica is restarting), how long a connection waits for one. */
const NO_REPLICA_WAIT_MS = 3_000;
/** How long a relay waits for the sync replica's own close before cutting a revoked session. */
const REVOCATION_GRACE_MS = 1_000;
/** How long a client may take to answer our close frame before its socket is dropped. */
const CLOSE_GRACE_MS = 2_000;
const MAX_RESPONSE_HEAD_BYTES = 16 * 1024;
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
  /** Ends the relay with a close frame of the gateway's own, sent between two of the server's frames. */
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
 * sent), then joins the client's TCP stream to a sync replica's,
 * spreading connections over the replicas in turn and trying the next when one does not answer
 * (or answers that it is shutting down: a draining replica refuses new connections with 503).
 *
 * Once joined, the bytes pass through without being decoded: the sync replica speaks WebSocket
 * to the client directly (its handshake answer included), and enforces message size, rate and
 * access itself. The gateway only follows frame boundaries on the way down, so it can still end a
 * connection with a proper close frame (revoked session, shutdown, a client that stopped reading).
 */
export class CollabProxy {
  private readonly refusals: WebSocketServer;
  private readonly relays = new Set<Relay>();
  private accepting = true;
  private readonly active: Gauge;
  private readonly refused: Counter<"code">;
  private readonly slowDisconnects: Counter;

  constructor(private readonly opts: CollabProxyOptions) {
    // Only to answer refused connections in the protocol: an auth message and a close code.
    // A browser that offered a subprotocol drops a handshake answered without one, and would never see the close code.
    this.refusals = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024, perMessageDeflate: false, handleProtocols: selectCollabProtocol });
    this.active = new Gauge({ name: "gateway_collab_connections", help: "open /collab relays", registers: [opts.registry] });
    this.refused = new Counter({ name: "gateway_collab_refused_total", help: "refused /collab connections", labelNames: ["code"], registers: [opts.registry] });
    this.slowDisconnects = new Counter({ name: "gateway_collab_slow_disconnects_total", help: "/collab clients cut off for not reading", registers: [opts.registry] });
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
    const { token, inQuery } = collabTokenOf(req);
    const requestId = typeof req.headers["x-request-id"] === "string" ? req.headers["x-request-id"] : crypto.randomUUID();
    socket.on("error", (err) => this.opts.log.debug({ err }, "client socket error"));
    if (!tracingEnabled()) {
      void this.relay(req, socket as net.Socket, head, target.docId, token, inQuery, requestId, undefined);
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
      (span) => this.relay(req, socket as net.Socket, head, target.docId, token, inQuery, requestId, span),
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

  private async relay(req: IncomingMessage, client: net.Socket, head: Buffer, docId: string, token: string | null, inQuery: boolean, requestId: string, span: Span | undefined): Promise<void> {
    const log = this.opts.log.child({ docId, reqId: requestId });
    try {
      // Here: who is calling (a valid token of a live session) and how often they connect. Their
      // role on the document is decided by the replica that takes the connection, which asks docs
      // anyway; asking here too cost every open one more round trip through the bus.
      if (!token) throw new AppError("UNAUTHENTICATED", "an access token is required");
      const grant = await this.opts.verifier.verify(token);
      await this.opts.admit(grant);
      if (client.destroyed) return;
      // A token that came in the subprotocol header goes on in it (forwarded below), not in the URL.
      const upstream = await this.connectUpstream(req, docId, inQuery ? (token ?? "") : null, requestId, log);
      if (!upstream) {
        span?.setAttribute(SpanAttributes.errorType, "UNAVAILABLE");
        this.refuse(req, client, head, "TRY_AGAIN_LATER", "no sync service available");
        return;
      }
      if (client.destroyed) {
        upstream.socket.destroy();
        return;
      }
      this.join(client, head, upstream.socket, upstream.handshake, grant.sessionId, log);
    } catch (err) {
      const appErr = toAppError(err);
      if (appErr.code === "INTERNAL") log.error({ err }, "collab authorization failed");
      if (span) recordFailure(span, appErr);
      this.refuse(req, client, head, appErr.code, appErr.message);
    }
  }

  /** Joins the two streams: the replica's handshake answer goes to the client, then bytes flow both ways. */
  private join(client: net.Socket, head: Buffer, upstream: net.Socket, handshake: Buffer, sessionId: string, log: Logger): void {
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const frames = new FrameBoundaries();
    let closing: { code: number; reason: string } | undefined;
    let ended = false;

    const finish = () => {
      if (ended) return;
      ended = true;
      this.relays.delete(relay);
      this.active.dec();
      upstream.destroy();
      // The client gets a moment to answer a close frame; then its socket goes either way.
      client.end();
      setTimeout(() => client.destroy(), CLOSE_GRACE_MS).unref();
    };
    const sendClose = () => {
      if (!closing || ended) return;
      // A close frame from the replica has already gone down: a second one is a protocol error.
      if (!frames.closeSeen) client.write(closeFrame(closing.code, closing.reason));
      finish();
    };
    const relay: Relay = {
      sessionId,
      close: (code, reason) => {
        if (ended || closing) return;
        closing = { code, reason };
        if (frames.atBoundary) sendClose();
        // Otherwise the frame in progress is completed first, as it arrives.
      },
    };
    this.relays.add(relay);
    this.active.inc();

    const down = (chunk: Buffer) => {
      if (ended) return;
      if (closing) {
        const upTo = frames.feed(chunk, true);
        if (upTo > 0) client.write(chunk.subarray(0, upTo));
        if (frames.atBoundary) sendClose();
        return;
      }
      frames.feed(chunk);
      client.write(chunk);
      if (client.writableLength > this.opts.maxBufferedBytes) {
        log.warn({ buffered: client.writableLength }, "client is not reading; disconnecting it");
        this.slowDisconnects.inc();
        ended = true;
        this.relays.delete(relay);
        this.active.dec();
        upstream.destroy();
        client.destroy();
      }
    };

    client.write(handshake.subarray(0, handshake.indexOf("\r\n\r\n") + 4));
    const early = handshake.subarray(handshake.indexOf("\r\n\r\n") + 4);
    if (early.length > 0) down(early);
    upstream.on("data", down);
    upstream.resume();
    if (head.length > 0) upstream.write(head);
    // Up: the client's bytes to the replica, paused while the replica is not reading (it paces senders).
    client.pipe(upstream, { end: false });
    upstream.on("close", () => {
      if (ended) return;
      // The replica went away without a close frame (crashed): tell the client to reconnect.
      if (!closing) closing = { code: CloseCodes.serviceRestart, reason: "sync service went away" };
      if (frames.atBoundary) sendClose();
      else finish();
    });
    upstream.on("error", (err) => log.warn({ err }, "sync relay error"));
    client.on("close", () => {
      if (ended) return;
      ended = true;
      this.relays.delete(relay);
      this.active.dec();
      upstream.destroy();
    });
  }

  /** Opens a connection to a sync replica with the client's own handshake key, so the replica's answer is valid for the client. */
  private async connectUpstream(req: IncomingMessage, docId: string, queryToken: string | null, requestId: string, log: Logger): Promise<{ socket: net.Socket; handshake: Buffer } | undefined> {
    let urls = this.opts.sync.pick();
    if (urls.length === 0) {
      await this.opts.sync.waitForAny(NO_REPLICA_WAIT_MS);
      urls = this.opts.sync.pick();
    }
    for (const base of urls) {
      const url = new URL(base);
      const query = queryToken === null ? "" : `?token=${encodeURIComponent(queryToken)}`;
      const path = `${url.pathname.replace(/\/$/, "")}/collab/${encodeURIComponent(docId)}${query}`;
      const lines = [
        `GET ${path} HTTP/1.1`,
        `Host: ${url.host}`,
        "Connection: Upgrade",
        "Upgrade: websocket",
        "Sec-WebSocket-Version: 13",
        `Sec-WebSocket-Key: ${String(req.headers["sec-websocket-key"])}`,
        `X-Request-Id: ${requestId}`,
        // The replica continues this connection's trace (empty when tracing is off).
        ...Object.entries(traceHttpHeaders()).map(([name, value]) => `${name}: ${value}`),
        ...(typeof req.headers["sec-websocket-protocol"] === "string" ? [`Sec-WebSocket-Protocol: ${req.headers["sec-websocket-protocol"]}`] : []),
      ];
      const opened = await openUpstream(url.hostname, Number(url.port || 80), `${lines.join("\r\n")}\r\n\r\n`);
      if (opened === "busy") {
        // A replica opening as many connections as it will at once: expected in a burst of reconnects.
        log.debug({ syncUrl: base }, "sync replica busy; trying the next");
        continue;
      }
      if (opened) return opened;
      log.warn({ syncUrl: base }, "sync replica did not accept the connection; trying the next");
    }
    return undefined;
  }

  async close(): Promise<void> {
    this.accepting = false;
    for (const r of this.relays) r.close(CloseCodes.serviceRestart, "server restarting");
    this.refusals.close();
  }
}

/** Sends the handshake and waits for a 101 answer; a 503 is "busy"; anything else, an error or a silence of 3 s is a failure. */
function openUpstream(host: string, port: number, request: string): Promise<{ socket: net.Socket; handshake: Buffer } | "busy" | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let received = Buffer.alloc(0);
    const fail = () => {
      cleanup();
      socket.destroy();
      resolve(undefined);
    };
    const timer = setTimeout(fail, 3_000);
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf("\r\n\r\n");
      if (end < 0) {
        if (received.length > MAX_RESPONSE_HEAD_BYTES) fail();
        return;
      }
      const status = received.subarray(0, end).toString("latin1");
      if (!/^HTTP\/1\.1 101 /.test(status)) {
        cleanup();
        socket.destroy();
        resolve(/^HTTP\/1\.1 503 /.test(status) ? "busy" : undefined);
        return;
      }
      cleanup();
      socket.pause();
      resolve({ socket, handshake: received });
    };
    const cleanup = () => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("error", fail);
      socket.off("close", fail);
    };
    socket.on("data", onData);
    socket.once("error", fail);
    socket.once("close", fail);
    socket.once("connect", () => socket.write(request));
  });
}

