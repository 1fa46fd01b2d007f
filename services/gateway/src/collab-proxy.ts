import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer, type RawData } from "ws";
import type { NatsConnection } from "@nats-io/transport-node";
import { closeCodeOf, toAppError } from "@palimpsest/contracts";
import { authorizeCollab, parseCollabUrl, type CollabGrant, type Logger, type TokenVerifier } from "@palimpsest/platform";
import { TokenBucket } from "./rate-limiter.ts";
import { Counter, Gauge } from "prom-client";
import type { Registry } from "prom-client";

const SERVICE_RESTART = 1012;
const TRY_AGAIN_LATER = 1013;
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

/** Close codes a peer may not send on the wire become "service restart", so clients reconnect. */
function forwardableCode(code: number): number {
  if (code === 1000 || (code >= 1001 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999)) return code;
  return SERVICE_RESTART;
}

interface Relay {
  sessionId: string;
  client: WebSocket;
}

export interface CollabProxyOptions {
  syncUrls: readonly string[];
  verifier: TokenVerifier;
  nc: NatsConnection;
  log: Logger;
  registry: Registry;
  pendingBytes: number;
  maxMessageBytes: number;
  maxBufferedBytes: number;
  messagesPerSecond: number;
  messageBurst: number;
  /** Further checks before a connection is relayed (revocation, connection rate); throws an AppError to refuse. */
  admit?: (grant: CollabGrant) => Promise<void>;
}

/**
 * Terminates /collab WebSockets: checks the token and the caller's access before anything of
 * the document is sent, then relays frames both ways to a sync replica, spreading connections
 * over the replicas in turn and trying the next when one does not answer. Keeping the client
 * socket here (rather than passing the TCP stream through) lets the gateway close it when the
 * session is revoked.
 */
export class CollabProxy {
  private readonly wss: WebSocketServer;
  private readonly relays = new Set<Relay>();
  private next = 0;
  private accepting = true;
  private readonly active: Gauge;
  private readonly refused: Counter<"code">;
  private readonly throttled: Counter;
  private readonly slowDisconnects: Counter;

  constructor(private readonly opts: CollabProxyOptions) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxMessageBytes, perMessageDeflate: false });
    this.active = new Gauge({ name: "gateway_collab_connections", help: "open /collab relays", registers: [opts.registry] });
    this.refused = new Counter({ name: "gateway_collab_refused_total", help: "refused /collab connections", labelNames: ["code"], registers: [opts.registry] });
    this.slowDisconnects = new Counter({ name: "gateway_collab_slow_disconnects_total", help: "/collab clients cut off for not reading", registers: [opts.registry] });
    this.throttled = new Counter({ name: "gateway_collab_throttled_total", help: "times a /collab client was paused for sending too fast", registers: [opts.registry] });
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const target = parseCollabUrl(req.url);
    if (!target || !this.accepting) {
      socket.end(`HTTP/1.1 ${this.accepting ? "404 Not Found" : "503 Service Unavailable"}\r\nConnection: close\r\n\r\n`);
      return;
    }
    const requestId = typeof req.headers["x-request-id"] === "string" ? req.headers["x-request-id"] : crypto.randomUUID();
    this.wss.handleUpgrade(req, socket, head, (ws) => void this.onClient(ws, target.docId, target.token, requestId));
  }

  closeSession(sessionId: string): void {
    for (const r of this.relays) {
      if (r.sessionId !== sessionId) continue;
      r.client.resume();
      r.client.close(closeCodeOf("SESSION_REVOKED"), "session revoked");
    }
  }

  private async onClient(client: WebSocket, docId: string, token: string | null, requestId: string): Promise<void> {
    const log = this.opts.log.child({ docId, reqId: requestId });
    const pending: RawData[] = [];
    let pendingBytes = 0;
    // Filled in once the sync replica accepts; until then client messages wait in `pending`.
    const link: { upstream?: WebSocket } = {};
    // Over its budget a client's messages wait in order and are passed on at the budgeted rate,
    // and its socket is paused meanwhile so TCP pushes back: it is slowed down, nothing is lost.
    const bucket = new TokenBucket(this.opts.messagesPerSecond, this.opts.messageBurst);
    const backlog: { data: RawData; isBinary: boolean }[] = [];
    let draining = false;
    const forward = (data: RawData, isBinary: boolean) => {
      if (link.upstream?.readyState === WebSocket.OPEN) {
        link.upstream.send(data, { binary: isBinary });
        return;
      }
      pendingBytes += byteLength(data);
      if (pendingBytes > this.opts.pendingBytes) {
        client.close(closeCodeOf("PAYLOAD_TOO_LARGE"), "too much data before the document opened");
        return;
      }
      pending.push(data);
    };
    const drain = () => {
      while (backlog.length > 0 && bucket.take()) {
        const next = backlog.shift()!;
        forward(next.data, next.isBinary);
      }
      if (backlog.length > 0 && client.readyState === WebSocket.OPEN) {
        setTimeout(drain, Math.ceil(1000 / this.opts.messagesPerSecond)).unref();
        return;
      }
      draining = false;
      if (client.readyState !== WebSocket.CLOSED) client.resume();
    };
    client.on("message", (data, isBinary) => {
      if (backlog.length === 0 && bucket.take()) {
        forward(data, isBinary);
        return;
      }
      backlog.push({ data, isBinary });
      if (!draining) {
        draining = true;
        this.throttled.inc();
        client.pause();
        setTimeout(drain, Math.ceil(1000 / this.opts.messagesPerSecond)).unref();
      }
    });
    client.on("error", (err) => log.debug({ err }, "client socket error"));

    let grant;
    try {
      grant = await authorizeCollab(this.opts.verifier, this.opts.nc, docId, token, requestId);
      await this.opts.admit?.(grant);
    } catch (err) {
      const appErr = toAppError(err);
      if (appErr.code === "INTERNAL") log.error({ err }, "collab authorization failed");
      this.refused.inc({ code: appErr.code });
      if (client.readyState === WebSocket.OPEN) {
        client.send(permissionDenied(appErr.message));
        client.close(closeCodeOf(appErr.code), appErr.code);
      }
      return;
    }
    if (client.readyState !== WebSocket.OPEN) return;

    const upstream = await this.connectUpstream(docId, token ?? "", requestId, log);
    if (!upstream) {
      this.refused.inc({ code: "UNAVAILABLE" });
      client.close(TRY_AGAIN_LATER, "no sync service available");
      return;
    }
    if (client.readyState !== WebSocket.OPEN) {
      upstream.close(1000);
      return;
    }
    const relay: Relay = { sessionId: grant.sessionId, client };
    this.relays.add(relay);
    this.active.inc();
    const up = upstream;
    for (const data of pending.splice(0)) up.send(data, { binary: true });
    link.upstream = up;
    up.on("message", (data, isBinary) => {
      if (client.readyState !== WebSocket.OPEN) return;
      if (client.bufferedAmount > this.opts.maxBufferedBytes) {
        log.warn({ buffered: client.bufferedAmount }, "client is not reading; disconnecting it");
        this.slowDisconnects.inc();
        client.terminate();
        return;
      }
      client.send(data, { binary: isBinary });
    });
    up.on("close", (code, reason) => {
      if (client.readyState === WebSocket.OPEN || client.readyState === WebSocket.CONNECTING) {
        // A throttled (paused) client must still read the close handshake, or it hangs until the close timeout.
        client.resume();
        client.close(forwardableCode(code), reason);
      }
    });
    up.on("error", (err) => log.warn({ err }, "sync relay error"));
    client.on("close", () => {
      this.relays.delete(relay);
      this.active.dec();
      if (up.readyState === WebSocket.OPEN || up.readyState === WebSocket.CONNECTING) up.close(1000);
    });
  }

  private async connectUpstream(docId: string, token: string, requestId: string, log: Logger): Promise<WebSocket | undefined> {
    const urls = this.opts.syncUrls;
    const start = this.next++ % urls.length;
    for (let i = 0; i < urls.length; i++) {
      const base = urls[(start + i) % urls.length];
      if (!base) continue;
      const url = `${base.replace(/\/$/, "")}/collab/${encodeURIComponent(docId)}?token=${encodeURIComponent(token)}`;
      const ws = new WebSocket(url, { headers: { "x-request-id": requestId }, maxPayload: this.opts.maxMessageBytes, perMessageDeflate: false, handshakeTimeout: 3_000 });
      const opened = await new Promise<boolean>((resolve) => {
        ws.once("open", () => resolve(true));
        ws.once("error", () => resolve(false));
        ws.once("unexpected-response", () => resolve(false));
      });
      if (opened) return ws;
      log.warn({ syncUrl: base }, "sync replica did not accept the connection; trying the next");
      ws.terminate();
    }
    return undefined;
  }

  async close(): Promise<void> {
    this.accepting = false;
    for (const r of this.relays) {
      r.client.resume();
      r.client.close(SERVICE_RESTART, "server restarting");
    }
    this.wss.close();
  }
}

function byteLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.byteLength, 0);
  return data.byteLength;
}
