import * as encoding from "lib0/encoding";
import * as Y from "yjs";

type Struct = ReturnType<typeof Y.decodeUpdate>["structs"][number];
type DeleteSet = ReturnType<typeof Y.decodeUpdate>["ds"];

/**
 * Cuts a large update into updates of about `maxBytes` each, in order: together they make the
 * same change, and each is a well-formed update of its own. A client back from a long time
 * offline sends everything it did as one sync step 2, more than one stored event may hold.
 *
 * The cuts fall between structs, so one struct larger than `maxBytes` (a huge paste) is a part
 * alone. Structs whose origins land in a later part wait in the reader's pending set until that
 * part is applied, as Yjs does for any update that arrives before what it builds on; the deletions
 * go last, after everything they may refer to.
 */
export function splitUpdate(update: Uint8Array, maxBytes: number): Uint8Array[] {
  if (update.byteLength <= maxBytes) return [update];
  const { structs, ds } = Y.decodeUpdate(update);
  const sizes = structs.map(encodedSize);
  const parts: Uint8Array[] = [];
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < structs.length; i++) {
    if (i > start && bytes + sizes[i]! > maxBytes) {
      parts.push(encodePart(structs.slice(start, i)));
      start = i;
      bytes = 0;
    }
    bytes += sizes[i]!;
  }
  if (start < structs.length) parts.push(encodePart(structs.slice(start)));
  if (ds.clients.size > 0) parts.push(encodePart([], ds));
  return parts;
}

function encodedSize(s: Struct): number {
  const e = new Y.UpdateEncoderV1();
  s.write(e, 0);
  return encoding.length(e.restEncoder);
}

/** An update in the V1 format, as Y.encodeStateAsUpdate writes it: structs by client, then deletions. */
function encodePart(structs: Struct[], ds?: DeleteSet): Uint8Array {
  const e = new Y.UpdateEncoderV1();
  const byClient: Struct[][] = [];
  for (const s of structs) {
    const last = byClient.at(-1);
    if (last && last[0]!.id.client === s.id.client) last.push(s);
    else byClient.push([s]);
  }
  encoding.writeVarUint(e.restEncoder, byClient.length);
  for (const group of byClient) {
    encoding.writeVarUint(e.restEncoder, group.length);
    e.writeClient(group[0]!.id.client);
    encoding.writeVarUint(e.restEncoder, group[0]!.id.clock);
    for (const s of group) s.write(e, 0);
  }
  const clients = ds ? [...ds.clients.entries()] : [];
  encoding.writeVarUint(e.restEncoder, clients.length);
  for (const [client, ranges] of clients) {
    e.resetDsCurVal();
    encoding.writeVarUint(e.restEncoder, client);
    encoding.writeVarUint(e.restEncoder, ranges.length);
    for (const r of ranges) {
      e.writeDsClock(r.clock);
      e.writeDsLen(r.len);
    }
  }
  return e.toUint8Array();
}
