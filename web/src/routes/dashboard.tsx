import { useCallback, useEffect, useId, useRef, useState, useSyncExternalStore } from "react";
import type { FormEvent, ReactNode } from "react";
import { Link, useNavigate, useSearchParams } from "react-router-dom";
import { api } from "../api/api-client";
import { ApiError, isAbortError } from "../api/http";
import type { DocKind, DocSummary } from "../api/types";
import { can } from "@palimpsest/contracts/shared";
import { useSession } from "../auth/use-session";
import { AppHeader } from "../components/app-header";
import { RoleBadge } from "../components/role-badge";
import { ContentSearch } from "./content-search";
import { exactTime, timeAgo } from "../lib/format";
import { documentPath } from "../lib/paths";
import { localCopies, rememberTitle, subscribeLocalCopies } from "../offline/local-copies";
import type { LocalCopy } from "../offline/local-copies";
import { ImportButton } from "../transfer/import-button";
import "./dashboard.css";

const PAGE_SIZE = 30;
const SEARCH_DEBOUNCE_MS = 250;
const TOAST_MS = 8_000;

type View = "all" | "trash";

function messageOf(err: unknown, fallback: string): string {
  return err instanceof ApiError ? err.message : fallback;
}

/** Status 0 is a network failure; 5xx means the gateway answered but the service behind it did not. */
function isUnreachable(err: unknown): boolean {
  return err instanceof ApiError && (err.status === 0 || err.status >= 500);
}

function CreateDocumentForm({ onError }: { onError: (message: string | null) => void }): ReactNode {
  const navigate = useNavigate();
  const ids = useId();
  const [title, setTitle] = useState("");
  const [kind, setKind] = useState<DocKind>("text");
  const [busy, setBusy] = useState(false);

  const handleSubmit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    onError(null);
    try {
      const doc = await api.docs.create({ title: title.trim() || "Untitled", kind });
      navigate(documentPath(doc));
    } catch (err) {
      onError(messageOf(err, "Could not create the document."));
      setBusy(false);
    }
  };

  return (
    <form className="create-form" onSubmit={(event) => void handleSubmit(event)} aria-label="Create a document">
      <label className="visually-hidden" htmlFor={`${ids}-title`}>
        Title
      </label>
      <input
        id={`${ids}-title`}
        name="title"
        type="text"
        placeholder="Title of a new document"
        maxLength={200}
        value={title}
        onChange={(event) => setTitle(event.target.value)}
      />
      <label className="visually-hidden" htmlFor={`${ids}-kind`}>
        Kind
      </label>
      <select id={`${ids}-kind`} name="kind" value={kind} onChange={(event) => setKind(event.target.value === "board" ? "board" : "text")}>
        <option value="text">Text document</option>
        <option value="board">Board</option>
      </select>
      <button type="submit" className="button button-primary" disabled={busy}>
        {busy ? "Creating…" : "Create"}
      </button>
    </form>
  );
}

function KindIcon({ kind }: { kind: DocKind }): ReactNode {
  return kind === "board" ? (
    <svg className="kind-icon" viewBox="0 0 20 20" aria-hidden="true">
      <rect x="3" y="3" width="6" height="6" rx="1.2" />
      <rect x="11" y="3" width="6" height="9" rx="1.2" />
      <rect x="3" y="11" width="6" height="6" rx="1.2" />
    </svg>
  ) : (
    <svg className="kind-icon" viewBox="0 0 20 20" aria-hidden="true">
      <path d="M5 2.5h7l3.5 3.5v11.5H5z" />
      <path d="M7.5 9h5M7.5 12h5M7.5 15h3" />
    </svg>
  );
}

/** This person's documents kept on this device, live. */
function useLocalCopies(userId: string | undefined): LocalCopy[] {
  const cache = useRef<{ key: string; copies: LocalCopy[] } | null>(null);
  const snapshot = useCallback((): LocalCopy[] => {
    if (!userId) return NO_COPIES;
    const copies = localCopies(userId);
    const key = JSON.stringify(copies);
    if (cache.current?.key !== key) cache.current = { key, copies };
    return cache.current.copies;
  }, [userId]);
  return useSyncExternalStore(subscribeLocalCopies, snapshot);
}
const NO_COPIES: LocalCopy[] = [];

function OfflineMark({ copy }: { copy: LocalCopy | undefined }): ReactNode {
  if (!copy) return null;
  return copy.unsynced ? (
    <span className="offline-mark offline-mark-unsynced" title="Edits on this device have not reached the server yet; they are sent when you open it online.">
      Not synced
    </span>
  ) : (
    <span className="offline-mark" title="A copy is kept on this device: it opens even without a connection.">
      On this device
    </span>
  );
}

interface RenameFormProps {
  doc: DocSummary;
  onDone: (renamed: DocSummary | null) => void;
  onError: (message: string) => void;
}

function RenameForm({ doc, onDone, onError }: RenameFormProps): ReactNode {
  const [title, setTitle] = useState(doc.title);
  const [busy, setBusy] = useState(false);
  const id = useId();
  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    const next = title.trim();
    if (next === "" || next === doc.title) {
      onDone(null);
      return;
    }
    setBusy(true);
    try {
      onDone(await api.docs.rename(doc.id, next));
    } catch (err) {
      setBusy(false);
      onError(messageOf(err, "Could not rename the document."));
    }
  };
  return (
    <form className="rename-form" onSubmit={(event) => void submit(event)} aria-label={`Rename ${doc.title}`}>
      <KindIcon kind={doc.kind} />
      <label className="visually-hidden" htmlFor={id}>
        New title
      </label>
      <input
        id={id}
        name="title"
        type="text"
        maxLength={200}
        required
        autoFocus
        value={title}
        disabled={busy}
        onFocus={(event) => event.target.select()}
        onChange={(event) => setTitle(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === "Escape") onDone(null);
        }}
      />
      <button type="submit" className="button button-primary button-compact" disabled={busy}>
        Save
      </button>
      <button type="button" className="button button-quiet" onClick={() => onDone(null)} disabled={busy}>
        Cancel
      </button>
    </form>
  );
}

interface RowProps {
  doc: DocSummary;
  view: View;
  userId: string | undefined;
  copy: LocalCopy | undefined;
  onRenamed: (doc: DocSummary) => void;
  onTrash: (doc: DocSummary) => Promise<void>;
  onRestore: (doc: DocSummary) => Promise<void>;
  onError: (message: string) => void;
}

function DocumentRow({ doc, view, userId, copy, onRenamed, onTrash, onRestore, onError }: RowProps): ReactNode {
  const [renaming, setRenaming] = useState(false);
  const [busy, setBusy] = useState(false);
  const title = doc.title || "Untitled";
  const mayTrash = can(doc.role, "trash");
  const run = async (action: () => Promise<void>): Promise<void> => {
    setBusy(true);
    try {
      await action();
    } finally {
      setBusy(false);
    }
  };

  return (
    <li className="doc-row" data-doc-id={doc.id} data-title={doc.title}>
      {renaming ? (
        <RenameForm
          doc={doc}
          onError={onError}
          onDone={(renamed) => {
            setRenaming(false);
            if (renamed) onRenamed(renamed);
          }}
        />
      ) : view === "trash" ? (
        <span className="doc-link doc-link-trashed">
          <KindIcon kind={doc.kind} />
          <span className="doc-row-title">{title}</span>
        </span>
      ) : (
        <Link to={documentPath(doc)} className="doc-link">
          <KindIcon kind={doc.kind} />
          <span className="doc-row-title">{title}</span>
          <OfflineMark copy={copy} />
        </Link>
      )}
      <span className="doc-row-owner muted">{doc.ownerId === userId ? "You" : "Shared with you"}</span>
      <RoleBadge role={doc.role} />
      <time className="doc-row-time muted" dateTime={doc.updatedAt} title={exactTime(doc.updatedAt)}>
        {timeAgo(doc.updatedAt)}
      </time>
      <span className="doc-row-actions">
        {view === "trash" ? (
          <button type="button" className="button button-compact" disabled={busy} onClick={() => void run(() => onRestore(doc))}>
            Restore
          </button>
        ) : (
          <>
            {can(doc.role, "rename") && (
              <button type="button" className="icon-button row-action" aria-label={`Rename ${title}`} title="Rename" disabled={busy || renaming} onClick={() => setRenaming(true)}>
                <svg viewBox="0 0 20 20" aria-hidden="true">
                  <path d="M4 16h3l8.5-8.5-3-3L4 13z" />
                  <path d="m11 6 3 3" />
                </svg>
              </button>
            )}
            {mayTrash && (
              <button
                type="button"
                className="icon-button row-action row-action-danger"
                aria-label={`Move ${title} to the trash`}
                title="Move to the trash"
                disabled={busy}
                onClick={() => void run(() => onTrash(doc))}
              >
                <svg viewBox="0 0 20 20" aria-hidden="true">
                  <path d="M4 6h12M8 6V4h4v2M6 6l.8 10.5h6.4L14 6" />
                </svg>
              </button>
            )}
          </>
        )}
      </span>
    </li>
  );
}

interface ListState {
  items: DocSummary[];
  nextCursor: string | null;
  loading: boolean;
  /** The server could not be reached for the first page. */
  unreachable: boolean;
}

interface Toast {
  message: string;
  action?: { label: string; run: () => void };
}

function OnThisDevice({ copies }: { copies: LocalCopy[] }): ReactNode {
  if (copies.length === 0) {
    return <p className="muted">No documents are kept on this device yet: documents you open while online are kept here for later.</p>;
  }
  return (
    <>
      <p className="muted">These documents are on this device and open without the server. Changes sync once it is back.</p>
      <ul className="doc-list" data-testid="local-copies">
        {copies.map((copy) => (
          <li key={copy.doc.id} className="doc-row" data-doc-id={copy.doc.id}>
            <Link to={documentPath(copy.doc)} className="doc-link">
              <KindIcon kind={copy.doc.kind} />
              <span className="doc-row-title">{copy.doc.title || "Untitled"}</span>
              <OfflineMark copy={copy} />
            </Link>
            <span className="doc-row-owner muted" />
            <RoleBadge role={copy.doc.role} />
            <time className="doc-row-time muted" dateTime={copy.openedAt} title={`Opened ${exactTime(copy.openedAt)}`}>
              {timeAgo(copy.openedAt)}
            </time>
            <span className="doc-row-actions" />
          </li>
        ))}
      </ul>
    </>
  );
}

export function Dashboard(): ReactNode {
  const { session } = useSession();
  const navigate = useNavigate();
  const userId = session?.user.id;
  const [searchParams, setSearchParams] = useSearchParams();
  const query = searchParams.get("q") ?? "";
  const view: View = searchParams.get("view") === "trash" ? "trash" : "all";
  const [searchText, setSearchText] = useState(query);
  const [list, setList] = useState<ListState>({ items: [], nextCursor: null, loading: true, unreachable: false });
  const [error, setError] = useState<string | null>(null);
  const [toast, setToast] = useState<Toast | null>(null);
  const [attempt, setAttempt] = useState(0);
  const copies = useLocalCopies(userId);
  const copyById = new Map(copies.map((copy) => [copy.doc.id, copy]));
  const ids = useId();

  const latestQuery = useRef(`${view}:${query}`);
  useEffect(() => {
    latestQuery.current = `${view}:${query}`;
  }, [view, query]);

  useEffect(() => {
    if (!toast) return;
    const timer = setTimeout(() => setToast(null), TOAST_MS);
    return () => clearTimeout(timer);
  }, [toast]);

  // Back/forward can change ?q= under us; follow it unless it only differs in whitespace
  // the user is still typing.
  useEffect(() => {
    setSearchText((current) => (current.trim() === query ? current : query));
  }, [query]);

  const setParams = useCallback(
    (next: { q?: string; view?: View }) => {
      const q = next.q ?? query;
      const v = next.view ?? view;
      const params: Record<string, string> = {};
      if (q) params.q = q;
      if (v === "trash") params.view = "trash";
      setSearchParams(params, { replace: next.view === undefined });
    },
    [query, view, setSearchParams],
  );

  // Keep the URL as the source of truth for the search so it survives reloads and back.
  useEffect(() => {
    if (searchText.trim() === query) return;
    const timer = setTimeout(() => setParams({ q: searchText.trim() }), SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [searchText, query, setParams]);

  useEffect(() => {
    const controller = new AbortController();
    setList((current) => ({ ...current, loading: true }));
    api.docs
      .list({ q: query, limit: PAGE_SIZE, trashed: view === "trash" }, controller.signal)
      .then((page) => {
        setList({ items: page.items, nextCursor: page.nextCursor, loading: false, unreachable: false });
        setError(null);
      })
      .catch((err: unknown) => {
        if (isAbortError(err)) return;
        if (isUnreachable(err)) {
          setList({ items: [], nextCursor: null, loading: false, unreachable: true });
          setError(null);
          return;
        }
        setList((current) => ({ ...current, loading: false }));
        setError(messageOf(err, "Could not load your documents."));
      });
    return () => controller.abort();
  }, [query, view, attempt]);

  // Unreachable: try again when the network returns.
  useEffect(() => {
    if (!list.unreachable) return;
    const retry = (): void => setAttempt((n) => n + 1);
    window.addEventListener("online", retry);
    return () => window.removeEventListener("online", retry);
  }, [list.unreachable]);

  const loadMore = async (): Promise<void> => {
    if (!list.nextCursor) return;
    setList((current) => ({ ...current, loading: true }));
    const forQuery = latestQuery.current;
    try {
      const page = await api.docs.list({ q: query, limit: PAGE_SIZE, cursor: list.nextCursor, trashed: view === "trash" });
      // The search changed while this page was loading; it belongs to the old results.
      if (latestQuery.current !== forQuery) return;
      setList((current) => ({ ...current, items: [...current.items, ...page.items], nextCursor: page.nextCursor, loading: false }));
    } catch (err) {
      if (latestQuery.current !== forQuery) return;
      setList((current) => ({ ...current, loading: false }));
      setError(messageOf(err, "Could not load more documents."));
    }
  };

  const removeFromList = (id: string): void => setList((current) => ({ ...current, items: current.items.filter((item) => item.id !== id) }));

  const onRenamed = (doc: DocSummary): void => {
    setList((current) => ({ ...current, items: current.items.map((item) => (item.id === doc.id ? { ...item, ...doc } : item)) }));
    if (userId) rememberTitle(userId, doc.id, doc.title);
    setError(null);
  };

  const restore = async (doc: DocSummary): Promise<boolean> => {
    try {
      await api.docs.untrash(doc.id);
      return true;
    } catch (err) {
      setError(messageOf(err, "Could not restore the document."));
      return false;
    }
  };

  const onTrash = async (doc: DocSummary): Promise<void> => {
    try {
      await api.docs.trash(doc.id);
    } catch (err) {
      setError(messageOf(err, "Could not move the document to the trash."));
      return;
    }
    removeFromList(doc.id);
    setError(null);
    setToast({
      message: `Moved “${doc.title || "Untitled"}” to the trash.`,
      action: {
        label: "Undo",
        run: () => {
          setToast(null);
          void restore(doc).then((ok) => {
            if (ok && latestQuery.current.startsWith("all:")) setAttempt((n) => n + 1);
          });
        },
      },
    });
  };

  const onRestore = async (doc: DocSummary): Promise<void> => {
    if (!(await restore(doc))) return;
    removeFromList(doc.id);
    setError(null);
    setToast({ message: `Restored “${doc.title || "Untitled"}”.`, action: { label: "Open", run: () => navigate(documentPath(doc)) } });
  };

  const trash = view === "trash";

  return (
    <div className="page">
      <AppHeader />
      <main className="dashboard">
        <section className="dashboard-top">
          <div>
            <h1>{trash ? "Trash" : "Documents"}</h1>
            <p className="muted">{trash ? "Documents you moved to the trash. Restore them to use them again." : "Yours and those shared with you."}</p>
          </div>
          {!trash && (
            <div className="dashboard-create">
              <CreateDocumentForm onError={setError} />
              <ImportButton onError={setError} />
            </div>
          )}
        </section>

        <p className="banner banner-error" role="alert">
          {error ?? ""}
        </p>

        <div className="dashboard-controls">
          <nav className="view-tabs" aria-label="Views">
            <button type="button" className={`view-tab${trash ? "" : " view-tab-active"}`} aria-current={trash ? undefined : "page"} onClick={() => setParams({ view: "all" })}>
              All documents
            </button>
            <button type="button" className={`view-tab${trash ? " view-tab-active" : ""}`} aria-current={trash ? "page" : undefined} onClick={() => setParams({ view: "trash" })}>
              Trash
            </button>
          </nav>
          <div className="search">
            <label className="visually-hidden" htmlFor={`${ids}-q`}>
              {trash ? "Search the trash by title" : "Search by title and content"}
            </label>
            <svg className="search-icon" viewBox="0 0 20 20" aria-hidden="true">
              <circle cx="8.5" cy="8.5" r="5.5" />
              <path d="m13 13 4 4" />
            </svg>
            <input
              id={`${ids}-q`}
              name="q"
              type="search"
              placeholder={trash ? "Search the trash by title" : "Search by title and content"}
              value={searchText}
              onChange={(event) => setSearchText(event.target.value)}
            />
          </div>
        </div>

        {!trash && !list.unreachable && <ContentSearch query={query} />}

        {list.unreachable ? (
          <section className="unreachable" aria-label="Server unreachable" data-testid="dashboard-unreachable">
            <h2>Can't reach the server</h2>
            <p>Check your connection. We'll try again as soon as it's back.</p>
            <button type="button" className="button button-primary" onClick={() => setAttempt((n) => n + 1)} disabled={list.loading}>
              {list.loading ? "Trying…" : "Try again"}
            </button>
            <h3>On this device</h3>
            <OnThisDevice copies={copies} />
          </section>
        ) : (
          <section aria-label={trash ? "Trash" : "Document list"} aria-busy={list.loading}>
            {list.items.length === 0 && list.loading ? (
              <p className="muted loading-line">Loading…</p>
            ) : list.items.length === 0 ? (
              <div className="empty">
                {query ? (
                  <p>No {trash ? "documents in the trash" : "documents"} match “{query}”.</p>
                ) : trash ? (
                  <p>The trash is empty.</p>
                ) : (
                  <>
                    <p>No documents yet.</p>
                    <p className="muted">Give your first one a title above and press Create.</p>
                  </>
                )}
              </div>
            ) : (
              <ul className="doc-list" data-testid="doc-list">
                {list.items.map((doc) => (
                  <DocumentRow
                    key={doc.id}
                    doc={doc}
                    view={view}
                    userId={userId}
                    copy={copyById.get(doc.id)}
                    onRenamed={onRenamed}
                    onTrash={onTrash}
                    onRestore={onRestore}
                    onError={setError}
                  />
                ))}
              </ul>
            )}
            {list.nextCursor && (
              <div className="load-more">
                <button type="button" className="button" onClick={() => void loadMore()} disabled={list.loading}>
                  {list.loading ? "Loading…" : "Show more"}
                </button>
              </div>
            )}
          </section>
        )}
      </main>
      <div className="toast-region" role="status" aria-live="polite">
        {toast && (
          <div className="toast" data-testid="toast">
            <span>{toast.message}</span>
            {toast.action && (
              <button type="button" className="link-button" onClick={toast.action.run}>
                {toast.action.label}
              </button>
            )}
            <button type="button" className="toast-close" aria-label="Dismiss" onClick={() => setToast(null)}>
              ×
            </button>
          </div>
        )}
      </div>
    </div>
  );
}
