// Turns a file id into an address an <img> can show. Downloads need the Authorization header,
// which an <img> cannot send, so the bytes are fetched with the token and shown from an object
// URL. A presigned URL (?redirect=true) would expire within seconds and break an image drawn
// again later; an object URL lasts as long as the page. One download per file and variant,
// shared by every image that shows it; forgotten when a different user signs in.

import { useEffect, useState } from "react";
import { getSessionSnapshot, subscribeSession } from "../auth/session";
import { fetchFileBlob, filePath } from "./files-api";

export type FileVariant = "original" | "thumbnail";

const cache = new Map<string, Promise<string>>();
let cachedFor: string | null = getSessionSnapshot().session?.user.id ?? null;

const keyOf = (fileId: string, variant: FileVariant): string => `${variant}:${fileId}`;

function forgetAll(): void {
  for (const pending of cache.values()) {
    pending.then((url) => URL.revokeObjectURL(url)).catch(() => undefined);
  }
  cache.clear();
}

subscribeSession(() => {
  const user = getSessionSnapshot().session?.user.id ?? null;
  if (user === cachedFor) return;
  cachedFor = user;
  forgetAll();
});

/** An object URL of the file's bytes (or of its thumbnail), downloaded once. */
export function fileObjectUrl(fileId: string, variant: FileVariant = "original"): Promise<string> {
  const key = keyOf(fileId, variant);
  const known = cache.get(key);
  if (known) return known;
  const path = variant === "thumbnail" ? `${filePath(fileId)}/thumbnail` : filePath(fileId);
  const pending = fetchFileBlob(path).then((blob) => URL.createObjectURL(blob));
  cache.set(key, pending);
  // A failure is not kept: the file may be reachable on the next try (back online, shared again).
  pending.catch(() => {
    if (cache.get(key) === pending) cache.delete(key);
  });
  return pending;
}

/** The person who just uploaded a file already has its bytes: show those instead of downloading them again. */
export function primeFileUrl(fileId: string, blob: Blob): void {
  const key = keyOf(fileId, "original");
  if (!cache.has(key)) cache.set(key, Promise.resolve(URL.createObjectURL(blob)));
}

export interface FileUrlState {
  url: string | null;
  error: string | null;
}

/** The displayable address of a file, for React: null while it downloads, or an error. */
export function useFileUrl(fileId: string | null, variant: FileVariant = "original"): FileUrlState {
  const [state, setState] = useState<FileUrlState & { key: string | null }>({ key: null, url: null, error: null });
  const key = fileId ? keyOf(fileId, variant) : null;

  useEffect(() => {
    if (!fileId) return;
    let current = true;
    fileObjectUrl(fileId, variant).then(
      (url) => {
        if (current) setState({ key: keyOf(fileId, variant), url, error: null });
      },
      (err: unknown) => {
        if (current) setState({ key: keyOf(fileId, variant), url: null, error: err instanceof Error ? err.message : "The image could not be loaded." });
      },
    );
    return () => {
      current = false;
    };
  }, [fileId, variant]);

  // What belongs to another file (the card's file just changed) is not shown meanwhile.
  return state.key === key ? { url: state.url, error: state.error } : { url: null, error: null };
}
