// Data behind the history panel: every edit event (kept current while the panel is open),
// named versions, who is who, and old versions of the document rendered for display.

import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import * as Y from "yjs";
import { yXmlFragmentToProsemirrorJSON } from "@tiptap/y-tiptap";
import type { JSONContent } from "@tiptap/react";
import { api } from "../api/api-client";
import { ApiError, isAbortError } from "../api/http";
import type { DiffView, HistoryEvent, NamedVersion } from "../api/types";
import { useSession } from "../auth/use-session";
import type { CollabConnection } from "../collab/collab-provider";
import { colorForUser } from "../lib/user-color";
import { DocFields } from "@palimpsest/contracts/shared";

/** The Yjs XmlFragment that holds rich text (the editor's too). */
const PAGE_SIZE = 1000;
/** Enough for any document a person scrolls through; beyond it the list says it is partial. */
const MAX_PAGES = 50;
/** The edit log is a projection of the edit stream: give it a moment to catch up with live edits. */
const CATCH_UP_MS = 700;
const CATCH_UP_TRIES = 5;

function messageOf(err: unknown, fallback: string): string {
  return err instanceof ApiError ? err.message : fallback;
}

/** Status 0 is a request that never reached the gateway. */
function isUnreachable(err: unknown): boolean {
  return err instanceof ApiError && err.status === 0;
}

export interface EditHistory {
  edits: HistoryEvent[];
  loading: boolean;
  error: string | null;
  /** The error is that the server could not be reached at all (offline, or it is down). */
  unreachable: boolean;
  /** More edits exist than were loaded. */
  truncated: boolean;
}

const loading: EditHistory = { edits: [], loading: true, error: null, unreachable: false, truncated: false };

/**
 * Every edit of the document, oldest first, growing live while collaborators type. Loaded again
 * when `attempt` changes (Try again, or the network came back).
 */
export function useEditHistory(docId: string, connection: CollabConnection | null, attempt = 0): EditHistory {
  const [state, setState] = useState<EditHistory>(loading);
  const editsRef = useRef<HistoryEvent[]>([]);
  const loadedRef = useRef(false);

  const append = useCallback((fresh: HistoryEvent[]) => {
    const last = editsRef.current[editsRef.current.length - 1]?.seq ?? 0;
    const next = fresh.filter((e) => e.seq > last);
    if (next.length === 0) return;
    editsRef.current = [...editsRef.current, ...next];
    setState((s) => ({ ...s, edits: editsRef.current }));
  }, []);

  useEffect(() => {
    const controller = new AbortController();
    editsRef.current = [];
    loadedRef.current = false;
    setState(loading);
    void (async () => {
      try {
        let after = 0;
        for (let page = 0; page < MAX_PAGES; page++) {
          const result = await api.docs.history(docId, { after, limit: PAGE_SIZE }, controller.signal);
          append(result.items);
          const last = result.items[result.items.length - 1];
          if (!result.nextCursor || !last) {
            loadedRef.current = true;
            setState((s) => ({ ...s, loading: false }));
            return;
          }
          after = last.seq;
        }
        loadedRef.current = true;
        setState((s) => ({ ...s, loading: false, truncated: true }));
      } catch (err) {
        if (!isAbortError(err)) setState((s) => ({ ...s, loading: false, error: messageOf(err, "Could not load the history."), unreachable: isUnreachable(err) }));
      }
    })();
    return () => controller.abort();
  }, [docId, append, attempt]);

  // Collaborators keep typing while the panel is open; their edits join the list.
  useEffect(() => {
    if (!connection) return;
    let tries = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let inFlight = false;
    let stopped = false;
    const schedule = (): void => {
      if (timer === undefined && !stopped) timer = setTimeout(() => void tick(), CATCH_UP_MS);
    };
    const tick = async (): Promise<void> => {
      timer = undefined;
      if (!loadedRef.current || inFlight) {
        schedule();
        return;
      }
      inFlight = true;
      const after = editsRef.current[editsRef.current.length - 1]?.seq ?? 0;
      try {
        const result = await api.docs.history(docId, { after, limit: PAGE_SIZE });
        if (stopped) return;
        append(result.items);
        if (result.nextCursor) tries = Math.max(tries, 1);
        if (result.items.length === 0) tries -= 1;
      } catch {
        tries -= 1;
      } finally {
        inFlight = false;
      }
      if (tries > 0) schedule();
    };
    const onUpdate = (): void => {
      tries = CATCH_UP_TRIES;
      schedule();
    };
    connection.doc.on("update", onUpdate);
    // The newest edits may still be on their way into the log when the panel opens.
    tries = 2;
    schedule();
    return () => {
      stopped = true;
      clearTimeout(timer);
      connection.doc.off("update", onUpdate);
    };
  }, [connection, docId, append]);

  return state;
}

export interface NamedVersions {
  items: NamedVersion[];
  error: string | null;
  name: (name: string, seq: number) => Promise<void>;
}

export function useNamedVersions(docId: string, attempt = 0): NamedVersions {
  const [items, setItems] = useState<NamedVersion[]>([]);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    setError(null);
    api.versions.named(docId, controller.signal).then(
      (result) => setItems(result.items),
      (err: unknown) => {
        if (!isAbortError(err)) setError(messageOf(err, "Could not load the named versions."));
      },
    );
    return () => controller.abort();
  }, [docId, attempt]);

  const name = useCallback(
    async (label: string, seq: number) => {
      const result = await api.versions.name(docId, label, seq);
      setItems(result.items);
      setError(null);
    },
    [docId],
  );

  return { items, error, name };
}

export interface People {
  nameOf: (userId: string) => string;
  colorOf: (userId: string) => string;
}

/** Names of the people in the history: members now, me, and those who have since left. */
export function usePeople(docId: string): People {
  const [names, setNames] = useState<ReadonlyMap<string, string>>(new Map());
  const self = useSession().session?.user;

  useEffect(() => {
    const controller = new AbortController();
    api.members.list(docId, controller.signal).then(
      (result) =>
        setNames(
          new Map([
            // Those who have left keep their names in the record; a member's current name wins.
            ...(result.formerMembers ?? []).map((m): [string, string] => [m.userId, m.name]),
            ...result.members.map((m): [string, string] => [m.userId, m.name || m.email]),
          ]),
        ),
      () => undefined,
    );
    return () => controller.abort();
  }, [docId]);

  return useMemo(
    () => ({
      nameOf: (userId: string) => (userId === self?.id ? self.name : (names.get(userId) ?? "Former collaborator")),
      colorOf: colorForUser,
    }),
    [names, self],
  );
}

/** One version of the document, ready to show. */
export interface RenderedVersion {
  seq: number;
  at: string | null;
  userId: string | null;
  text: string;
  content: JSONContent;
  /** A board's `board` map as JSON (cards by id); null for text. */
  board: unknown;
}

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The rich text of a Yjs state, as the editor's JSON, exactly as it was then. */
function contentOf(state: string): JSONContent {
  const doc = new Y.Doc();
  try {
    Y.applyUpdate(doc, decodeBase64(state));
    return yXmlFragmentToProsemirrorJSON(doc.getXmlFragment(DocFields.richText)) as JSONContent;
  } finally {
    doc.destroy();
  }
}

const CACHE_SIZE = 300;
/** Dragging the timeslider sweeps over many versions; fetch only where it comes to rest. */
const SETTLE_MS = 60;

export interface VersionLoad {
  /** The newest version shown so far: while the next one loads the previous stays on screen. */
  version: RenderedVersion | null;
  loading: boolean;
  error: string | null;
  /** Fetches a version ahead of need (the next frame of a playback) into the cache. */
  prefetch: (seq: number) => void;
}

/** Loads version `seq` (null: nothing to show), caching what was seen for the timeslider's replays. */
export function useVersion(docId: string, seq: number | null): VersionLoad {
  const cache = useRef(new Map<number, RenderedVersion>());
  /** Requests in flight by version, shared by the one on screen and those fetched ahead. */
  const inFlight = useRef(new Map<number, Promise<RenderedVersion>>());
  const [state, setState] = useState<Omit<VersionLoad, "prefetch">>({ version: null, loading: false, error: null });

  useEffect(() => {
    cache.current.clear();
    inFlight.current.clear();
  }, [docId]);

  const fetchVersion = useCallback(
    (wanted: number): Promise<RenderedVersion> => {
      const cached = cache.current.get(wanted);
      if (cached) return Promise.resolve(cached);
      const running = inFlight.current.get(wanted);
      if (running) return running;
      const request = api.versions.get(docId, wanted).then((view) => {
        const rendered: RenderedVersion = { seq: view.seq, at: view.at, userId: view.userId, text: view.text, content: contentOf(view.state), board: view.board ?? null };
        cache.current.set(wanted, rendered);
        if (cache.current.size > CACHE_SIZE) {
          const oldest = cache.current.keys().next().value;
          if (oldest !== undefined) cache.current.delete(oldest);
        }
        return rendered;
      });
      inFlight.current.set(wanted, request);
      const forget = (): void => {
        inFlight.current.delete(wanted);
      };
      request.then(forget, forget);
      return request;
    },
    [docId],
  );

  useEffect(() => {
    if (seq === null) {
      setState({ version: null, loading: false, error: null });
      return;
    }
    const cached = cache.current.get(seq);
    if (cached) {
      setState({ version: cached, loading: false, error: null });
      return;
    }
    setState((s) => ({ ...s, loading: true, error: null }));
    let current = true;
    // A request already running (fetched ahead) is awaited at once; a new one waits to see
    // whether the slider comes to rest here.
    const timer = setTimeout(
      () => {
        fetchVersion(seq).then(
          (rendered) => {
            if (current) setState({ version: rendered, loading: false, error: null });
          },
          (err: unknown) => {
            if (current) setState((s) => ({ ...s, loading: false, error: messageOf(err, "Could not load this version.") }));
          },
        );
      },
      inFlight.current.has(seq) ? 0 : SETTLE_MS,
    );
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [seq, fetchVersion]);

  const prefetch = useCallback(
    (wanted: number) => {
      fetchVersion(wanted).catch(() => undefined);
    },
    [fetchVersion],
  );

  return useMemo(() => ({ ...state, prefetch }), [state, prefetch]);
}

export interface DiffLoad {
  diff: DiffView | null;
  loading: boolean;
  error: string | null;
}

/** What changed from version `from` to version `to` (from ≤ to), each run with its author. */
export function useDiff(docId: string, range: { from: number; to: number } | null): DiffLoad {
  const [state, setState] = useState<DiffLoad>({ diff: null, loading: false, error: null });
  const from = range?.from;
  const to = range?.to;

  useEffect(() => {
    if (from === undefined || to === undefined) {
      setState({ diff: null, loading: false, error: null });
      return;
    }
    setState((s) => ({ ...s, loading: true, error: null }));
    const controller = new AbortController();
    const timer = setTimeout(() => {
      api.versions.diff(docId, from, to, controller.signal).then(
        (diff) => setState({ diff, loading: false, error: null }),
        (err: unknown) => {
          if (!isAbortError(err)) setState({ diff: null, loading: false, error: messageOf(err, "Could not compare these versions.") });
        },
      );
    }, SETTLE_MS);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [docId, from, to]);

  return state;
}
