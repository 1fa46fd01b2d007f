/**
 * fast-check arbitraries for the /collab input surface: y-websocket frames and Yjs updates that
 * are malformed, truncated, oversized, or well-formed but hostile. Updates are encoded by hand
 * (the Yjs v1 update format) so client ids, clocks, origins and parents can be anything a
 * client could put on the wire, not only what a well-behaved Y.Doc produces.
 */
import fc from "fast-check";
import * as encoding from "lib0/encoding";
import * as Y from "yjs";

type Id = { client: number; clock: number };

/** Content of one item, by the Yjs content ref it is encoded with. */
type Content =
  | { ref: 1; len: number } // deleted
  | { ref: 3; bytes: Uint8Array } // binary
  | { ref: 4; text: string } // string
  | { ref: 5; json: string } // embed
  | { ref: 6; key: string; json: string } // format
  | { ref: 7; typeRef: number; name?: string } // a shared type
  | { ref: 8; values: unknown[] }; // any

export interface HostileItem {
  origin?: Id;
  rightOrigin?: Id;
  /** Without origins: the parent, a root type by name or an item by id. */
  parent: { root: string } | { id: Id };
  parentSub?: string;
  content: Content;
}

export interface HostileUpdate {
  clients: { client: number; clock: number; items: HostileItem[] }[];
  deletes: { client: number; ranges: [number, number][] }[];
}

function writeId(e: encoding.Encoder, id: Id) {
  encoding.writeVarUint(e, id.client);
  encoding.writeVarUint(e, id.clock);
}

/** The Yjs v1 update encoding of `u`, byte for byte what Y.encodeStateAsUpdate would write for such structs. */
export function encodeHostileUpdate(u: HostileUpdate): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, u.clients.length);
  for (const c of u.clients) {
    encoding.writeVarUint(e, c.items.length);
    encoding.writeVarUint(e, c.client);
    encoding.writeVarUint(e, c.clock);
    for (const item of c.items) {
      const info = (item.origin ? 0x80 : 0) | (item.rightOrigin ? 0x40 : 0) | (item.parentSub !== undefined ? 0x20 : 0) | item.content.ref;
      encoding.writeUint8(e, info);
      if (item.origin) writeId(e, item.origin);
      if (item.rightOrigin) writeId(e, item.rightOrigin);
      if (!item.origin && !item.rightOrigin) {
        if ("root" in item.parent) {
          encoding.writeVarUint(e, 1);
          encoding.writeVarString(e, item.parent.root);
        } else {
          encoding.writeVarUint(e, 0);
          writeId(e, item.parent.id);
        }
        if (item.parentSub !== undefined) encoding.writeVarString(e, item.parentSub);
      }
      const content = item.content;
      switch (content.ref) {
        case 1:
          encoding.writeVarUint(e, content.len);
          break;
        case 3:
          encoding.writeVarUint8Array(e, content.bytes);
          break;
        case 4:
          encoding.writeVarString(e, content.text);
          break;
        case 5:
          encoding.writeVarString(e, content.json);
          break;
        case 6:
          encoding.writeVarString(e, content.key);
          encoding.writeVarString(e, content.json);
          break;
        case 7:
          encoding.writeVarUint(e, content.typeRef);
          if (content.typeRef === 3 || content.typeRef === 5) encoding.writeVarString(e, content.name ?? "p");
          break;
        case 8:
          encoding.writeVarUint(e, content.values.length);
          for (const v of content.values) encoding.writeAny(e, v as never);
          break;
      }
    }
  }
  encoding.writeVarUint(e, u.deletes.length);
  for (const d of u.deletes) {
    encoding.writeVarUint(e, d.client);
    encoding.writeVarUint(e, d.ranges.length);
    for (const [clock, len] of d.ranges) {
      encoding.writeVarUint(e, clock);
      encoding.writeVarUint(e, len);
    }
  }
  return encoding.toUint8Array(e);
}

/** Client ids and clocks from the ordinary to the largest a varuint carries exactly. */
const bigNumber = fc.oneof(
  fc.nat({ max: 1000 }),
  fc.constantFrom(0xffffffff, 2 ** 32, 2 ** 31 - 1, 2 ** 53 - 1, Number.MAX_SAFE_INTEGER),
  fc.nat(),
);
const id = fc.record({ client: bigNumber, clock: bigNumber });

/** Root names that matter to the platform (the rich text, plain text and board) and some that do not. */
const rootName = fc.oneof(fc.constantFrom("default", "t", "board", ""), fc.string({ maxLength: 8 }));

const content: fc.Arbitrary<Content> = fc.oneof(
  fc.record({ ref: fc.constant(1 as const), len: fc.oneof(fc.integer({ min: 1, max: 50 }), fc.constantFrom(2 ** 31, 2 ** 53 - 1)) }),
  fc.record({ ref: fc.constant(3 as const), bytes: fc.uint8Array({ maxLength: 32 }) }),
  fc.record({ ref: fc.constant(4 as const), text: fc.string({ minLength: 1, maxLength: 20 }) }),
  fc.record({ ref: fc.constant(5 as const), json: fc.oneof(fc.json({ maxDepth: 2 }), fc.string({ maxLength: 10 })) }),
  fc.record({ ref: fc.constant(6 as const), key: fc.string({ maxLength: 6 }), json: fc.oneof(fc.json({ maxDepth: 2 }), fc.string({ maxLength: 10 })) }),
  fc.record({ ref: fc.constant(7 as const), typeRef: fc.oneof(fc.integer({ min: 0, max: 6 }), fc.constantFrom(7, 99, 2 ** 31)), name: fc.string({ maxLength: 6 }) }),
  fc.record({ ref: fc.constant(8 as const), values: fc.array(fc.jsonValue({ maxDepth: 2 }), { minLength: 1, maxLength: 3 }) }),
);

const item: fc.Arbitrary<HostileItem> = fc.record(
  {
    origin: id,
    rightOrigin: id,
    parent: fc.oneof(fc.record({ root: rootName }), fc.record({ id })),
    parentSub: fc.string({ maxLength: 6 }),
    content,
  },
  { requiredKeys: ["parent", "content"] },
);

/** Well-formed updates with hostile structure: missing origins and parents, unknown deletes, huge ids and clocks, wrong types. */
export const hostileUpdate: fc.Arbitrary<Uint8Array> = fc
  .record({
    clients: fc.array(fc.record({ client: bigNumber, clock: bigNumber, items: fc.array(item, { minLength: 1, maxLength: 4 }) }), { maxLength: 3 }),
    deletes: fc.array(fc.record({ client: bigNumber, ranges: fc.array(fc.tuple(bigNumber, bigNumber), { minLength: 1, maxLength: 3 }) }), { maxLength: 2 }),
  })
  .map(encodeHostileUpdate);

/** Updates a real Y.Doc makes, shaped to hurt readers: deep nesting, the rich-text fragment holding what it must not. */
export const realButHostileUpdate: fc.Arbitrary<Uint8Array> = fc.oneof(
  // Deeply nested XmlElements in the rich text: recursive renderers (Markdown, HTML, diffs) must not overflow.
  // (Beyond ~1500 levels a later delete overflows every reader's stack: the known hole in fuzz-collab.test.ts.)
  fc.integer({ min: 100, max: 500 }).map((depth) => {
    const doc = new Y.Doc();
    const root = doc.getXmlFragment("default");
    let parent: Y.XmlElement | Y.XmlFragment = root;
    doc.transact(() => {
      for (let i = 0; i < depth; i++) {
        const child: Y.XmlElement = new Y.XmlElement("paragraph");
        parent.insert(0, [child]);
        parent = child;
      }
      parent.insert(0, [new Y.XmlText("deep")]);
    });
    return Y.encodeStateAsUpdate(doc);
  }),
  // Deeply nested maps in the board.
  fc.integer({ min: 100, max: 500 }).map((depth) => {
    const doc = new Y.Doc();
    doc.transact(() => {
      let m: Y.Map<unknown> = doc.getMap("board");
      for (let i = 0; i < depth; i++) {
        const next = new Y.Map<unknown>();
        m.set("card", next);
        m = next;
      }
    });
    return Y.encodeStateAsUpdate(doc);
  }),
  // The rich-text root written as plain text, a map, or an array: a TipTap client reading `default` must still open the document.
  fc.tuple(fc.constantFrom("text", "map", "array"), fc.string({ minLength: 1, maxLength: 30 })).map(([shape, s]) => {
    const doc = new Y.Doc();
    if (shape === "text") doc.getText("default").insert(0, s);
    else if (shape === "map") doc.getMap("default").set(s, s);
    else doc.getArray("default").insert(0, [s, { s }]);
    return Y.encodeStateAsUpdate(doc);
  }),
  // Huge client ids from a real doc.
  fc.tuple(fc.constantFrom(0xffffffff, 2 ** 53 - 1), fc.string({ minLength: 1, maxLength: 10 })).map(([clientID, s]) => {
    const doc = new Y.Doc();
    doc.clientID = clientID;
    doc.getText("t").insert(0, s);
    return Y.encodeStateAsUpdate(doc);
  }),
);

function varuint(n: number): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, n);
  return encoding.toUint8Array(e);
}

const concat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

/** A sync message (type 0) of subtype `sub` carrying `payload`. */
export function syncMessage(sub: number, payload: Uint8Array): Uint8Array {
  return concat(varuint(0), varuint(sub), varuint(payload.length), payload);
}

/** Frames the server must refuse: random bytes, truncated varints, unknown types, lying lengths. */
export const malformedFrame: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  // A varint that never ends.
  fc.integer({ min: 1, max: 12 }).map((n) => new Uint8Array(n).fill(0xff)),
  // Unknown message types and sync subtypes.
  fc.tuple(fc.oneof(fc.integer({ min: 4, max: 300 }), fc.constant(2 ** 32)), fc.uint8Array({ maxLength: 8 })).map(([t, rest]) => concat(varuint(t), rest)),
  fc.tuple(fc.integer({ min: 3, max: 1000 }), fc.uint8Array({ maxLength: 8 })).map(([s, p]) => syncMessage(s, p)),
  // A length far beyond what follows.
  fc.tuple(fc.constantFrom(0, 1), fc.oneof(fc.integer({ min: 1, max: 2 ** 20 }), fc.constant(2 ** 53 - 1)), fc.uint8Array({ maxLength: 8 })).map(([sub, len, p]) =>
    concat(varuint(0), varuint(sub), varuint(len), p),
  ),
  fc.tuple(fc.oneof(fc.integer({ min: 1, max: 2 ** 20 }), fc.constant(2 ** 53 - 1)), fc.uint8Array({ maxLength: 8 })).map(([len, p]) => concat(varuint(1), varuint(len), p)),
  // Random payloads as updates and state vectors; awareness updates with random bytes.
  fc.tuple(fc.constantFrom(0, 1, 2), fc.uint8Array({ maxLength: 48 })).map(([sub, p]) => syncMessage(sub, p)),
  fc.uint8Array({ maxLength: 48 }).map((p) => concat(varuint(1), varuint(p.length), p)),
  // Awareness updates that decode but carry hostile states.
  fc.tuple(bigNumber, bigNumber, fc.oneof(fc.json({ maxDepth: 3 }), fc.string({ maxLength: 20 }))).map(([client, clock, state]) => {
    const e = encoding.createEncoder();
    encoding.writeVarUint(e, 1);
    encoding.writeVarUint(e, client);
    encoding.writeVarUint(e, clock);
    encoding.writeVarString(e, state);
    const inner = encoding.toUint8Array(e);
    return concat(varuint(1), varuint(inner.length), inner);
  }),
  // Truncated well-formed updates.
  fc.tuple(hostileUpdate, fc.nat()).map(([u, cut]) => syncMessage(2, u.subarray(0, u.length === 0 ? 0 : cut % u.length))),
);

/** Frames that decode: well-formed but hostile updates, as step 2 or update, and awareness states. */
export const hostileUpdateFrame: fc.Arbitrary<Uint8Array> = fc.oneof(
  { arbitrary: fc.tuple(fc.constantFrom(1, 2), hostileUpdate).map(([sub, u]) => syncMessage(sub, u)), weight: 4 },
  { arbitrary: realButHostileUpdate.map((u) => syncMessage(2, u)), weight: 1 },
);
