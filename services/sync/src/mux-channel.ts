import type { Duplex } from "node:stream";
import { WebSocket } from "ws";
import { MUX_TERMINATE_CODE, MuxKind, MuxProtocolError, decodeMuxFrame, encodeMuxFrame, type MuxFrame, type MuxHello, type MuxOpen } from "@palimpsest/contracts";
import type { Logger } from "@palimpsest/platform";
import type { ClientLink } from "./client-link.ts";
import { writeCoalescer } from "./write-coalescer.ts";

/** A close the replica started and the gateway never answered is taken as done after this. */
const CLOSE_ANSWER_MS = 10_000;
/**
 * A gateway that does not read its channel would make this replica hold everything for all its
 * clients: past this the channel is dropped (its clients reconnect).
 */
const MAX_CHANNEL_BUFFERED_BYTES = 64 * 1024 * 1024;

/** What the collab server says to a new stream: take it (and handle it), or not now. */
export type OpenDecision = { accept: (link: ClientLink) => void } | { busy: string };

/**
 * The replica's end of a gateway's channel (see COLLAB_MUX_PATH in the contracts): turns its
 * frames into client links, and those links' messages back into frames, all on one socket.
 */
export class MuxChannel {
  private readonly streams = new Map<number, MuxStream>();
  private readonly holdWrites: () => void;
  private closed = false;

  constructor(
    private readonly ws: WebSocket,
    socket: Duplex,
    private readonly hello: MuxHello,
    private readonly onOpen: (open: MuxOpen) => OpenDecision,
    private readonly log: Logger,
  ) {
    this.holdWrites = writeCoalescer(socket);
    ws.on("message", (data, isBinary) => this.receive(data, isBinary));
    ws.on("error", (err) => log.debug({ err }, "gateway channel error"));
    ws.once("close", () => this.end());
    this.write({ kind: MuxKind.hello, stream: 0, hello });
  }

  get size(): number {
    return this.streams.size;
  }

  /** Ends the channel and every stream on it. */
  terminate(): void {
    this.ws.terminate();
    this.end();
  }

  private end(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of [...this.streams.values()]) s.ended();
    this.streams.clear();
  }

  /** @internal for MuxStream */
  write(frame: MuxFrame): void {
    if (this.closed || this.ws.readyState !== WebSocket.OPEN) return;
    if (this.ws.bufferedAmount > MAX_CHANNEL_BUFFERED_BYTES) {
      this.log.warn({ buffered: this.ws.bufferedAmount }, "a gateway is not reading its channel; dropping it");
      this.terminate();
      return;
    }
    this.holdWrites();
    this.ws.send(encodeMuxFrame(frame));
  }

  /** @internal for MuxStream */
  forget(stream: number): void {
    this.streams.delete(stream);
  }

  private receive(data: WebSocket.RawData, isBinary: boolean): void {
    let frame: MuxFrame;
    try {
      if (!isBinary || !Buffer.isBuffer(data)) throw new MuxProtocolError("a channel frame is one binary message");
      frame = decodeMuxFrame(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    } catch (err) {
      this.log.warn({ err }, "a gateway channel broke the protocol; dropping it");
      this.terminate();
      return;
    }
    const stream = this.streams.get(frame.stream);
    switch (frame.kind) {
      case MuxKind.open: {
        if (stream || frame.stream === 0) {
          this.log.warn({ stream: frame.stream }, "a gateway opened a stream twice; dropping its channel");
          this.terminate();
          return;
        }
        const decision = this.onOpen(frame.open);
        if ("busy" in decision) {
          this.write({ kind: MuxKind.busy, stream: frame.stream, reason: decision.busy });
          return;
        }
        const s = new MuxStream(this, frame.stream, this.hello.window);
        this.streams.set(frame.stream, s);
        this.write({ kind: MuxKind.accept, stream: frame.stream });
        decision.accept(s);
        return;
      }
      case MuxKind.data:
        stream?.receive(frame.data);
        return;
      case MuxKind.close:
        stream?.ended();
        return;
      default:
        this.log.warn({ kind: frame.kind }, "a gateway sent a frame only replicas send; dropping its channel");
        this.terminate();
    }
  }
}

/** One client carried by a channel. */
class MuxStream implements ClientLink {
  private state: "open" | "closing" | "closed" = "open";
  private readonly messageListeners: ((data: Uint8Array) => void)[] = [];
  private readonly closeListeners: (() => void)[] = [];
  private uncredited = 0;
  private closeTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly channel: MuxChannel,
    private readonly id: number,
    private readonly window: number,
  ) {}

  get isOpen(): boolean {
    return this.state === "open";
  }

  /** The gateway holds what its client has not read yet, and cuts off a client that stops reading. */
  get bufferedAmount(): number {
    return 0;
  }

  send(message: Uint8Array): void {
    if (this.state !== "open") return;
    this.channel.write({ kind: MuxKind.data, stream: this.id, data: message });
  }

  close(code: number, reason: string): void {
    if (this.state !== "open") return;
    this.state = "closing";
    this.channel.write({ kind: MuxKind.close, stream: this.id, code, reason });
    this.closeTimer = setTimeout(() => this.ended(), CLOSE_ANSWER_MS);
    this.closeTimer.unref();
  }

  terminate(): void {
    if (this.state === "closed") return;
    this.channel.write({ kind: MuxKind.close, stream: this.id, code: MUX_TERMINATE_CODE, reason: "" });
    this.ended();
  }

  // Flow control is the gateway's: it stops reading a client whose data the replica has not credited.
  pause(): void {}
  resume(): void {}

  holdWrites(): void {
    // The channel's writes are held for the tick as soon as anything is written to it.
  }

  handled(bytes: number): void {
    if (this.state === "closed") return;
    this.uncredited += bytes;
    if (this.uncredited < this.window / 4) return;
    this.channel.write({ kind: MuxKind.credit, stream: this.id, bytes: this.uncredited });
    this.uncredited = 0;
  }

  onMessage(listener: (data: Uint8Array) => void): void {
    this.messageListeners.push(listener);
  }

  onClose(listener: () => void): void {
    this.closeListeners.push(listener);
  }

  receive(data: Uint8Array): void {
    if (this.state === "closed") return;
    for (const l of this.messageListeners) l(data);
  }

  ended(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    clearTimeout(this.closeTimer);
    this.channel.forget(this.id);
    for (const l of this.closeListeners.splice(0)) l();
  }
}
