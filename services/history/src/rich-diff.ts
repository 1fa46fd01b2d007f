import * as Y from "yjs";
import { DIFF_CHANGE_MARK, DocFields, type DiffChangeKind, type RichDiff, type RichDiffNode } from "@palimpsest/contracts";

type DeleteSet = Y.Transaction["deleteSet"];

interface Range {
  clock: number;
  end: number;
  userId: string;
}

/**
 * Who made each piece of the edits in a range: the author of the edit that inserted an item, and
 * of the edit that deleted it. Taken from what applying each edit actually changed (the clocks it
 * added, the items it deleted), not from what its update claims: a client's catch-up repeats its
 * whole delete set, and an update with gaps spans clocks it does not hold. Kept by client id and
 * clock, as Yjs identifies items, in order, so a lookup is a binary search.
 */
export class EditAuthorship {
  private readonly inserted = new Map<number, Range[]>();
  private readonly deleted = new Map<number, Range[]>();
  private sorted = true;
  /** What each edit deleted, to split the items at those bounds before they are read. */
  readonly deleteSets: DeleteSet[] = [];

  /** Notes what one applied edit changed, from its transaction. */
  record(tr: Y.Transaction, userId: string): void {
    for (const [client, to] of tr.afterState) {
      const from = tr.beforeState.get(client) ?? 0;
      // A client's clocks only grow: its ranges arrive in order.
      if (to > from) push(this.inserted, client, { clock: from, end: to, userId });
    }
    if (tr.deleteSet.clients.size === 0) return;
    this.deleteSets.push(tr.deleteSet);
    for (const [client, items] of tr.deleteSet.clients) {
      for (const d of items) push(this.deleted, client, { clock: d.clock, end: d.clock + d.len, userId });
    }
    this.sorted = false;
  }

  insertedBy(id: Y.ID): string | undefined {
    return find(this.inserted, id);
  }

  deletedBy(id: Y.ID): string | undefined {
    if (!this.sorted) {
      // An item is deleted once, so the ranges do not overlap; edits delete anywhere, so sort once.
      for (const list of this.deleted.values()) list.sort((a, b) => a.clock - b.clock);
      this.sorted = true;
    }
    return find(this.deleted, id);
  }
}

function push(map: Map<number, Range[]>, client: number, range: Range): void {
  const list = map.get(client);
  if (list) list.push(range);
  else map.set(client, [range]);
}

/** The range holding the clock, in a list sorted by clock without overlaps. */
function find(map: Map<number, Range[]>, id: Y.ID): string | undefined {
  const list = map.get(id.client);
  if (!list) return undefined;
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = list[mid]!;
    if (id.clock < r.clock) hi = mid - 1;
    else if (id.clock >= r.end) lo = mid + 1;
    else return r.userId;
  }
  return undefined;
}

const visibleIn = (item: Y.Item, s: Y.Snapshot): boolean => (s.sv.get(item.id.client) ?? 0) > item.id.clock && !Y.isDeleted(s.ds, item.id);

type Attrs = Record<string, unknown>;
type Marks = NonNullable<RichDiffNode["marks"]>;

const sameAttrs = (a: Attrs, b: Attrs): boolean => {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && JSON.stringify(a[k]) === JSON.stringify(b[k]));
};

/** y-prosemirror keeps overlapping marks of one type under `name--hash`; the mark is `name`. */
const markName = (key: string): string => key.split("--")[0] ?? key;

function marksOf(attrs: Attrs, change: { kind: DiffChangeKind; userId: string | undefined } | null): Marks {
  const marks: Marks = Object.entries(attrs).map(([key, value]) =>
    value !== null && typeof value === "object" && Object.keys(value).length > 0 ? { type: markName(key), attrs: value as Attrs } : { type: markName(key) },
  );
  if (change) marks.push({ type: DIFF_CHANGE_MARK, attrs: { kind: change.kind, userId: change.userId ?? null } });
  return marks;
}

/**
 * The later version of a rich text document with the changes since the earlier one marked in
 * place, in the editor's own JSON, so it shows with headings, lists and marks as written:
 * inserted text (visible in `to` only), deleted text (in `from` only, kept where it was), and
 * text whose marks or whose block's attributes differ (a word made bold, a heading's level, a
 * ticked task). A block the editor replaced by another of a different kind with the same text
 * (a paragraph made a heading, a list made numbered) shows as reformatted, not as deleted and
 * inserted. `doc` must keep deleted content (`gc: false`) since before `from`.
 */
export function richDiff(doc: Y.Doc, from: Y.Snapshot, to: Y.Snapshot, who: EditAuthorship): RichDiff {
  const totals = new Map<string, { userId: string; inserted: number; deleted: number; formatted: number }>();
  const count = (kind: DiffChangeKind, userId: string | undefined, n: number) => {
    const key = userId ?? "";
    const t = totals.get(key) ?? { userId: key, inserted: 0, deleted: 0, formatted: 0 };
    if (kind === "insert") t.inserted += n;
    else if (kind === "delete") t.deleted += n;
    else t.formatted += n;
    totals.set(key, t);
  };

  function textNodes(text: Y.XmlText): RichDiffNode[] {
    const out: RichDiffNode[] = [];
    // No prototype: a mark named "__proto__" is a key like any other.
    const before = Object.create(null) as Attrs;
    const after = Object.create(null) as Attrs;
    let formattedBy: string | undefined;
    for (let item = text._start; item; item = item.right) {
      const inFrom = visibleIn(item, from);
      const inTo = visibleIn(item, to);
      const content = item.content;
      if (content instanceof Y.ContentFormat) {
        if (inFrom) setAttr(before, content.key, content.value);
        if (inTo) setAttr(after, content.key, content.value);
        if (inFrom !== inTo) formattedBy = inTo ? who.insertedBy(item.id) : who.deletedBy(item.id);
        continue;
      }
      if (!(content instanceof Y.ContentString) || (!inFrom && !inTo) || content.str.length === 0) continue;
      let change: { kind: DiffChangeKind; userId: string | undefined } | null = null;
      if (inFrom && !inTo) change = { kind: "delete", userId: who.deletedBy(item.id) };
      else if (!inFrom) change = { kind: "insert", userId: who.insertedBy(item.id) };
      else if (!sameAttrs(before, after)) change = { kind: "format", userId: formattedBy };
      if (change) count(change.kind, change.userId, content.str.length);
      const marks = marksOf(inTo ? after : before, change);
      const last = out[out.length - 1];
      if (last && JSON.stringify(last.marks ?? []) === JSON.stringify(marks)) last.text += content.str;
      else out.push(marks.length > 0 ? { type: "text", text: content.str, marks } : { type: "text", text: content.str });
    }
    return out;
  }

  function elementNode(el: Y.XmlElement, inFrom: boolean, inTo: boolean): RichDiffNode {
    const attrs = safeAttrs(Y.typeMapGetAllSnapshot(el, inTo ? to : from));
    const node: RichDiffNode = { type: el.nodeName };
    if (Object.keys(attrs).length > 0) node.attrs = attrs;
    const content = childNodes(el);
    if (content.length > 0) node.content = content;
    if (inFrom && inTo && !sameAttrs(safeAttrs(Y.typeMapGetAllSnapshot(el, from)), attrs)) {
      const userId = attributeAuthor(el);
      restamp(node, "format", userId, (n) => count("format", userId, n));
    }
    return node;
  }

  /** Who set (or removed) an attribute that differs between the two versions. */
  function attributeAuthor(el: Y.XmlElement): string | undefined {
    for (const latest of el._map.values()) {
      for (let item: Y.Item | null = latest; item; item = item.left as Y.Item | null) {
        const inFrom = visibleIn(item, from);
        const inTo = visibleIn(item, to);
        if (inTo && !inFrom) return who.insertedBy(item.id);
        if (inFrom && !inTo) return who.deletedBy(item.id);
      }
    }
    return undefined;
  }

  function childNodes(parent: Y.XmlFragment | Y.XmlElement): RichDiffNode[] {
    const out: { node: RichDiffNode; state: "same" | "inserted" | "deleted"; userId: string | undefined }[] = [];
    for (let item = parent._start; item; item = item.right) {
      if (!(item.content instanceof Y.ContentType)) continue;
      const inFrom = visibleIn(item, from);
      const inTo = visibleIn(item, to);
      if (!inFrom && !inTo) continue;
      const child = item.content.type;
      const state = inFrom && inTo ? "same" : inTo ? "inserted" : "deleted";
      const userId = state === "inserted" ? who.insertedBy(item.id) : state === "deleted" ? who.deletedBy(item.id) : undefined;
      if (child instanceof Y.XmlText) {
        for (const node of textNodes(child)) out.push({ node, state, userId });
      } else if (child instanceof Y.XmlElement) {
        const node = elementNode(child, inFrom, inTo);
        // A deleted block with no text (an empty line, a picture) has nothing to strike through.
        if (state === "deleted" && plainText(node).length === 0) continue;
        out.push({ node, state, userId });
      }
    }
    return pairReplacedBlocks(out);
  }

  /**
   * The editor replaces a block whose kind changes (a paragraph made a heading) by a new one with
   * the same text, and may place it on either side of the old one, among other new blocks: within
   * each run of added and deleted blocks, a deleted block and an added one with the same text show
   * as the added block, reformatted by whoever added it, or unchanged when they are identical (a
   * restore writes the old text anew).
   */
  function pairReplacedBlocks(items: { node: RichDiffNode; state: "same" | "inserted" | "deleted"; userId: string | undefined }[]): RichDiffNode[] {
    const dropped = new Set<number>();
    const replaced = new Map<number, RichDiffNode>();
    for (let start = 0; start < items.length; ) {
      let end = start;
      while (end < items.length && items[end]!.state !== "same") end++;
      // Each block's text once; the added blocks by their text, to be matched in order.
      const added = new Map<string, number[]>();
      for (let k = start; k < end; k++) {
        const item = items[k]!;
        if (item.state !== "inserted" || item.node.type === "text") continue;
        const text = plainText(item.node);
        if (text.length === 0) continue;
        const list = added.get(text);
        if (list) list.push(k);
        else added.set(text, [k]);
      }
      for (let d = start; d < end && added.size > 0; d++) {
        const gone = items[d]!;
        if (gone.state !== "deleted" || gone.node.type === "text") continue;
        const k = added.get(plainText(gone.node))?.shift();
        if (k === undefined) continue;
        const twin = items[k]!;
        uncount(gone.node);
        uncount(twin.node);
        const node = stripped(twin.node);
        if (JSON.stringify(stripped(gone.node)) !== JSON.stringify(node)) restamp(node, "format", twin.userId, (n) => count("format", twin.userId, n));
        replaced.set(k, node);
        dropped.add(d);
      }
      start = end === start ? end + 1 : end;
    }
    return items.flatMap((item, i) => (dropped.has(i) ? [] : [replaced.get(i) ?? item.node]));
  }

  /** Takes back the counts of a block that turns out to be a replacement. */
  function uncount(node: RichDiffNode): void {
    walkText(node, (t) => {
      const change = changeOf(t);
      if (change) count(change.kind, change.userId, -(t.text?.length ?? 0));
    });
  }

  const fragment = doc.getXmlFragment(DocFields.richText);
  let content: RichDiffNode = { type: "doc" };
  doc.transact((tr) => {
    // Items are read whole: split them where the earlier version, and each edit's deletions, begin and end.
    for (const [client, clock] of from.sv) {
      if (clock < Y.getState(doc.store, client)) Y.getItemCleanStart(tr, Y.createID(client, clock));
    }
    for (const ds of [from.ds, ...who.deleteSets]) Y.iterateDeletedStructs(tr, ds, () => undefined);
    const children = childNodes(fragment);
    content = children.length > 0 ? { type: "doc", content: children } : { type: "doc" };
  });
  for (const [key, t] of totals) if (t.inserted + t.deleted + t.formatted <= 0) totals.delete(key);
  return { content, totals: [...totals.values()].sort((a, b) => b.inserted + b.deleted + b.formatted - (a.inserted + a.deleted + a.formatted)) };
}

function setAttr(attrs: Attrs, key: string, value: unknown): void {
  if (value === null) delete attrs[key];
  else attrs[key] = jsonSafe(value);
}

/**
 * A value as JSON carries it: a writer may store any value Yjs can encode in an attribute or a
 * mark (a BigInt, bytes), and one that JSON cannot carry must not fail the whole diff.
 */
function jsonSafe(value: unknown): unknown {
  try {
    return JSON.parse(JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v)) ?? "null") as unknown;
  } catch {
    return null;
  }
}

function safeAttrs(attrs: Record<string, unknown>): Attrs {
  return Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, jsonSafe(v)]));
}

function walkText(node: RichDiffNode, f: (text: RichDiffNode) => void): void {
  if (node.type === "text") f(node);
  for (const c of node.content ?? []) walkText(c, f);
}

function changeOf(text: RichDiffNode): { kind: DiffChangeKind; userId: string | undefined } | undefined {
  const mark = text.marks?.find((m) => m.type === DIFF_CHANGE_MARK);
  if (!mark) return undefined;
  return { kind: mark.attrs?.["kind"] as DiffChangeKind, userId: (mark.attrs?.["userId"] as string | null) ?? undefined };
}

function plainText(node: RichDiffNode): string {
  let s = "";
  walkText(node, (t) => (s += t.text ?? ""));
  return s;
}

/** The node without change marks. */
function stripped(node: RichDiffNode): RichDiffNode {
  const { content, marks, ...rest } = node;
  const out: RichDiffNode = { ...rest };
  const kept = marks?.filter((m) => m.type !== DIFF_CHANGE_MARK);
  if (kept && kept.length > 0) out.marks = kept;
  if (content) out.content = content.map(stripped);
  return out;
}

/** Marks every piece of text under `node` as `kind` by `userId` (in place), counting it. */
function restamp(node: RichDiffNode, kind: DiffChangeKind, userId: string | undefined, counted: (n: number) => void): void {
  walkText(node, (t) => {
    // Text inserted, deleted or reformatted inside the block keeps that change and its author; the rest is reformatted.
    if (changeOf(t)) return;
    t.marks = [...(t.marks ?? []), { type: DIFF_CHANGE_MARK, attrs: { kind, userId: userId ?? null } }];
    counted(t.text?.length ?? 0);
  });
}

/**
 * Follows the edits of a range on a copy of the document that keeps what they delete, and gives
 * the rich diff at the end; undefined for a document without rich text (a board).
 */
export class RichDiffBuilder {
  private readonly doc = new Y.Doc({ gc: false });
  private readonly who = new EditAuthorship();
  private readonly from: Y.Snapshot;

  constructor(start: Y.Doc) {
    Y.applyUpdate(this.doc, Y.encodeStateAsUpdate(start));
    this.from = Y.snapshot(this.doc);
  }

  apply(update: Uint8Array, userId: string): void {
    const record = (tr: Y.Transaction) => this.who.record(tr, userId);
    this.doc.on("afterTransaction", record);
    try {
      Y.applyUpdate(this.doc, update);
    } finally {
      this.doc.off("afterTransaction", record);
    }
  }

  result(): RichDiff | undefined {
    if (this.doc.getXmlFragment(DocFields.richText)._start === null) return undefined;
    return richDiff(this.doc, this.from, Y.snapshot(this.doc), this.who);
  }

  destroy(): void {
    this.doc.destroy();
  }
}
