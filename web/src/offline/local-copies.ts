// The documents this device keeps a copy of, per signed-in person: the Yjs state lives in one
// IndexedDB database per document (written by the collab layer), and a small index in
// localStorage remembers each document's metadata, so /d/:id and /b/:id open without the
// server, and whether it holds edits the server has not acknowledged yet.
//
// Deliberately free of Yjs: the dashboard and sign-out use it, and they are in the initial bundle.

import { isRole } from "@palimpsest/contracts/shared";
import type { DocKind, DocMeta } from "../api/types";

export interface LocalCopy {
  doc: DocMeta;
  /** When this device last opened the document (ISO time). */
  openedAt: string;
  /** Edits on this device that the server has not acknowledged yet. */
  unsynced: boolean;
}

const INDEX_PREFIX = "palimpsest.local-copies.";
/** Copies kept per person; beyond that the least recently opened go (never one with unsynced edits). */
const MAX_COPIES = 60;
const DB_PREFIX = "palimpsest";

type Listener = () => void;
const listeners = new Set<Listener>();

/** The IndexedDB database holding one person's copy of one document. */
export function localDatabaseName(userId: string, docId: string): string {
  return `${DB_PREFIX}/${userId}/${docId}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function readSummary(value: unknown): DocMeta | null {
  if (!isRecord(value)) return null;
  const { id, title, kind, role, ownerId, createdAt, updatedAt } = value;
  if (
    typeof id !== "string" ||
    typeof title !== "string" ||
    (kind !== "text" && kind !== "board") ||
    !isRole(role) ||
    typeof ownerId !== "string" ||
    typeof createdAt !== "string" ||
    typeof updatedAt !== "string"
  ) {
    return null;
  }
  return { id, title, kind: kind as DocKind, role, ownerId, createdAt, updatedAt };
}

function readIndex(userId: string): Map<string, LocalCopy> {
  const copies = new Map<string, LocalCopy>();
  let raw: string | null = null;
  try {
    raw = localStorage.getItem(INDEX_PREFIX + userId);
  } catch {
    return copies;
  }
  if (!raw) return copies;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (!isRecord(parsed)) return copies;
    for (const value of Object.values(parsed)) {
      if (!isRecord(value)) continue;
      const doc = readSummary(value.doc);
      if (!doc) continue;
      copies.set(doc.id, {
        doc,
        openedAt: typeof value.openedAt === "string" ? value.openedAt : doc.updatedAt,
        unsynced: value.unsynced === true,
      });
    }
  } catch {
    // A corrupt index only loses the metadata; the copies themselves are still in IndexedDB.
  }
  return copies;
}

function writeIndex(userId: string, copies: Map<string, LocalCopy>): void {
  try {
    if (copies.size === 0) localStorage.removeItem(INDEX_PREFIX + userId);
    else localStorage.setItem(INDEX_PREFIX + userId, JSON.stringify(Object.fromEntries(copies)));
  } catch {
    // Storage full or disabled: documents still open online, just not offline.
  }
  for (const listener of listeners) listener();
}

export function subscribeLocalCopies(listener: Listener): () => void {
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

/** Remembers a document's metadata as the server last described it. */
export function rememberDocument(userId: string, doc: DocMeta): void {
  const copies = readIndex(userId);
  const previous = copies.get(doc.id);
  const { id, title, kind, role, ownerId, createdAt, updatedAt } = doc;
  copies.set(id, {
    doc: { id, title, kind, role, ownerId, createdAt, updatedAt },
    openedAt: new Date().toISOString(),
    unsynced: previous?.unsynced ?? false,
  });
  const evicted = [...copies.values()]
    .filter((copy) => !copy.unsynced && copy.doc.id !== id)
    .sort((a, b) => a.openedAt.localeCompare(b.openedAt))
    .slice(0, Math.max(0, copies.size - MAX_COPIES));
  for (const copy of evicted) {
    copies.delete(copy.doc.id);
    void deleteDatabase(localDatabaseName(userId, copy.doc.id));
  }
  writeIndex(userId, copies);
}

/** Updates the remembered title after a rename, if this device has the document. */
export function rememberTitle(userId: string, docId: string, title: string): void {
  const copies = readIndex(userId);
  const copy = copies.get(docId);
  if (!copy || copy.doc.title === title) return;
  copies.set(docId, { ...copy, doc: { ...copy.doc, title } });
  writeIndex(userId, copies);
}

export function localCopy(userId: string, docId: string): LocalCopy | null {
  return readIndex(userId).get(docId) ?? null;
}

/** Newest first. */
export function localCopies(userId: string): LocalCopy[] {
  return [...readIndex(userId).values()].sort((a, b) => b.openedAt.localeCompare(a.openedAt));
}

export function markUnsynced(userId: string, docId: string, unsynced: boolean): void {
  const copies = readIndex(userId);
  const copy = copies.get(docId);
  if (!copy || copy.unsynced === unsynced) return;
  copies.set(docId, { ...copy, unsynced });
  writeIndex(userId, copies);
}

function deleteDatabase(name: string): Promise<void> {
  return new Promise((resolve) => {
    try {
      const request = indexedDB.deleteDatabase(name);
      // "blocked" only means a tab still has it open; the deletion completes once it closes.
      request.onsuccess = () => resolve();
      request.onerror = () => resolve();
    } catch {
      resolve();
    }
  });
}

/**
 * Drops a document this person can no longer open (deleted, or access removed): there is
 * nothing to sync it to any more.
 */
export async function forgetDocument(userId: string, docId: string): Promise<void> {
  const copies = readIndex(userId);
  if (copies.delete(docId)) writeIndex(userId, copies);
  await deleteDatabase(localDatabaseName(userId, docId));
}

/**
 * Removes every local copy of this person's documents (at sign-out), including databases the
 * index lost track of. Resolves when the deletions are done or, for a copy another tab still
 * holds open, after `waitMs`; the browser finishes those once that tab lets go.
 */
export async function clearLocalCopies(userId: string, waitMs = 3_000): Promise<void> {
  const names = new Set([...readIndex(userId).keys()].map((docId) => localDatabaseName(userId, docId)));
  try {
    localStorage.removeItem(INDEX_PREFIX + userId);
  } catch {
    // Nothing more to do.
  }
  for (const listener of listeners) listener();
  try {
    const prefix = `${DB_PREFIX}/${userId}/`;
    for (const info of await indexedDB.databases()) {
      if (info.name?.startsWith(prefix)) names.add(info.name);
    }
  } catch {
    // indexedDB.databases() is missing in older browsers; the index above is the fallback.
  }
  const deletions = Promise.all([...names].map(deleteDatabase));
  await Promise.race([deletions, new Promise((resolve) => setTimeout(resolve, waitMs))]);
}

if (typeof window !== "undefined") {
  window.addEventListener("storage", (event) => {
    if (event.key === null || event.key.startsWith(INDEX_PREFIX)) for (const listener of listeners) listener();
  });
}
