import { Type, type Static } from "@sinclair/typebox";
import { SAFE_ID_PATTERN } from "./ids.ts";
import { isValid } from "./schema.ts";

/**
 * The channel between a gateway and a sync replica: one WebSocket carrying many /collab client
 * connections ("streams"), instead of one TCP connection and one handshake per client. The
 * gateway terminates each client's WebSocket and forwards its messages; the replica handles a
 * stream exactly as it handles a client connected to it directly (it checks the token itself).
 *
 * Every channel message is one frame: [kind: u8][stream: u32, big-endian][body]. Stream 0 is the
 * channel itself. Streams are numbered by the gateway, never reused on one channel.
 *
 * | kind   | from    | body                                   | meaning                                                    |
 * |--------|---------|----------------------------------------|------------------------------------------------------------|
 * | hello  | replica | JSON MuxHello                          | first frame: the replica's limits                          |
 * | open   | gateway | JSON MuxOpen                           | a client wants this document                               |
 * | accept | replica | empty                                  | taken: the gateway completes the client's handshake        |
 * | busy   | replica | reason                                 | not taken (opening as many as it will, or draining): next  |
 * | data   | both    | one y-websocket message                | a message of the client's, or for it                       |
 * | close  | both    | [code: u16][reason]                    | replica: close the client so; gateway: the client is gone  |
 * | credit | replica | [bytes: u32]                           | this much of the client's data was handled                 |
 *
 * Flow control: the gateway forwards at most `window` bytes of a client's data that the replica
 * has not credited back, and stops reading that client's socket until it has (so TCP slows a
 * fast sender, as with a direct connection). The replica credits what it has handled, in steps of
 * at least a quarter window, so an ordinary typist never causes a credit frame.
 *
 * A close from the replica is answered by the gateway's close once the client's socket is closed;
 * data the client sent until then still comes, as on a direct WebSocket. A lost channel ends
 * every stream on it (the gateway closes their clients with 1012, so they reconnect).
 */
/**
 * In a close from the replica: drop the client's socket without a close frame (a client that
 * does not read is not waited for). 1006 is the code no close frame carries: what a client sees
 * when its connection just ends.
 */
export const MUX_TERMINATE_CODE = 1006;

export const MuxKind = {
  hello: 0,
  open: 1,
  accept: 2,
  busy: 3,
  data: 4,
  close: 5,
  credit: 6,
} as const;
export type MuxKind = (typeof MuxKind)[keyof typeof MuxKind];

/** The path a gateway opens its channel on, on the replica's port. */
export const COLLAB_MUX_PATH = "/collab-mux";
/** The channel's WebSocket subprotocol: its version. */
export const COLLAB_MUX_PROTOCOL = "palimpsest.mux.v1";
/** Room for a frame's header and an open's JSON beyond the largest client message. */
export const MUX_FRAME_OVERHEAD = 16 * 1024;

export const MuxHello = Type.Object(
  {
    replicaId: Type.String({ minLength: 1, maxLength: 200 }),
    /** The largest client message the replica takes (an update may be this large); larger closes the client with 1009. */
    maxMessageBytes: Type.Integer({ minimum: 1024 }),
    /** Bytes of one client's data the gateway may forward before the replica has handled them. */
    window: Type.Integer({ minimum: 1024 }),
  },
  { additionalProperties: false },
);
export type MuxHello = Static<typeof MuxHello>;

export const MuxOpen = Type.Object(
  {
    /** As in `/collab/<docId>`: it becomes part of NATS subjects, so nothing else passes. */
    docId: Type.String({ pattern: SAFE_ID_PATTERN }),
    token: Type.Union([Type.String({ maxLength: 16 * 1024 }), Type.Null()]),
    requestId: Type.String({ minLength: 1, maxLength: 200 }),
    /** The client connection's trace headers (traceparent, tracestate), when tracing is on. */
    trace: Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 1024 })),
  },
  { additionalProperties: false },
);
export type MuxOpen = Static<typeof MuxOpen>;

export type MuxFrame =
  | { kind: typeof MuxKind.hello; stream: 0; hello: MuxHello }
  | { kind: typeof MuxKind.open; stream: number; open: MuxOpen }
  | { kind: typeof MuxKind.accept; stream: number }
  | { kind: typeof MuxKind.busy; stream: number; reason: string }
  | { kind: typeof MuxKind.data; stream: number; data: Uint8Array }
  | { kind: typeof MuxKind.close; stream: number; code: number; reason: string }
  | { kind: typeof MuxKind.credit; stream: number; bytes: number };

/** A frame that breaks the format: the peer is not speaking this protocol, and the channel is dropped. */
export class MuxProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MuxProtocolError";
  }
}

const HEADER = 5;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

function frame(kind: MuxKind, stream: number, bodyLength: number): { bytes: Uint8Array; view: DataView } {
  const bytes = new Uint8Array(HEADER + bodyLength);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, kind);
  view.setUint32(1, stream);
  return { bytes, view };
}

function withBody(kind: MuxKind, stream: number, body: Uint8Array): Uint8Array {
  const { bytes } = frame(kind, stream, body.byteLength);
  bytes.set(body, HEADER);
  return bytes;
}

export function encodeMuxFrame(f: MuxFrame): Uint8Array {
  switch (f.kind) {
    case MuxKind.hello:
      return withBody(f.kind, 0, encoder.encode(JSON.stringify(f.hello)));
    case MuxKind.open:
      return withBody(f.kind, f.stream, encoder.encode(JSON.stringify(f.open)));
    case MuxKind.accept:
      return frame(f.kind, f.stream, 0).bytes;
    case MuxKind.busy:
      return withBody(f.kind, f.stream, encoder.encode(f.reason));
    case MuxKind.data:
      return withBody(f.kind, f.stream, f.data);
    case MuxKind.close: {
      const reason = closeReason(f.reason);
      const { bytes, view } = frame(f.kind, f.stream, 2 + reason.byteLength);
      view.setUint16(HEADER, f.code);
      bytes.set(reason, HEADER + 2);
      return bytes;
    }
    case MuxKind.credit: {
      const { bytes, view } = frame(f.kind, f.stream, 4);
      view.setUint32(HEADER, f.bytes);
      return bytes;
    }
  }
}

/** A WebSocket close reason holds at most 123 bytes: longer ones are cut at a character boundary. */
function closeReason(reason: string): Uint8Array {
  const bytes = encoder.encode(reason);
  if (bytes.byteLength <= 123) return bytes;
  let end = 123;
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

function json(body: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(body)) as unknown;
  } catch {
    throw new MuxProtocolError("a frame's JSON body does not parse");
  }
}

function text(body: Uint8Array): string {
  try {
    return decoder.decode(body);
  } catch {
    throw new MuxProtocolError("a frame's text is not UTF-8");
  }
}

/** Reads one channel frame; throws MuxProtocolError for anything that is not a well-formed frame. */
export function decodeMuxFrame(bytes: Uint8Array): MuxFrame {
  if (bytes.byteLength < HEADER) throw new MuxProtocolError("a frame is shorter than its header");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const kind = view.getUint8(0);
  const stream = view.getUint32(1);
  const body = bytes.subarray(HEADER);
  if ((kind === MuxKind.hello) !== (stream === 0)) throw new MuxProtocolError("stream 0 carries the hello and nothing else");
  switch (kind) {
    case MuxKind.hello: {
      const hello = json(body);
      if (!isValid(MuxHello, hello)) throw new MuxProtocolError("a malformed hello");
      return { kind, stream: 0, hello };
    }
    case MuxKind.open: {
      const open = json(body);
      if (!isValid(MuxOpen, open)) throw new MuxProtocolError("a malformed open");
      return { kind, stream, open };
    }
    case MuxKind.accept:
      if (body.byteLength !== 0) throw new MuxProtocolError("an accept has no body");
      return { kind, stream };
    case MuxKind.busy:
      return { kind, stream, reason: text(body) };
    case MuxKind.data:
      return { kind, stream, data: body };
    case MuxKind.close:
      if (body.byteLength < 2) throw new MuxProtocolError("a close without its code");
      return { kind, stream, code: view.getUint16(HEADER), reason: text(body.subarray(2)) };
    case MuxKind.credit:
      if (body.byteLength !== 4) throw new MuxProtocolError("a credit is four bytes");
      return { kind, stream, bytes: view.getUint32(HEADER) };
    default:
      throw new MuxProtocolError(`unknown frame kind ${kind}`);
  }
}
