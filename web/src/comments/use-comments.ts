// A document's comment threads, kept current while the page is open: the server's notice says
// a comment changed (anyone's, on any replica) and which version of the document that made, so
// the list is asked again until it holds that version; a reconnect asks again too.

import { useCallback, useEffect, useRef, useState } from "react";
import { SERVER_PRESENCE_CLIENT_ID, documentChangedIn } from "@palimpsest/contracts/shared";
import { api } from "../api/api-client";
import type { CommentThread } from "../api/types";
import type { CollabConnection } from "../collab/collab-provider";

/** Asking again for a version a notice announced: 0.1 s, doubling, six times. */
const STALE_RETRY_MS = 100;
const STALE_RETRIES = 6;

export interface Comments {
  threads: CommentThread[];
  loaded: boolean;
  /** Why the list could not be read, if it could not. */
  error: string | null;
  /** Reads the list again (after a change of my own, the answer already holds it). */
  refresh: () => void;
}

export function useComments(docId: string, connection: CollabConnection | null): Comments {
  const [threads, setThreads] = useState<CommentThread[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const announced = useRef(0);
  const latest = useRef(0);
  const retry = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  // Another document: nothing of the last one's carries over.
  useEffect(() => {
    announced.current = 0;
    setThreads([]);
    setLoaded(false);
    return () => {
      latest.current++;
      clearTimeout(retry.current);
    };
  }, [docId]);

  const refresh = useCallback(() => {
    const request = ++latest.current;
    clearTimeout(retry.current);
    const ask = (attempt: number): void => {
      api.comments.list(docId).then(
        (list) => {
          if (request !== latest.current) return;
          if (list.version < announced.current && attempt < STALE_RETRIES) {
            retry.current = setTimeout(() => ask(attempt + 1), STALE_RETRY_MS * 2 ** attempt);
            return;
          }
          setThreads(list.items);
          setLoaded(true);
          setError(null);
        },
        () => {
          if (request !== latest.current) return;
          setError("The comments could not be loaded. They come back when the connection does.");
        },
      );
    };
    ask(0);
  }, [docId]);

  useEffect(() => {
    refresh();
  }, [refresh]);

  useEffect(() => {
    if (!connection) return;
    const awareness = connection.awareness;
    const onChange = ({ added, updated }: { added: number[]; updated: number[] }): void => {
      if (![...added, ...updated].includes(SERVER_PRESENCE_CLIENT_ID)) return;
      const notice = documentChangedIn(awareness.getStates().get(SERVER_PRESENCE_CLIENT_ID));
      if (notice?.what !== "comments") return;
      if (notice.version !== undefined) announced.current = Math.max(announced.current, notice.version);
      refresh();
    };
    // Back after a break: what changed meanwhile was not heard.
    const onStatus = ({ status }: { status: string }): void => {
      if (status === "connected") refresh();
    };
    awareness.on("change", onChange);
    connection.provider.on("status", onStatus);
    return () => {
      awareness.off("change", onChange);
      connection.provider.off("status", onStatus);
    };
  }, [connection, refresh]);

  return { threads, loaded, error, refresh };
}
