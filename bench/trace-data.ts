import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import * as Y from "yjs";
import { repoRoot } from "@palimpsest/devkit";

export const TRACE_FILE = path.join(repoRoot, "..", "shared", "data", "traces", "automerge-paper.json.gz");

export interface RichTrace {
  /** One Yjs update per keystroke (after one for the paragraph that holds the text). */
  updates: Uint8Array[];
  endContent: string;
}

/**
 * The real keystroke trace of writing a paper, replayed into rich text the way TipTap keeps it
 * (a paragraph in the XmlFragment `default`), one update per patch.
 */
export function loadRichTrace(limit?: number): RichTrace {
  const raw = JSON.parse(zlib.gunzipSync(fs.readFileSync(TRACE_FILE)).toString("utf8")) as {
    endContent: string;
    txns: { patches: [number, number, string][] }[];
  };
  const txns = raw.txns.slice(0, limit ?? raw.txns.length);
  const doc = new Y.Doc();
  const updates: Uint8Array[] = [];
  doc.on("update", (u: Uint8Array) => updates.push(u));
  const paragraph = new Y.XmlElement("paragraph");
  const text = new Y.XmlText();
  paragraph.insert(0, [text]);
  doc.getXmlFragment("default").insert(0, [paragraph]);
  for (const t of txns) {
    for (const [pos, del, ins] of t.patches) {
      if (del > 0) text.delete(pos, del);
      if (ins) text.insert(pos, ins);
    }
  }
  const result = text.toString();
  if (txns.length === raw.txns.length && result !== raw.endContent) throw new Error("the trace replay does not give its endContent");
  doc.destroy();
  return { updates, endContent: result };
}
