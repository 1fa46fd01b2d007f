import * as Y from "yjs";
import { WebsocketProvider } from "y-websocket";
import WebSocket from "ws";

export interface CollabClient {
  doc: Y.Doc;
  provider: WebsocketProvider;
  text(): string;
  destroy(): void;
}

/** An unmodified y-websocket provider, connected through the gateway as a browser would be. */
export function connectClient(gatewayUrl: string, docId: string, token: string, opts: { connect?: boolean } = {}): CollabClient {
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(`${gatewayUrl.replace(/^http/, "ws")}/collab`, docId, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    params: { token },
    disableBc: true,
    connect: opts.connect ?? true,
    maxBackoffTime: 500,
  });
  return {
    doc,
    provider,
    text: () => doc.getText("t").toString(),
    destroy: () => {
      provider.destroy();
      doc.destroy();
    },
  };
}

export interface RawSession {
  messages: Uint8Array[];
  closed: Promise<{ code: number; reason: string }>;
  socket: WebSocket;
}

/** A bare WebSocket, to see exactly what the server sends and how it closes. */
export function rawConnect(url: string): RawSession {
  const socket = new WebSocket(url);
  const messages: Uint8Array[] = [];
  socket.on("message", (data: Buffer) => messages.push(new Uint8Array(data)));
  socket.on("error", () => undefined);
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  return { messages, closed, socket };
}
