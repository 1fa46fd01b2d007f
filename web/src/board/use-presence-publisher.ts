// What this person shows the others on the board (pointer, selection, drag), through awareness.

import { useEffect, useRef } from "react";
import type { RefObject } from "react";
import type { CollabConnection } from "../collab/collab-provider";
import { PresencePublisher } from "./board-presence";

/** The connection's publisher; made in an effect (it listens until destroyed), so null at first. */
export function usePresencePublisher(connection: CollabConnection): RefObject<PresencePublisher | null> {
  const publisher = useRef<PresencePublisher | null>(null);
  useEffect(() => {
    const next = new PresencePublisher(connection.awareness);
    publisher.current = next;
    return () => {
      next.destroy();
      if (publisher.current === next) publisher.current = null;
    };
  }, [connection]);
  return publisher;
}
