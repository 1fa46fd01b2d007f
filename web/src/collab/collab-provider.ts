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
import { WebsocketProvider, messageAuth, messageSync } from "y-websocket";
import { readAuthMessage } from "y-protocols/auth";
import type { Awareness } from "y-protocols/awareness";
import { CloseCodes, collabProtocols, isReadOnlyRefusal } from "@palimpsest/contracts/shared";
import { ServerKnowledge } from "./server-knowledge";
import { INITIAL_COLLAB_STATE, sameCollabState, statusOf, type CollabProblem, type CollabProblemKind, type CollabState, type CollabStatus } from "./collab-state.ts";
import { DeviceCopy } from "./device-copy.ts";
import { decideAfterClose, shouldReconnect, silentDenial } from "./reconnect.ts";
import { TokenRenewal } from "./token-renewal.ts";
import { SYNC_STEP1, SYNC_STEP2, SYNC_UPDATE, peekSyncMessage, syncStep1Message } from "./y-websocket-wire.ts";

export { INITIAL_COLLAB_STATE, type CollabProblem, type CollabProblemKind, type CollabState, type CollabStatus };

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

const OFFLINE_REFRESH_RETRY_MS = 3_000;
// While edits are unconfirmed we ask the server at most this often: each answer carries its
// whole delete set, so asking on every keystroke would cost more than it tells.
const PROBE_FIRST_MS = 350;
const PROBE_MAX_MS = 4_000;
const CHECK_DELAY_MS = 60;

export function collabServerUrl(): string {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/collab`;
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
  private readonly device: DeviceCopy;
  private readonly tokens: TokenRenewal;
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
  private deniedReason: string | null = null;
  private probeTimer: ReturnType<typeof setTimeout> | undefined;
  private probeDelay = PROBE_FIRST_MS;
  private checkTimer: ReturnType<typeof setTimeout> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private destroyed = false;
  /** The access token the next connection offers. */
  private token: string | null = null;

  constructor(docId: string, options: CollabOptions) {
    this.docId = docId;
    this.options = options;
    this.doc = new Y.Doc();
    // Not connected yet: the device copy is read and the access token fetched first, in start().
    this.provider = new WebsocketProvider(collabServerUrl(), encodeURIComponent(docId), this.doc, {
      connect: false,
      params: {},
      shouldReconnect: (event) => shouldReconnect(event.code),
    });
    this.device = new DeviceCopy(options.localDatabase, this.doc, () => this.update());
    this.tokens = new TokenRenewal(options.refreshAccessToken);

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

  /**
   * Use a newer access token for the next (re)connect; the open socket stays as it is (the
   * server closes it with 4401 when its token expires, and we reconnect with the newer one).
   * The token travels as a WebSocket subprotocol, so it stays out of the URL and access logs.
   */
  updateToken(accessToken: string): void {
    if (this.token === accessToken) return;
    this.token = accessToken;
    this.provider.protocols = collabProtocols(accessToken);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    clearTimeout(this.probeTimer);
    clearTimeout(this.checkTimer);
    this.device.destroy();
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

  /** The device copy is read before connecting (or given up on, if it takes too long). */
  private async loadLocalCopy(): Promise<void> {
    await this.device.load();
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
      this.tokens.synced();
      // The handshake told us the server's state; our reply to its step 1 carried any
      // edits made while offline. See whether anything is still missing there.
      this.probeDelay = PROBE_FIRST_MS;
      if (this.pending) this.scheduleCheck();
    }
    this.update();
  };

  private onConnectionClose = (event: CloseEvent | null): void => {
    // A 4401 is answered with one token refresh (see onClosed); say "connecting" meanwhile
    // rather than flashing "offline".
    if (event?.code === CloseCodes.unauthenticated && this.tokens.available) this.authRetryInProgress = true;
    const denial = event === null ? null : silentDenial(event.code, this.deniedReason, this.writesRefused);
    if (denial !== null) {
      this.provider.shouldConnect = false;
      this.problem = denial;
    }
    clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    this.update();
  };

  private onClosed = ({ code, reason }: { code: number; reason: string }): void => {
    const decision = decideAfterClose(code, reason, this.deniedReason);
    if (decision.action === "refresh-token") void this.retryWithFreshToken();
    else if (decision.action === "retry") this.reconnectLater(decision.delayMs);
    else this.fail(decision.problem.kind, decision.problem.message);
  };

  private async retryWithFreshToken(): Promise<void> {
    if (!this.tokens.available) {
      this.fail("expired", "Your session expired. Sign in again to keep editing.");
      return;
    }
    const outcome = this.tokens.renew(this.token ?? "");
    this.authRetryInProgress = true;
    this.update();
    const result = await outcome;
    if (this.destroyed) return;
    switch (result.kind) {
      case "unreachable":
        // Could not reach the auth service; try the whole thing again shortly.
        this.authRetryInProgress = false;
        this.reconnectLater(OFFLINE_REFRESH_RETRY_MS);
        this.update();
        return;
      case "spent":
      case "ended":
        this.authRetryInProgress = false;
        this.fail("expired", "Your session expired. Sign in again to keep editing.");
        return;
      case "renewed":
        this.updateToken(result.token);
        this.provider.connect();
    }
  }

  private onDocUpdate = (_update: Uint8Array, origin: unknown): void => {
    if (this.device.persistence && origin !== this.device.persistence) {
      this.device.noteWrite();
      this.update();
    }
    // What the server sent is on the server. Everything else (typing here, the device copy,
    // another tab) may not be, until the server says so.
    if (this.applyingServerMessage) return;
    // The device copy usually holds only what the server has; checkSaved tells if not.
    if (origin !== this.device.persistence && !this.unsaved) {
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
    if (this.problem === null && !this.provider.wsconnected && !this.authRetryInProgress && this.token) {
      // Skip any remaining back-off: the network just came back.
      this.provider.connect();
    }
    this.update();
  };

  private computeStatus(): CollabStatus {
    return statusOf({
      problem: this.problem,
      online: navigator.onLine,
      connected: this.provider.wsconnected,
      synced: this.provider.synced,
      writesRefused: this.writesRefused,
      pending: this.pending,
      everSaved: this.everSaved,
      authRetryInProgress: this.authRetryInProgress,
      everConnected: this.everConnected,
      unsuccessfulReconnects: this.provider.wsUnsuccessfulReconnects,
    });
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
      savedLocally: this.device.savedLocally,
      writesRefused: this.writesRefused,
    };
    if (sameCollabState(this.state, next)) return;
    this.state = next;
    for (const listener of this.listeners) listener();
  }
}
