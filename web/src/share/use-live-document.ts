// Keeps an open document's metadata (above all my role) current while the page stays open, so a
// role change shows at once: a promoted viewer can type, a demoted editor's editor locks, and a
// removed member sees why the document went away.
//
// The sync server applies role changes to open sockets silently (a viewer's updates are refused,
// a removed member's socket closes with 4403) but the y-websocket protocol has no message that
// says "your role is now X". So the REST API stays the one source of truth, asked again when
// something suggests the answer changed:
// - whoever changes access announces it through awareness (see announceAccessChange), which every
//   open window of the document receives within milliseconds;
// - the server says the document was renamed (its own awareness entry, DOCUMENT_CHANGED_FIELD),
//   wherever the rename was made;
// - the server closed or refused the connection;
// - the connection came back (the role may have changed while we were away);
// - the tab became visible again, and every so often while it is visible, for changes made where
//   no window of this document was open.

import { useCallback, useEffect, useRef, useState } from "react";
import { SERVER_PRESENCE_CLIENT_ID, documentChangedIn } from "@palimpsest/contracts/shared";
import { api } from "../api/api-client";
import { ApiError } from "../api/http";
import type { DocMeta } from "../api/types";
import type { CollabConnection, CollabState } from "../collab/collab-provider";

/** The awareness field a window sets after it changed who has access. */
const ACCESS_FIELD = "accessChangedAt";
const POLL_MS = 30_000;
/** Asking again for a version a notice announced: 0.1 s, doubling, six times (about 6 s in all). */
const STALE_RETRY_MS = 100;
const STALE_RETRIES = 6;

export type LiveDocument =
  | { state: "ready"; doc: DocMeta }
  /** Access was withdrawn, or the document went to the trash, while it was open. */
  | { state: "lost"; status: number; message: string };

/** Tells every open window of this document that access changed, so they ask again. */
export function announceAccessChange(connection: CollabConnection | null): void {
  connection?.awareness.setLocalStateField(ACCESS_FIELD, Date.now());
}

function accessStamp(state: unknown): unknown {
  return typeof state === "object" && state !== null ? (state as Record<string, unknown>)[ACCESS_FIELD] : undefined;
}

function sameDoc(a: DocMeta, b: DocMeta): boolean {
  return a.role === b.role && a.title === b.title && a.ownerId === b.ownerId && a.kind === b.kind;
}

export function useLiveDocument(initial: DocMeta, connection: CollabConnection | null, collab: CollabState): LiveDocument {
  const [live, setLive] = useState<LiveDocument>({ state: "ready", doc: initial });
  const latestRequest = useRef(0);
  const docId = initial.id;

  useEffect(() => {
    setLive({ state: "ready", doc: initial });
  }, [initial]);

  /** The highest version a notice announced: an answer older than it is not the news yet. */
  const announced = useRef(0);

  /**
   * Asks the REST API again. `atLeast`: the version a notice said the change made. The read
   * model may not hold it the moment the notice arrives, so an older answer is asked again, a
   * little later each time, for a few seconds.
   */
  const recheck = useCallback(
    (atLeast?: number) => {
      if (atLeast !== undefined) announced.current = Math.max(announced.current, atLeast);
      const request = ++latestRequest.current;
      const ask = (attempt: number): void => {
        api.docs.get(docId).then(
          (doc) => {
            if (request !== latestRequest.current) return;
            if (doc.version < announced.current && attempt < STALE_RETRIES) {
              setTimeout(() => ask(attempt + 1), STALE_RETRY_MS * 2 ** attempt);
              return;
            }
            setLive((current) => (current.state === "ready" && sameDoc(current.doc, doc) ? current : { state: "ready", doc }));
          },
          (err: unknown) => {
            if (request !== latestRequest.current) return;
            // Strangers get a 404 (they learn nothing about the document), so from inside an open
            // document a 404 means: my access ended, or the document went to the trash.
            if (err instanceof ApiError && (err.status === 404 || err.status === 403)) {
              setLive({
                state: "lost",
                status: 403,
                message: "You no longer have access to this document. It was unshared with you or moved to the trash; ask its owner if you still need it.",
              });
            }
            // Anything else (offline, a server hiccup) says nothing about access: keep what we know.
          },
        );
      };
      ask(0);
    },
    [docId],
  );

  // Hints from other windows of this document, through awareness.
  useEffect(() => {
    if (!connection) return;
    const awareness = connection.awareness;
    const seen = new Map<number, unknown>();
    for (const [clientId, state] of awareness.getStates()) seen.set(clientId, accessStamp(state));
    const onChange = ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }): void => {
      let changed = false;
      let atLeast: number | undefined;
      for (const clientId of [...added, ...updated]) {
        const state = awareness.getStates().get(clientId);
        // The server's own entry says the document changed (a rename), as it happens.
        const notice = clientId === SERVER_PRESENCE_CLIENT_ID ? documentChangedIn(state) : undefined;
        // A comment changes nothing this hook keeps; the comments have their own list.
        if (notice && notice.what !== "comments") {
          changed = true;
          if ("version" in notice && notice.version !== undefined) atLeast = Math.max(atLeast ?? 0, notice.version);
        }
        const stamp = accessStamp(state);
        const before = seen.get(clientId);
        seen.set(clientId, stamp);
        // Someone joining with an old announcement is no news; an updated one is.
        if (clientId !== awareness.clientID && stamp !== undefined && stamp !== before && !added.includes(clientId)) changed = true;
      }
      for (const clientId of removed) seen.delete(clientId);
      if (changed) recheck(atLeast);
    };
    awareness.on("change", onChange);
    return () => awareness.off("change", onChange);
  }, [connection, recheck]);

  // The server refused or closed the connection for good: find out whether access ended.
  const problemKind = collab.problem?.kind;
  useEffect(() => {
    if (problemKind === "no-access" || problemKind === "not-found") recheck();
  }, [problemKind, recheck]);

  // Back online after a break: the role may have changed meanwhile.
  const connected = collab.status === "saved" || collab.status === "online" || collab.status === "syncing";
  const wasConnected = useRef(false);
  const everConnected = useRef(false);
  useEffect(() => {
    if (connected && !wasConnected.current && everConnected.current) recheck();
    wasConnected.current = connected;
    everConnected.current ||= connected;
  }, [connected, recheck]);

  // Changes made where this document was not open: ask on return to the tab, and now and then.
  useEffect(() => {
    const onVisible = (): void => {
      if (document.visibilityState === "visible") recheck();
    };
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") recheck();
    }, POLL_MS);
    document.addEventListener("visibilitychange", onVisible);
    window.addEventListener("focus", onVisible);
    return () => {
      clearInterval(timer);
      document.removeEventListener("visibilitychange", onVisible);
      window.removeEventListener("focus", onVisible);
    };
  }, [recheck]);

  return live;
}
