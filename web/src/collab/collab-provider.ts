// One live document: a Y.Doc kept on this device (IndexedDB) and in sync with the server over
// the y-websocket protocol at /collab/:docId, plus a small state machine the UI subscribes to
// ("connecting", "syncing", "online", "saved", "offline") and the reasons the server may refuse
// us (no access, expired session).
//
// Edits never wait for the network: they land in the Y.Doc, are written to IndexedDB at once,
// and reach the server whenever a connection is up; the CRDT merges whatever happened
// elsewhere meanwhile. "saved" is only claimed once the server has acknowledged every local
// edit (see server-knowledge.ts), not when bytes left the socket.

import * as Y from "yjs";
import { IndexeddbPersistence } from "y-indexeddb";
import { WebsocketProvider, messageAuth, messageSync } from "y-websocket";
import { readAuthMessage } from "y-protocols/auth";
import type { Awareness } from "y-protocols/awareness";
import { CloseCodes, isReadOnlyRefusal, isRefusalClose } from "@palimpsest/contracts/shared";
import { ServerKnowledge } from "./server-knowledge";

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

export interface CollabOptions {
  /** A valid access token, or null when signed out. */
  getAccessToken: () => Promise<string | null>;
  /** Rotates tokens after `stale` was refused; null when the session is over. May throw when offline. */
  refreshAccessToken: (stale: string) => Promise<string | null>;
  /** IndexedDB database that keeps this person's copy of the document; null keeps nothing here. */
  localDatabase: string | null;
}

export interface PresenceUser {
  id: string;
  name: string;
  color: string;
}

const RATE_LIMIT_RETRY_MS = 5_000;
const OFFLINE_REFRESH_RETRY_MS = 3_000;
/** A device copy that takes longer than this to read must not hold up the connection. */
const LOCAL_LOAD_TIMEOUT_MS = 3_000;
// While edits are unconfirmed we ask the server at most this often: each answer carries its
// whole delete set, so asking on every keystroke would cost more than it tells.
const PROBE_FIRST_MS = 350;
const PROBE_MAX_MS = 4_000;
const CHECK_DELAY_MS = 60;
const LOCAL_CHECK_DELAY_MS = 30;

const SYNC_STEP1 = 0;
const SYNC_STEP2 = 1;
const SYNC_UPDATE = 2;

export function collabServerUrl(): string {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/collab`;
}

function readVarUint(bytes: Uint8Array, start: number): [number, number] {
  let value = 0;
  let factor = 1;
  for (let pos = start; pos < bytes.length; pos++) {
    const byte = bytes[pos] ?? 0;
    value += (byte & 0x7f) * factor;
    if (byte < 0x80) return [value, pos + 1];
    factor *= 128;
    if (factor > Number.MAX_SAFE_INTEGER) break;
  }
  throw new RangeError("truncated message");
}

/** The sync message type and payload at `pos`, without consuming them. */
function peekSyncMessage(bytes: Uint8Array, pos: number): { type: number; payload: Uint8Array } {
  const [type, afterType] = readVarUint(bytes, pos);
  const [length, start] = readVarUint(bytes, afterType);
  if (start + length > bytes.length) throw new RangeError("truncated message");
  return { type, payload: bytes.subarray(start, start + length) };
}

function syncStep1Message(stateVector: Uint8Array): Uint8Array {
  const length: number[] = [];
  let rest = stateVector.length;
  while (rest > 0x7f) {
    length.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  length.push(rest);
  const message = new Uint8Array(2 + length.length + stateVector.length);
  message[0] = messageSync;
  message[1] = SYNC_STEP1;
  message.set(length, 2);
  message.set(stateVector, 2 + length.length);
  return message;
}

type Listener = () => void;
type MessageHandler = WebsocketProvider["messageHandlers"][number];

export class CollabConnection {
  readonly docId: string;
  readonly doc: Y.Doc;
  readonly provider: WebsocketProvider;

  private readonly options: CollabOptions;
  private readonly listeners = new Set<Listener>();
  private readonly server = new ServerKnowledge();
  private readonly persistence: IndexeddbPersistence | null;
  private state: CollabState = INITIAL_COLLAB_STATE;
  private problem: CollabProblem | null = null;
  /** Edits here that may not be on the server yet (confirmed by checks, see checkSaved). */
  private pending = false;
  /** Something of ours was missing on the server at some point (typed here, or kept offline). */
  private hadUnsaved = false;
  /** ...and still is, as far as we know. */
  private unsaved = false;
  /** ...and the server then acknowledged it: "saved" rather than "online" from then on. */
  private everSaved = false;
  private loaded = false;
  private localLoaded = false;
  private everConnected = false;
  private authRetryInProgress = false;
  private writesRefused = false;
  /** True while the provider applies a message from the server: those updates are known there. */
  private applyingServerMessage = false;
  // One token refresh per successful sync, so a server that keeps refusing fresh tokens
  // cannot trap us in a refresh/reconnect loop.
  private refreshedSinceSync = false;
  private deniedReason: string | null = null;
  private probeTimer: ReturnType<typeof setTimeout> | undefined;
  private probeDelay = PROBE_FIRST_MS;
  private checkTimer: ReturnType<typeof setTimeout> | undefined;
  /** Updates since the device copy was last known to hold everything; see checkSavedLocally. */
  private localWrites = 0;
  private localCheckTimer: ReturnType<typeof setTimeout> | undefined;
  private localConfirmed = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private destroyed = false;

  constructor(docId: string, options: CollabOptions) {
    this.docId = docId;
    this.options = options;
    this.doc = new Y.Doc();
    // Not connected yet: the device copy is read and the access token fetched first, in start().
    this.provider = new WebsocketProvider(collabServerUrl(), encodeURIComponent(docId), this.doc, {
      connect: false,
      params: {},
    });
    this.persistence = options.localDatabase ? new IndexeddbPersistence(options.localDatabase, this.doc) : null;

    // y-websocket only logs a permission-denied auth message; keep its reason so the close
    // that follows can be explained to the user.
    const onAuthMessage: MessageHandler = (_encoder, decoder) => {
      readAuthMessage(decoder, this.doc, (_ydoc, reason) => {
        this.deniedReason = reason;
        // Said on an open connection, it means our edits are refused, not the connection.
        if (this.provider.wsconnected && isReadOnlyRefusal(reason)) {
          this.writesRefused = true;
          this.update();
        }
      });
    };
    this.provider.messageHandlers[messageAuth] = onAuthMessage;

    // Watch the sync messages go by to learn what the server has stored. `fromServer` is
    // false for messages from this browser's other tabs (BroadcastChannel): they prove nothing.
    const applySyncMessage = this.provider.messageHandlers[messageSync];
    const onSyncMessage: MessageHandler = (encoder, decoder, provider, fromServer, messageType) => {
      if (fromServer) this.learnFrom(decoder.arr, decoder.pos);
      this.applyingServerMessage = fromServer;
      try {
        applySyncMessage?.(encoder, decoder, provider, fromServer, messageType);
      } finally {
        this.applyingServerMessage = false;
      }
      if (fromServer && this.pending) this.scheduleCheck();
    };
    this.provider.messageHandlers[messageSync] = onSyncMessage;

    this.provider.on("status", this.onStatus);
    this.provider.on("sync", this.onSync);
    this.provider.on("connection-close", this.onConnectionClose);
    this.provider.on("closed", this.onClosed);
    this.doc.on("update", this.onDocUpdate);
    window.addEventListener("online", this.onOnline);
    window.addEventListener("offline", this.onOffline);

    void this.start();
  }

  get awareness(): Awareness {
    return this.provider.awareness;
  }

  getState = (): CollabState => this.state;

  subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  /** Who we are, for other people's presence lists and carets. */
  setLocalUser(user: PresenceUser): void {
    this.awareness.setLocalStateField("user", user);
  }

  /** Use a newer access token for the next (re)connect; the open socket stays as it is. */
  updateToken(accessToken: string): void {
    if (this.provider.params.token !== accessToken) {
      this.provider.params = { ...this.provider.params, token: accessToken };
    }
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    clearTimeout(this.probeTimer);
    clearTimeout(this.checkTimer);
    clearTimeout(this.localCheckTimer);
    clearTimeout(this.retryTimer);
    window.removeEventListener("online", this.onOnline);
    window.removeEventListener("offline", this.onOffline);
    this.doc.off("update", this.onDocUpdate);
    this.provider.off("status", this.onStatus);
    this.provider.off("sync", this.onSync);
    this.provider.off("connection-close", this.onConnectionClose);
    this.provider.off("closed", this.onClosed);
    // disconnect() inside destroy() tells peers we left, so our avatar disappears at once.
    this.provider.destroy();
    // Destroying the doc also closes its IndexedDB copy; every update was already written.
    this.doc.destroy();
    this.listeners.clear();
  }

  private async start(): Promise<void> {
    const [token] = await Promise.all([this.options.getAccessToken(), this.loadLocalCopy()]);
    if (this.destroyed) return;
    if (!token) {
      this.fail("expired", "Your session expired. Sign in again to keep editing.");
      return;
    }
    this.updateToken(token);
    // Offline, there is nothing to try; the "online" event connects.
    if (navigator.onLine) this.provider.connect();
    else this.provider.connectBc();
    this.update();
  }

  /**
   * Reads this device's copy before connecting, so the first sync message only asks for what
   * is new; the document is usable meanwhile, since editing never waits for the network.
   */
  private async loadLocalCopy(): Promise<void> {
    if (this.persistence) {
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, LOCAL_LOAD_TIMEOUT_MS));
      await Promise.race([this.persistence.whenSynced.then(() => undefined), timeout]);
    }
    if (this.destroyed) return;
    this.localLoaded = true;
    this.update();
  }

  private fail(kind: CollabProblemKind, message: string): void {
    this.problem = { kind, message };
    this.provider.shouldConnect = false;
    this.update();
  }

  private reconnectLater(delayMs: number): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (!this.destroyed && this.problem === null && navigator.onLine) this.provider.connect();
    }, delayMs);
  }

  private learnFrom(bytes: Uint8Array, pos: number): void {
    try {
      const { type, payload } = peekSyncMessage(bytes, pos);
      if (type === SYNC_STEP1) this.server.learnStateVector(payload);
      else if (type === SYNC_STEP2 || type === SYNC_UPDATE) this.server.learnUpdate(payload);
    } catch {
      // A message we cannot read teaches nothing; y-websocket reports it when it applies it.
    }
  }

  private onStatus = ({ status }: { status: "connected" | "disconnected" | "connecting" }): void => {
    if (status === "connecting") this.deniedReason = null;
    if (status === "connected") {
      this.everConnected = true;
      this.authRetryInProgress = false;
      this.writesRefused = false;
    }
    this.update();
  };

  private onSync = (synced: boolean): void => {
    if (synced) {
      this.loaded = true;
      this.refreshedSinceSync = false;
      // The handshake told us the server's state; our reply to its step 1 carried any
      // edits made while offline. See whether anything is still missing there.
      this.probeDelay = PROBE_FIRST_MS;
      if (this.pending) this.scheduleCheck();
    }
    this.update();
  };

  private onConnectionClose = (event: CloseEvent | null): void => {
    // A server that denied us but closed with a generic code would otherwise be retried
    // forever; treat it like an explicit "no access".
    const terminal = event !== null && isRefusalClose(event.code);
    // A 4401 is answered with one token refresh (see onClosed); say "connecting" meanwhile
    // rather than flashing "offline".
    if (event?.code === CloseCodes.unauthenticated && !this.refreshedSinceSync) this.authRetryInProgress = true;
    if (event !== null && !terminal && this.deniedReason !== null && !this.writesRefused) {
      this.provider.shouldConnect = false;
      this.problem = { kind: "no-access", message: `You don't have access to this document. (${this.deniedReason})` };
    }
    clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    this.update();
  };

  private onClosed = ({ code, reason }: { code: number; reason: string }): void => {
    switch (code) {
      case CloseCodes.unauthenticated:
        void this.retryWithFreshToken();
        break;
      case CloseCodes.forbidden:
        this.fail("no-access", "You don't have access to this document any more.");
        break;
      case CloseCodes.notFound:
        this.fail("not-found", "This document doesn't exist or has been deleted.");
        break;
      case CloseCodes.rateLimited:
        this.reconnectLater(RATE_LIMIT_RETRY_MS);
        break;
      default:
        this.fail("rejected", this.refusalMessage(code, reason));
    }
  };

  /**
   * The server explains a refusal in the auth message it sends before closing; the close
   * reason itself is only the error code (say "VALIDATION_FAILED"), not for people.
   */
  private refusalMessage(code: number, reason: string): string {
    const detail = this.deniedReason ?? (reason !== "" && !/^[A-Z][A-Z0-9_]*$/.test(reason) ? reason : null);
    return detail
      ? `The server refused to open this document: ${detail}`
      : `The server closed the connection (code ${code}). Reload the page to try again.`;
  }

  private async retryWithFreshToken(): Promise<void> {
    if (this.refreshedSinceSync) {
      this.fail("expired", "Your session expired. Sign in again to keep editing.");
      return;
    }
    this.refreshedSinceSync = true;
    this.authRetryInProgress = true;
    this.update();
    const stale = this.provider.params.token ?? "";
    let next: string | null;
    try {
      next = await this.options.refreshAccessToken(stale);
    } catch {
      // Could not reach the auth service; try the whole thing again shortly.
      if (this.destroyed) return;
      this.refreshedSinceSync = false;
      this.authRetryInProgress = false;
      this.reconnectLater(OFFLINE_REFRESH_RETRY_MS);
      this.update();
      return;
    }
    if (this.destroyed) return;
    if (!next) {
      this.authRetryInProgress = false;
      this.fail("expired", "Your session expired. Sign in again to keep editing.");
      return;
    }
    this.updateToken(next);
    this.provider.connect();
  }

  private onDocUpdate = (_update: Uint8Array, origin: unknown): void => {
    if (this.persistence && origin !== this.persistence) {
      this.localWrites++;
      this.scheduleLocalCheck();
      this.update();
    }
    // What the server sent is on the server. Everything else (typing here, the device copy,
    // another tab) may not be, until the server says so.
    if (this.applyingServerMessage) return;
    // The device copy usually holds only what the server has; checkSaved tells if not.
    if (origin !== this.persistence && !this.unsaved) {
      this.hadUnsaved = true;
      this.unsaved = true;
      this.update();
    }
    if (!this.pending) {
      this.pending = true;
      this.update();
    }
    this.probeDelay = PROBE_FIRST_MS;
    this.scheduleProbe();
  };

  private scheduleProbe(): void {
    if (this.probeTimer !== undefined || this.destroyed) return;
    this.probeTimer = setTimeout(() => {
      this.probeTimer = undefined;
      this.probe();
    }, this.probeDelay);
  }

  /** Asks the server (a sync step 1) for the last of our unconfirmed edits; its answer tells. */
  private probe(): void {
    if (!this.pending || this.destroyed) return;
    const { ws, wsconnected, synced } = this.provider;
    // Not connected: the next handshake tells us what the server has.
    if (!wsconnected || !synced || ws === null || ws.readyState !== WebSocket.OPEN) return;
    ws.send(syncStep1Message(this.server.probeStateVector(this.doc)));
    // If the answer does not settle it (stored a moment later), ask again, less often.
    this.probeDelay = Math.min(this.probeDelay * 2, PROBE_MAX_MS);
    this.scheduleProbe();
  }

  private scheduleLocalCheck(): void {
    if (this.localCheckTimer !== undefined || this.destroyed) return;
    this.localCheckTimer = setTimeout(() => {
      this.localCheckTimer = undefined;
      this.checkSavedLocally();
    }, LOCAL_CHECK_DELAY_MS);
  }

  /**
   * y-indexeddb writes each update in its own transaction without telling when it is done.
   * A transaction on the same store started afterwards completes only after those earlier
   * writes did, so its completion says the device copy holds everything written so far.
   */
  private checkSavedLocally(): void {
    const db = this.persistence?.db;
    if (!db || this.destroyed) {
      // Not open yet: its first load writes the whole document anyway; look again shortly.
      if (!this.destroyed) this.scheduleLocalCheck();
      return;
    }
    const writes = this.localWrites;
    let transaction: IDBTransaction;
    try {
      transaction = db.transaction(["updates"], "readonly");
    } catch {
      return;
    }
    transaction.oncomplete = () => {
      if (this.destroyed) return;
      this.localConfirmed = Math.max(this.localConfirmed, writes);
      if (this.localWrites !== writes) this.scheduleLocalCheck();
      this.update();
    };
  }

  private scheduleCheck(): void {
    if (this.checkTimer !== undefined || this.destroyed) return;
    this.checkTimer = setTimeout(() => {
      this.checkTimer = undefined;
      this.checkSaved();
    }, CHECK_DELAY_MS);
  }

  private checkSaved(): void {
    if (!this.pending || this.destroyed || !this.provider.synced) return;
    if (this.server.covers(this.doc)) {
      this.pending = false;
      this.unsaved = false;
      if (this.hadUnsaved) this.everSaved = true;
      clearTimeout(this.probeTimer);
      this.probeTimer = undefined;
      this.update();
    } else {
      this.hadUnsaved = true;
      if (!this.unsaved) {
        this.unsaved = true;
        this.update();
      }
      this.scheduleProbe();
    }
  }

  private onOffline = (): void => {
    // The browser knows the network is gone: stop using a socket that may linger half-open
    // (edits sent into it would be lost in transit), keep working locally, and keep other
    // tabs of this browser in sync meanwhile.
    if (this.destroyed) return;
    clearTimeout(this.retryTimer);
    if (this.provider.shouldConnect || this.provider.ws !== null) {
      this.provider.disconnect();
      this.provider.connectBc();
    }
    this.update();
  };

  private onOnline = (): void => {
    if (this.destroyed) return;
    if (this.problem === null && !this.provider.wsconnected && !this.authRetryInProgress && this.provider.params.token) {
      // Skip any remaining back-off: the network just came back.
      this.provider.connect();
    }
    this.update();
  };

  private computeStatus(): CollabStatus {
    if (this.problem !== null || !navigator.onLine) return "offline";
    if (this.provider.wsconnected) {
      // Until the handshake completes the server may still refuse us or hold edits we lack.
      if (!this.provider.synced) return "syncing";
      if (this.writesRefused) return "online";
      if (this.pending) return "syncing";
      return this.everSaved ? "saved" : "online";
    }
    if (this.authRetryInProgress) return "connecting";
    if (!this.everConnected && this.provider.wsUnsuccessfulReconnects === 0) return "connecting";
    return "offline";
  }

  private update(): void {
    if (this.destroyed) return;
    const next: CollabState = {
      status: this.computeStatus(),
      problem: this.problem,
      loaded: this.loaded,
      localLoaded: this.localLoaded,
      pendingChanges: this.pending,
      unsavedEdits: this.unsaved,
      savedLocally: this.localConfirmed >= this.localWrites,
      writesRefused: this.writesRefused,
    };
    const prev = this.state;
    if (
      prev.status === next.status &&
      prev.problem === next.problem &&
      prev.loaded === next.loaded &&
      prev.localLoaded === next.localLoaded &&
      prev.pendingChanges === next.pendingChanges &&
      prev.unsavedEdits === next.unsavedEdits &&
      prev.savedLocally === next.savedLocally &&
      prev.writesRefused === next.writesRefused
    ) {
      return;
    }
    this.state = next;
    for (const listener of this.listeners) listener();
  }
}
