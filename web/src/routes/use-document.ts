// Loads a document's metadata (title, kind, my role) for the document screens. What the
// server says is remembered on this device, so a document opened before still opens when
// the server cannot be reached (offline, or the server is down): from its local copy.

import { useCallback, useEffect, useRef, useState } from "react";
import { api } from "../api/api-client";
import { ApiError, isAbortError } from "../api/http";
import type { DocMeta } from "../api/types";
import { useSession } from "../auth/use-session";
import { forgetDocument, localCopy, rememberDocument } from "../offline/local-copies";

export type DocumentLoad =
  | { state: "loading" }
  /** `fromDevice`: the server could not be asked; this is what it said last time. */
  | { state: "ready"; doc: DocMeta; fromDevice?: boolean }
  | { state: "error"; status: number; message: string; retry?: () => void };

/** While showing a copy from this device, ask the server again this often. */
const RECHECK_MS = 15_000;

/** Status 0 is a network failure; 5xx means the gateway answered but the service behind it did not. */
function unreachable(status: number): boolean {
  return status === 0 || status >= 500;
}

export function useDocument(id: string | undefined): DocumentLoad {
  const userId = useSession().session?.user.id;
  const [load, setLoad] = useState<DocumentLoad>({ state: "loading" });
  const [attempt, setAttempt] = useState(0);
  const retry = useCallback(() => setAttempt((n) => n + 1), []);
  const shownId = useRef<string | undefined>(undefined);

  useEffect(() => {
    if (!id) {
      setLoad({ state: "error", status: 404, message: "No document id in the address." });
      return;
    }
    const controller = new AbortController();
    // Asking again about the same document keeps what is shown until the answer arrives.
    if (shownId.current !== id) setLoad({ state: "loading" });
    shownId.current = id;
    api.docs
      .get(id, controller.signal)
      .then((doc) => {
        if (userId) rememberDocument(userId, doc);
        setLoad({ state: "ready", doc });
      })
      .catch((err: unknown) => {
        if (isAbortError(err)) return;
        const status = err instanceof ApiError ? err.status : 0;
        const message = err instanceof ApiError ? err.message : "Could not open this document.";
        const copy = userId ? localCopy(userId, id) : null;
        if (unreachable(status) && copy) {
          setLoad({ state: "ready", doc: copy.doc, fromDevice: true });
          return;
        }
        // Deleted, or no longer shared with me: a local copy could never sync again.
        if (status === 404 && userId && copy && !copy.unsynced) void forgetDocument(userId, id);
        setLoad({ state: "error", status, message, retry });
      });
    return () => controller.abort();
  }, [id, userId, attempt, retry]);

  // Unreachable: try again as soon as the network returns, and now and then meanwhile.
  const waiting = (load.state === "ready" && load.fromDevice === true) || (load.state === "error" && unreachable(load.status));
  useEffect(() => {
    if (!waiting) return;
    window.addEventListener("online", retry);
    const timer = setInterval(retry, RECHECK_MS);
    return () => {
      window.removeEventListener("online", retry);
      clearInterval(timer);
    };
  }, [waiting, retry]);

  return load;
}
