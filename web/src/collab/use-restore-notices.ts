// Someone restored an earlier version while this page was open: the server says so (its own
// awareness entry, see DOCUMENT_CHANGED_FIELD), so the page can tell the reader why the text
// changed under them instead of letting their recent typing vanish without a word.

import { useEffect, useRef } from "react";
import { SERVER_PRESENCE_CLIENT_ID, documentChangedIn } from "@palimpsest/contracts/shared";
import type { CollabConnection } from "./collab-provider";

export interface RestoreNotice {
  /** Who restored it (a user id). */
  by: string;
  at: number;
}

export function useRestoreNotices(connection: CollabConnection | null, onRestore: (notice: RestoreNotice) => void): void {
  const latest = useRef(onRestore);
  latest.current = onRestore;
  useEffect(() => {
    if (!connection) return;
    const awareness = connection.awareness;
    let lastAt = 0;
    const onChange = ({ added, updated }: { added: number[]; updated: number[] }): void => {
      for (const clientId of [...added, ...updated]) {
        if (clientId !== SERVER_PRESENCE_CLIENT_ID) continue;
        const notice = documentChangedIn(awareness.getStates().get(clientId));
        if (notice?.what !== "restored" || notice.at <= lastAt) continue;
        lastAt = notice.at;
        latest.current({ by: notice.by, at: notice.at });
      }
    };
    awareness.on("change", onChange);
    return () => awareness.off("change", onChange);
  }, [connection]);
}
