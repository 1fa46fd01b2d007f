// React glue for CollabConnection: one connection per open document, its live state,
// and who else is here (from Yjs awareness).

import { useEffect, useMemo, useState, useSyncExternalStore } from "react";
import { freshAccessToken, getSessionSnapshot, refreshSession, subscribeSession } from "../auth/session";
import { useSession } from "../auth/use-session";
import { colorForUser } from "../lib/user-color";
import { localDatabaseName, markUnsynced } from "../offline/local-copies";
import { CollabConnection, INITIAL_COLLAB_STATE } from "./collab-provider";
import type { CollabState, PresenceUser } from "./collab-provider";
import type { Awareness } from "y-protocols/awareness";
import { presenceColorOf } from "@palimpsest/contracts/shared";

/** The signed-in user as others see them: name plus a colour stable across sessions. */
export function useSelfPresence(): PresenceUser | null {
  const user = useSession().session?.user;
  return useMemo(() => (user ? { id: user.id, name: user.name, color: colorForUser(user.id) } : null), [user]);
}

/**
 * Opens a connection for `docId` while the component is mounted (null before the effect
 * runs). Created in an effect, not during render, so StrictMode's double mount cannot leak
 * a socket. The document is kept on this device in a database of the signed-in person's own,
 * and the dashboard learns whether it holds edits the server has not acknowledged yet.
 */
export function useCollabConnection(docId: string | null, user: PresenceUser | null): CollabConnection | null {
  const [connection, setConnection] = useState<CollabConnection | null>(null);
  const userId = user?.id;
  const userName = user?.name;
  const userColor = user?.color;

  useEffect(() => {
    if (!docId || !userId) return;
    const next = new CollabConnection(docId, {
      getAccessToken: freshAccessToken,
      refreshAccessToken: refreshSession,
      localDatabase: localDatabaseName(userId, docId),
    });
    // Tokens rotated by REST calls or other tabs should be used on the next reconnect.
    const unsubscribe = subscribeSession(() => {
      const token = getSessionSnapshot().session?.accessToken;
      if (token) next.updateToken(token);
    });
    // The dashboard's "not synced" mark: set by an edit here, cleared only once the server
    // confirmed it has everything; in between (say, opened offline) the device's word stands.
    let unsynced: boolean | null = null;
    const unwatch = next.subscribe(() => {
      const state = next.getState();
      const known = state.unsavedEdits ? true : state.loaded && !state.pendingChanges ? false : null;
      if (known !== null && known !== unsynced) {
        unsynced = known;
        markUnsynced(userId, docId, known);
      }
    });
    setConnection(next);
    return () => {
      unwatch();
      unsubscribe();
      next.destroy();
      setConnection((current) => (current === next ? null : current));
    };
  }, [docId, userId]);

  useEffect(() => {
    if (connection && userId && userName && userColor) {
      connection.setLocalUser({ id: userId, name: userName, color: userColor });
    }
  }, [connection, userId, userName, userColor]);

  return connection;
}

const noopSubscribe = (): (() => void) => () => {};
const initialSnapshot = (): CollabState => INITIAL_COLLAB_STATE;

export function useCollabState(connection: CollabConnection | null): CollabState {
  return useSyncExternalStore(connection?.subscribe ?? noopSubscribe, connection?.getState ?? initialSnapshot);
}

export interface Peer extends PresenceUser {
  clientId: number;
  isSelf: boolean;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function readPeers(awareness: Awareness): Peer[] {
  const byUser = new Map<string, Peer>();
  for (const [clientId, state] of awareness.getStates()) {
    const user: unknown = isRecord(state) ? state.user : undefined;
    if (!isRecord(user) || typeof user.name !== "string") continue;
    const id = typeof user.id === "string" ? user.id : `client-${clientId}`;
    const isSelf = clientId === awareness.clientID;
    // The same person in two tabs is one avatar; prefer the entry for this tab.
    const existing = byUser.get(id);
    if (existing && (existing.isSelf || !isSelf)) continue;
    byUser.set(id, {
      clientId,
      id,
      name: user.name,
      // Other people's states are theirs to write: only a hex colour reaches a style or an SVG fill.
      color: presenceColorOf(user.color),
      isSelf,
    });
  }
  return [...byUser.values()].sort((a, b) => Number(b.isSelf) - Number(a.isSelf) || a.name.localeCompare(b.name));
}

function samePeers(a: Peer[], b: Peer[]): boolean {
  return (
    a.length === b.length &&
    a.every((peer, i) => {
      const other = b[i];
      return other !== undefined && peer.id === other.id && peer.name === other.name && peer.color === other.color && peer.isSelf === other.isSelf;
    })
  );
}

export function usePresence(connection: CollabConnection | null): Peer[] {
  const [peers, setPeers] = useState<Peer[]>([]);

  useEffect(() => {
    if (!connection) {
      setPeers([]);
      return;
    }
    const awareness = connection.awareness;
    const refresh = (): void => {
      const next = readPeers(awareness);
      setPeers((current) => (samePeers(current, next) ? current : next));
    };
    refresh();
    // "change" fires only when someone joins, leaves or changes state, not on heartbeats.
    awareness.on("change", refresh);
    return () => awareness.off("change", refresh);
  }, [connection]);

  return peers;
}
