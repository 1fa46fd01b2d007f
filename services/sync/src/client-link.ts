import type { Duplex } from "node:stream";
import { WebSocket, type RawData } from "ws";
import { writeCoalescer } from "./write-coalescer.ts";

/**
 * One client's connection as the collab server sees it, whether the client's WebSocket ends here
 * or at a gateway that carries it over its channel (see mux-channel.ts).
 */
export interface ClientLink {
  /** Open for messages both ways: neither side has begun closing. */
  readonly isOpen: boolean;
  /** Bytes queued here for the client and not yet written. */
  readonly bufferedAmount: number;
  send(message: Uint8Array): void;
  /** Starts the close; messages the client sent before it saw the close still arrive. */
  close(code: number, reason: string): void;
  /** Drops the client at once, without a close handshake. */
  terminate(): void;
  /** Stops reading the client, so TCP slows it down. */
  pause(): void;
  resume(): void;
  /** Holds this link's writes until the end of the tick, so messages produced together leave in one system call. */
  holdWrites(): void;
  /** The server is done with this many bytes the client sent (stored, or needing no storage). */
  handled(bytes: number): void;
  onMessage(listener: (data: Uint8Array) => void): void;
  /** Called once, when the connection is over. */
  onClose(listener: () => void): void;
}

/** A client connected to this replica directly. */
export function webSocketLink(ws: WebSocket, socket: Duplex): ClientLink {
  const holdWrites = writeCoalescer(socket);
  return {
    get isOpen() {
      return ws.readyState === WebSocket.OPEN;
    },
    get bufferedAmount() {
      return ws.bufferedAmount;
    },
    send: (message) => ws.send(message),
    close: (code, reason) => ws.close(code, reason),
    terminate: () => ws.terminate(),
    pause: () => ws.pause(),
    resume: () => ws.resume(),
    holdWrites,
    handled: () => undefined,
    onMessage: (listener) => ws.on("message", (data) => listener(toUint8Array(data))),
    onClose: (listener) => ws.once("close", () => listener()),
  };
}

function toUint8Array(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
