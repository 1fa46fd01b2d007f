import * as Y from "yjs";

/**
 * How deep the items of an update sit in the document once applied. Yjs garbage-collects a
 * deleted type and renders nested types recursively, so a few thousand nested levels overflow the
 * stack of every reader once their root is deleted. Such an update is well-formed, so only a check
 * against the document sees it.
 *
 * Depth is the length of an item's parent chain: an item in a root type is at depth 1, an item in
 * the type held by an item at depth d is at d + 1. The cost is linear in the update plus the parent
 * chains it touches (each walked once), never in the size of the document.
 */
export class UpdateRefused extends Error {
  constructor(
    readonly reason: "too-deep" | "malformed",
    message: string,
  ) {
    super(message);
    this.name = "UpdateRefused";
  }
}

/** What the room knows beyond the update: items already applied, and items accepted but not applied yet. */
export interface NestingContext {
  /** The depth of a known item containing `id`, or undefined when neither applied nor accepted. */
  depthOf(id: Y.ID): number | undefined;
}

export interface StructDepth {
  client: number;
  clock: number;
  end: number;
  depth: number;
}

/**
 * Computes the depth of every item an update inserts. Throws UpdateRefused when an item would sit
 * deeper than `maxDepth` or when its references go round in a circle.
 */
export function measureNesting(structs: readonly (Y.Item | Y.GC | Y.Skip)[], ctx: NestingContext, maxDepth: number): StructDepth[] {
  const byClient = new Map<number, (Y.Item | Y.GC | Y.Skip)[]>();
  for (const s of structs) {
    const list = byClient.get(s.id.client);
    if (list) list.push(s);
    else byClient.set(s.id.client, [s]);
  }
  const inUpdate = (id: Y.ID): Y.Item | Y.GC | undefined => {
    const list = byClient.get(id.client);
    if (!list) return undefined;
    let lo = 0;
    let hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = list[mid]!;
      if (id.clock < s.id.clock) hi = mid - 1;
      else if (id.clock >= s.id.clock + s.length) lo = mid + 1;
      else return s instanceof Y.Skip ? undefined : s;
    }
    return undefined;
  };

  const depths = new Map<Y.Item | Y.GC, number>();
  const resolving = new Set<Y.Item | Y.GC>();
  /** What a struct's depth follows from: a fixed depth, or another id plus an offset. */
  const basis = (s: Y.Item | Y.GC): number | { id: Y.ID; add: number } => {
    // Collected structs carry no parent; whatever is inserted next to them is collected too.
    if (s instanceof Y.GC) return 0;
    const parent = s.parent as unknown;
    if (typeof parent === "string") return 1;
    if (parent instanceof Y.ID) return { id: parent, add: 1 };
    if (s.origin) return { id: s.origin, add: 0 };
    if (s.rightOrigin) return { id: s.rightOrigin, add: 0 };
    throw new UpdateRefused("malformed", `item ${s.id.client}:${s.id.clock} has neither parent nor neighbours`);
  };
  // A dependency this room has not seen may be stored already, through another replica, and not
  // yet have reached this room: refusing it would cut off honest clients after a failover. Its
  // depth counts from 0; the limit still bounds what each update adds.
  const known = (id: Y.ID): number => ctx.depthOf(id) ?? 0;

  // Iterative, so a hostile chain of thousands of items costs heap, not stack.
  const resolve = (start: Y.Item | Y.GC): number => {
    const stack: (Y.Item | Y.GC)[] = [start];
    while (stack.length > 0) {
      const s = stack[stack.length - 1]!;
      if (depths.has(s)) {
        stack.pop();
        continue;
      }
      const b = basis(s);
      let depth: number | undefined;
      if (typeof b === "number") depth = b;
      else {
        const dep = inUpdate(b.id);
        if (dep === undefined) depth = known(b.id) + b.add;
        else if (depths.has(dep)) depth = depths.get(dep)! + b.add;
        else {
          if (resolving.has(dep) || dep === s) throw new UpdateRefused("malformed", "references go round in a circle");
          resolving.add(s);
          stack.push(dep);
          continue;
        }
      }
      if (depth > maxDepth) throw new UpdateRefused("too-deep", `nests ${depth} levels deep; the limit is ${maxDepth}`);
      depths.set(s, depth);
      resolving.delete(s);
      stack.pop();
    }
    return depths.get(start)!;
  };

  const out: StructDepth[] = [];
  for (const list of byClient.values()) {
    for (const s of list) {
      if (s instanceof Y.Skip) continue;
      out.push({ client: s.id.client, clock: s.id.clock, end: s.id.clock + s.length, depth: resolve(s) });
    }
  }
  return out;
}

/** The depth of an applied item, walking its parent chain once and remembering every item on it. */
export function appliedDepth(store: Y.Doc["store"], id: Y.ID, memo: Pick<WeakMap<Y.Item, number>, "get" | "set">, cap: number): number | undefined {
  if (id.clock >= Y.getState(store, id.client)) return undefined;
  const found = Y.getItem(store, id) as Y.Item | Y.GC;
  if (found instanceof Y.GC) return 0;
  const chain: Y.Item[] = [];
  let item: Y.Item | null = found;
  let base = 0;
  while (item) {
    const m = memo.get(item);
    if (m !== undefined) {
      base = m;
      break;
    }
    chain.push(item);
    // Past the cap the exact figure no longer matters; stop walking a chain stored before the limit existed.
    if (chain.length > cap) break;
    const parent = item.parent as unknown;
    item = parent instanceof Y.AbstractType ? (parent._item as Y.Item | null) : null;
  }
  for (let i = chain.length - 1; i >= 0; i--) memo.set(chain[i]!, base + (chain.length - i));
  return memo.get(found) ?? base;
}
