import type { Duplex } from "node:stream";
import { WebSocket } from "ws";
import {
  COLLAB_MUX_PATH,
  COLLAB_MUX_PROTOCOL,
  MUX_FRAME_OVERHEAD,
  MuxKind,
  MuxProtocolError,
  closeFrameMayCarry,
  decodeMuxFrame,
  encodeMuxFrame,
  type MuxFrame,
  type MuxHello,
  type MuxOpen,
} from "@palimpsest/contracts";
import type { Logger } from "@palimpsest/platform";

/** How long a replica may take to answer a channel's handshake, or an open. */
const ANSWER_MS = 3_000;
/**
 * Clients one channel carries. A channel's system calls serve all of them at once; more than one
 * channel per replica lets a load balancer in front of the replicas (a Kubernetes Service, given
 * as SYNC_URLS) spread a gateway's clients over them.
 */
export const STREAMS_PER_CHANNEL = 256;
/** A replica that does not read its channel would make the gateway hold everything: past this the channel is dropped. */
const MAX_CHANNEL_BUFFERED_BYTES = 64 * 1024 * 1024;
/**
 * The largest frame taken from a replica: what it sends a client is at most a whole document's
 * state (bounded by its storage quota), so this only guards the gateway's memory.
 */
const MAX_FRAME_FROM_REPLICA = 512 * 1024 * 1024 + MUX_FRAME_OVERHEAD;

/** What a stream hears from the replica once it is open. */
export interface StreamEvents {
  data(message: Uint8Array): void;
  /** The replica closes the client so (1006: drop it without a close frame); the stream ends with `end`. */
  close(code: number, reason: string): void;
  credit(bytes: number): void;
  /** The channel is gone: the replica is gone or unreachable. */
  lost(): void;
}

export type OpenResult = { stream: SyncStream } | "busy" | "failed";

/** One client's connection as the gateway carries it on a channel. */
export interface SyncStream {
  readonly hello: MuxHello;
  /** Forwards one message of the client's. */
  send(message: Uint8Array): void;
  /** The client is gone (or was closed by the gateway): the replica may forget it. */
  end(code: number): void;
  listen(events: StreamEvents): void;
}

/** The replica's side is opening this stream, or has; `events` once the client's handshake is done. */
interface StreamSlot {
  answer?: (result: "accepted" | "busy" | "failed") => void;
  events?: StreamEvents;
  /** What the replica sent before the gateway took the client on. */
  early: MuxFrame[];
}

/**
 * A gateway's channel to one sync replica (see COLLAB_MUX_PATH in the contracts): one WebSocket
 * carrying many clients, each a numbered stream.
 */
class SyncChannel {
  readonly ready: Promise<MuxHello | undefined>;
  private readonly slots = new Map<number, StreamSlot>();
  private nextStream = 1;
  private socket: Duplex | undefined;
  private held = false;
  private closed = false;
  private hello: MuxHello | undefined;

  constructor(
    readonly url: string,
    private readonly ws: WebSocket,
    private readonly log: Logger,
    private readonly onEnd: (channel: SyncChannel) => void,
    /** Its last stream ended. */
    private readonly onIdle: (channel: SyncChannel) => void,
  ) {
    this.ready = new Promise((resolve) => {
      const timer = setTimeout(() => {
        resolve(undefined);
        this.end();
      }, ANSWER_MS);
      ws.on("upgrade", (res) => (this.socket = res.socket));
      ws.on("message", (data, isBinary) => {
        const frame = this.decode(data, isBinary);
        if (!frame) return;
        if (!this.hello) {
          if (frame.kind !== MuxKind.hello) return this.broken("the replica's first frame is not its hello");
          this.hello = frame.hello;
          clearTimeout(timer);
          resolve(frame.hello);
          return;
        }
        this.receive(frame);
      });
      ws.on("error", (err) => log.debug({ err, syncUrl: url }, "sync channel error"));
      ws.once("close", () => {
        clearTimeout(timer);
        resolve(undefined);
        this.end();
      });
    });
  }

  get streams(): number {
    return this.slots.size;
  }

  get usable(): boolean {
    return !this.closed && this.slots.size < STREAMS_PER_CHANNEL;
  }

  async open(open: MuxOpen): Promise<OpenResult> {
    // The slot is taken at once, so that opens made together count against this channel's room.
    const id = this.nextStream++;
    const slot: StreamSlot = { early: [] };
    this.slots.set(id, slot);
    const hello = await this.ready;
    if (!hello || this.closed) {
      this.forget(id);
      return "failed";
    }
    const answer = await new Promise<"accepted" | "busy" | "failed">((resolve) => {
      const timer = setTimeout(() => resolve("failed"), ANSWER_MS);
      slot.answer = (result) => {
        clearTimeout(timer);
        resolve(result);
      };
      this.write({ kind: MuxKind.open, stream: id, open });
    });
    delete slot.answer;
    if (answer !== "accepted") {
      // A late accept is answered by this close; a replica that said busy has forgotten the stream already.
      if (answer === "failed") this.write({ kind: MuxKind.close, stream: id, code: 1001, reason: "" });
      this.forget(id);
      return answer;
    }
    return { stream: this.stream(id, slot, hello) };
  }

  private stream(id: number, slot: StreamSlot, hello: MuxHello): SyncStream {
    return {
      hello,
      send: (message) => this.write({ kind: MuxKind.data, stream: id, data: message }),
      end: (code) => {
        if (!this.slots.has(id)) return;
        this.write({ kind: MuxKind.close, stream: id, code: closeFrameMayCarry(code) ? code : 1000, reason: "" });
        this.forget(id);
      },
      listen: (events) => {
        slot.events = events;
        for (const frame of slot.early.splice(0)) this.dispatch(frame, events);
      },
    };
  }

  close(): void {
    this.ws.close(1000, "closing");
    this.end();
  }

  private forget(id: number): void {
    if (this.slots.delete(id) && this.slots.size === 0 && !this.closed) this.onIdle(this);
  }

  private write(frame: MuxFrame): void {
    if (this.closed || this.ws.readyState !== WebSocket.OPEN) return;
    if (this.ws.bufferedAmount > MAX_CHANNEL_BUFFERED_BYTES) {
      this.log.warn({ syncUrl: this.url, buffered: this.ws.bufferedAmount }, "a sync replica is not reading its channel; dropping it");
      this.ws.terminate();
      this.end();
      return;
    }
    // Frames written in one tick leave in one system call.
    if (!this.held && this.socket) {
      const socket = this.socket;
      this.held = true;
      socket.cork();
      process.nextTick(() => {
        this.held = false;
        socket.uncork();
      });
    }
    this.ws.send(encodeMuxFrame(frame));
  }

  private decode(data: WebSocket.RawData, isBinary: boolean): MuxFrame | undefined {
    try {
      if (!isBinary || !Buffer.isBuffer(data)) throw new MuxProtocolError("a channel frame is one binary message");
      return decodeMuxFrame(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    } catch (err) {
      this.broken(err instanceof Error ? err.message : String(err));
      return undefined;
    }
  }

  private broken(why: string): void {
    this.log.warn({ syncUrl: this.url, why }, "a sync replica's channel broke the protocol; dropping it");
    this.ws.terminate();
    this.end();
  }

  private receive(frame: MuxFrame): void {
    const slot = this.slots.get(frame.stream);
    if (!slot) return;
    if (frame.kind === MuxKind.accept || frame.kind === MuxKind.busy) {
      slot.answer?.(frame.kind === MuxKind.accept ? "accepted" : "busy");
      return;
    }
    if (slot.events) this.dispatch(frame, slot.events);
    else slot.early.push(frame);
  }

  private dispatch(frame: MuxFrame, events: StreamEvents): void {
    switch (frame.kind) {
      case MuxKind.data:
        events.data(frame.data);
        return;
      case MuxKind.credit:
        events.credit(frame.bytes);
        return;
      case MuxKind.close:
        // The stream stays until the gateway ends it, once the client's socket is closed.
        events.close(frame.code, frame.reason);
        return;
      default:
        this.broken(`a frame of kind ${frame.kind} on an open stream`);
    }
  }

  private end(): void {
    if (this.closed) return;
    this.closed = true;
    this.onEnd(this);
    const slots = [...this.slots.values()];
    this.slots.clear();
    for (const slot of slots) {
      slot.answer?.("failed");
      slot.events?.lost();
    }
  }
}

/** The gateway's channels to the sync replicas, opened when needed, a new one when the others are full. */
export class SyncChannels {
  private readonly byUrl = new Map<string, SyncChannel[]>();

  constructor(
    private readonly log: Logger,
    private readonly onCountChange: (channels: number) => void = () => undefined,
  ) {}

  /** Opens a client's stream on a channel to `baseUrl` (a replica, or a load balancer in front of them). */
  async open(baseUrl: string, open: MuxOpen): Promise<OpenResult> {
    const channels = this.byUrl.get(baseUrl) ?? [];
    let channel = channels.find((c) => c.usable);
    if (!channel) {
      channel = this.connect(baseUrl);
      channels.push(channel);
      this.byUrl.set(baseUrl, channels);
      this.reportCount();
    }
    return channel.open(open);
  }

  close(): void {
    for (const channels of this.byUrl.values()) for (const c of [...channels]) c.close();
    this.byUrl.clear();
    this.reportCount();
  }

  private connect(baseUrl: string): SyncChannel {
    const url = `${baseUrl.replace(/\/$/, "")}${COLLAB_MUX_PATH}`;
    const ws = new WebSocket(url, COLLAB_MUX_PROTOCOL, {
      perMessageDeflate: false,
      maxPayload: MAX_FRAME_FROM_REPLICA,
      handshakeTimeout: ANSWER_MS,
      // A client's frames are masked so that a browser's bytes cannot pose as another protocol to a
      // proxy between it and the server; between a gateway and a replica there is no such browser.
      // A zero mask is valid on the wire and lets ws skip the copy, the masking and the random
      // bytes for every client message passed on.
      generateMask: (mask) => mask.fill(0),
    });
    const channel = new SyncChannel(
      baseUrl,
      ws,
      this.log,
      (ended) => {
        const list = this.byUrl.get(baseUrl);
        if (!list) return;
        const rest = list.filter((c) => c !== ended);
        if (rest.length > 0) this.byUrl.set(baseUrl, rest);
        else this.byUrl.delete(baseUrl);
        this.reportCount();
      },
      // One channel per replica stays open for the next client; the others close once empty.
      (idle) => {
        if ((this.byUrl.get(baseUrl)?.length ?? 0) > 1) idle.close();
      },
    );
    return channel;
  }

  private reportCount(): void {
    let n = 0;
    for (const list of this.byUrl.values()) n += list.length;
    this.onCountChange(n);
  }
}
