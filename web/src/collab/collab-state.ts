// What the UI is told about a live document, and how its one-word status follows from the
// connection's facts; kept apart from the provider so the rules can be read (and tested) alone.

/**
 * - connecting: before the first connection (or while a refused token is being renewed);
 * - syncing: connected, exchanging changes: the handshake, or edits the server has not acknowledged;
 * - online: connected and up to date, with no edit of ours waiting (or we may not edit);
 * - saved: connected, and the server has acknowledged every edit made here;
 * - offline: no connection; edits are kept on this device and sent when it returns.
 */
export type CollabStatus = "connecting" | "syncing" | "online" | "saved" | "offline";

export type CollabProblemKind = "no-access" | "expired" | "not-found" | "rejected";

export interface CollabProblem {
  kind: CollabProblemKind;
  message: string;
}

export interface CollabState {
  status: CollabStatus;
  /** Set when the server refused the connection for good; no automatic reconnects follow. */
  problem: CollabProblem | null;
  /** The initial exchange with the server completed at least once. */
  loaded: boolean;
  /** The copy kept on this device has been read into the document (or there is none). */
  localLoaded: boolean;
  /**
   * The document may hold something the server has not acknowledged yet (true from any local
   * change, including reading the device copy, until the server confirms it has it all).
   */
  pendingChanges: boolean;
  /** Edits made in this window (or found missing on the server) that it has not acknowledged yet. */
  unsavedEdits: boolean;
  /** Every edit made here is written to this device's copy (false while a write is in flight). */
  savedLocally: boolean;
  /** The server keeps refusing our edits (we may only read); they stay on this device. */
  writesRefused: boolean;
}

/** A connection's state before anything has happened: connecting, nothing loaded, nothing unsaved. */
export const INITIAL_COLLAB_STATE: CollabState = {
  status: "connecting",
  problem: null,
  loaded: false,
  localLoaded: false,
  pendingChanges: false,
  unsavedEdits: false,
  savedLocally: true,
  writesRefused: false,
};

/** What the status is decided from. */
export interface StatusFacts {
  problem: CollabProblem | null;
  /** The browser believes it has a network. */
  online: boolean;
  connected: boolean;
  synced: boolean;
  writesRefused: boolean;
  pending: boolean;
  everSaved: boolean;
  authRetryInProgress: boolean;
  everConnected: boolean;
  unsuccessfulReconnects: number;
}

export function statusOf(f: StatusFacts): CollabStatus {
  if (f.problem !== null || !f.online) return "offline";
  if (f.connected) {
    // Until the handshake completes the server may still refuse us or hold edits we lack.
    if (!f.synced) return "syncing";
    if (f.writesRefused) return "online";
    if (f.pending) return "syncing";
    return f.everSaved ? "saved" : "online";
  }
  if (f.authRetryInProgress) return "connecting";
  if (!f.everConnected && f.unsuccessfulReconnects === 0) return "connecting";
  return "offline";
}

/** Whether two states would look the same to a subscriber (so it need not hear of the second). */
export function sameCollabState(a: CollabState, b: CollabState): boolean {
  return (
    a.status === b.status &&
    a.problem === b.problem &&
    a.loaded === b.loaded &&
    a.localLoaded === b.localLoaded &&
    a.pendingChanges === b.pendingChanges &&
    a.unsavedEdits === b.unsavedEdits &&
    a.savedLocally === b.savedLocally &&
    a.writesRefused === b.writesRefused
  );
}
