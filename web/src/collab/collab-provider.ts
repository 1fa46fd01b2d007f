// One live connection to a document: a Y.Doc kept in sync over the y-websocket protocol at
// /collab/:docId, plus a small state machine the UI can subscribe to ("connecting", "online",
// "saved", "offline") and the reasons the server may refuse us (no access, expired session).

import * as Y from "yjs";
import { WebsocketProvider, messageAuth } from "y-websocket";
import { readAuthMessage } from "y-protocols/auth";
import type { Awareness } from "y-protocols/awareness";

export type CollabStatus = "connecting" | "online" | "saved" | "offline";

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
  /** Local edits that have not yet been handed to an open, synced connection. */
  pendingChanges: boolean;
}

export interface CollabOptions {
  /** A valid access token, or null when signed out. */
  getAccessToken: () => Promise<string | null>;
  /** Rotates tokens after `stale` was refused; null when the session is over. May throw when offline. */
  refreshAccessToken: (stale: string) => Promise<string | null>;
}

export interface PresenceUser {
  id: string;
  name: string;
  color: string;
}

// Close codes the server uses, mirroring HTTP statuses (see packages/contracts errors.ts).
const CLOSE_UNAUTHENTICATED = 4401;
const CLOSE_FORBIDDEN = 4403;
const CLOSE_NOT_FOUND = 4404;
const CLOSE_RATE_LIMITED = 4429;

const RATE_LIMIT_RETRY_MS = 5_000;
const OFFLINE_REFRESH_RETRY_MS = 3_000;
const FLUSH_POLL_MS = 120;

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
  private state: CollabState = { status: "connecting", problem: null, loaded: false, pendingChanges: false };
  private problem: CollabProblem | null = null;
  private pending = false;
  private loaded = false;
  private everConnected = false;
  private authRetryInProgress = false;
  // One token refresh per successful sync, so a server that keeps refusing fresh tokens
  // cannot trap us in a refresh/reconnect loop.
  private refreshedSinceSync = false;
  private deniedReason: string | null = null;
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private destroyed = false;

  constructor(docId: string, options: CollabOptions) {
    this.docId = docId;
    this.options = options;
    this.doc = new Y.Doc();
    // Not connected yet: the access token is fetched (and refreshed if needed) in start().
    this.provider = new WebsocketProvider(collabServerUrl(), encodeURIComponent(docId), this.doc, {
      connect: false,
      params: {},
    });

    // y-websocket only logs a permission-denied auth message; keep its reason so the close
    // that follows can be explained to the user.
    const onAuthMessage: MessageHandler = (_encoder, decoder) => {
      readAuthMessage(decoder, this.doc, (_ydoc, reason) => {
        this.deniedReason = reason;
      });
    };
    this.provider.messageHandlers[messageAuth] = onAuthMessage;

    this.provider.on("status", this.onStatus);
    this.provider.on("sync", this.onSync);
    this.provider.on("connection-close", this.onConnectionClose);
    this.provider.on("closed", this.onClosed);
    this.doc.on("update", this.onDocUpdate);
    window.addEventListener("online", this.onNetworkChange);
    window.addEventListener("offline", this.onNetworkChange);

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
    clearTimeout(this.flushTimer);
    clearTimeout(this.retryTimer);
    window.removeEventListener("online", this.onNetworkChange);
    window.removeEventListener("offline", this.onNetworkChange);
    this.doc.off("update", this.onDocUpdate);
    this.provider.off("status", this.onStatus);
    this.provider.off("sync", this.onSync);
    this.provider.off("connection-close", this.onConnectionClose);
    this.provider.off("closed", this.onClosed);
    // disconnect() inside destroy() tells peers we left, so our avatar disappears at once.
    this.provider.destroy();
    this.doc.destroy();
    this.listeners.clear();
  }

  private async start(): Promise<void> {
    const token = await this.options.getAccessToken();
    if (this.destroyed) return;
    if (!token) {
      this.fail("expired", "Your session expired. Sign in again to keep editing.");
      return;
    }
    this.updateToken(token);
    this.provider.connect();
  }

  private fail(kind: CollabProblemKind, message: string): void {
    this.problem = { kind, message };
    this.provider.shouldConnect = false;
    this.update();
  }

  private reconnectLater(delayMs: number): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (!this.destroyed && this.problem === null) this.provider.connect();
    }, delayMs);
  }

  private onStatus = ({ status }: { status: "connected" | "disconnected" | "connecting" }): void => {
    if (status === "connecting") this.deniedReason = null;
    if (status === "connected") {
      this.everConnected = true;
      this.authRetryInProgress = false;
    }
    this.update();
  };

  private onSync = (synced: boolean): void => {
    if (synced) {
      this.loaded = true;
      this.refreshedSinceSync = false;
      // Our reply to the server's sync step 1 carried any offline edits; see them drain.
      if (this.pending) this.scheduleFlushCheck();
    }
    this.update();
  };

  private onConnectionClose = (event: CloseEvent | null): void => {
    // A server that denied us but closed with a generic code would otherwise be retried
    // forever; treat it like an explicit "no access".
    const terminal = event !== null && event.code >= 4400 && event.code < 4500;
    // A 4401 is answered with one token refresh (see onClosed); say "connecting" meanwhile
    // rather than flashing "offline".
    if (event?.code === CLOSE_UNAUTHENTICATED && !this.refreshedSinceSync) this.authRetryInProgress = true;
    if (event !== null && !terminal && this.deniedReason !== null) {
      this.provider.shouldConnect = false;
      this.problem = { kind: "no-access", message: `You don't have access to this document. (${this.deniedReason})` };
    }
    this.update();
  };

  private onClosed = ({ code, reason }: { code: number; reason: string }): void => {
    switch (code) {
      case CLOSE_UNAUTHENTICATED:
        void this.retryWithFreshToken();
        break;
      case CLOSE_FORBIDDEN:
        this.fail("no-access", "You don't have access to this document.");
        break;
      case CLOSE_NOT_FOUND:
        this.fail("not-found", "This document doesn't exist or has been deleted.");
        break;
      case CLOSE_RATE_LIMITED:
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
    // Updates applied by the provider came from the server or another tab; everything else
    // is ours and has to reach the server before we may say "saved".
    if (origin === this.provider) return;
    this.pending = true;
    this.scheduleFlushCheck();
    this.update();
  };

  private scheduleFlushCheck(): void {
    if (this.flushTimer !== undefined) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.checkFlushed();
    }, FLUSH_POLL_MS);
  }

  /**
   * The y-websocket protocol has no per-update acknowledgement, so "saved" means: the
   * connection is synced and the socket has handed every byte we queued to the network.
   */
  private checkFlushed(): void {
    if (!this.pending || this.destroyed) return;
    const { ws, wsconnected, synced } = this.provider;
    if (wsconnected && synced && ws !== null && ws.bufferedAmount === 0) {
      this.pending = false;
      this.update();
    } else if (wsconnected) {
      this.scheduleFlushCheck();
    }
    // When disconnected, the next successful sync schedules the check again.
  }

  private onNetworkChange = (): void => {
    if (navigator.onLine && !this.provider.wsconnected && this.problem === null && !this.destroyed) {
      // Skip the remaining back-off: the network just came back.
      this.provider.connect();
    }
    this.update();
  };

  private computeStatus(): CollabStatus {
    if (this.problem !== null || !navigator.onLine) return "offline";
    if (this.provider.wsconnected) {
      // Until the sync handshake completes the server may still refuse us or hold edits we lack.
      if (!this.provider.synced) return "connecting";
      return this.pending ? "online" : "saved";
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
      pendingChanges: this.pending,
    };
    const prev = this.state;
    if (
      prev.status === next.status &&
      prev.problem === next.problem &&
      prev.loaded === next.loaded &&
      prev.pendingChanges === next.pendingChanges
    ) {
      return;
    }
    this.state = next;
    for (const listener of this.listeners) listener();
  }
}
