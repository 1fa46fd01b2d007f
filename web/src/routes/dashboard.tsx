import { lazy, Suspense, useCallback, useEffect, useId, useRef, useState, useSyncExternalStore } from "react";
import type { FormEvent, ReactNode } from "react";
import { Link, useNavigate, useSearchParams } from "react-router-dom";
import { api } from "../api/api-client";
import { ApiError, isAbortError } from "../api/http";
import type { DocKind, DocSummary, Workspace } from "../api/types";
import { can, PERSONAL_DOCUMENTS } from "@palimpsest/contracts/shared";
import { useSession } from "../auth/use-session";
import { AppHeader } from "../components/app-header";
import { RoleBadge } from "../components/role-badge";
import { ContentSearch } from "./content-search";
import { exactTime, timeAgo } from "../lib/format";
import { documentPath } from "../lib/paths";
import { localCopies, rememberTitle, subscribeLocalCopies } from "../offline/local-copies";
import type { LocalCopy } from "../offline/local-copies";
import { ImportButton } from "../transfer/import-button";
import { ErrorBoundary } from "../components/error-boundary";
import { useWorkspaces } from "../workspaces/use-workspaces";
import { mayAddDocuments, withArticle } from "../workspaces/workspace-roles";
import { WorkspaceSwitcher } from "../workspaces/workspace-switcher";
import "./dashboard.css";

const PAGE_SIZE = 30;
const SEARCH_DEBOUNCE_MS = 250;
const TOAST_MS = 8_000;

const loadWorkspaceDialog = () => import("../workspaces/workspace-dialog");
const WorkspaceDialog = lazy(loadWorkspaceDialog);
const MoveDialog = lazy(() => import("../workspaces/move-dialog"));

type View = "all" | "trash";

function messageOf(err: unknown, fallback: string): string {
  return err instanceof ApiError ? err.message : fallback;
}

/** Status 0 is a network failure; 5xx means the gateway answered but the service behind it did not. */
function isUnreachable(err: unknown): boolean {
  return err instanceof ApiError && (err.status === 0 || err.status >= 500);
}

interface CreateFormProps {
  /** Made in this workspace; among my own documents without it. */
  workspace: Workspace | null;
  onError: (message: string | null) => void;
}

function CreateDocumentForm({ workspace, onError }: CreateFormProps): ReactNode {
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
      const doc = await api.docs.create({ title: title.trim() || "Untitled", kind, ...(workspace ? { workspaceId: workspace.id } : {}) });
      navigate(documentPath(doc));
    } catch (err) {
      onError(messageOf(err, "Could not create the document."));
      setBusy(false);
    }
  };

  return (
    <form className="create-form" onSubmit={(event) => void handleSubmit(event)} aria-label={workspace ? `Create a document in ${workspace.name}` : "Create a document"}>
      <label className="visually-hidden" htmlFor={`${ids}-title`}>
        Title
      </label>
      <input
        id={`${ids}-title`}
        name="title"
        type="text"
        placeholder="Title of a new document"
        title={workspace ? `A new document in ${workspace.name}` : "A new document of your own"}
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
  /** The workspace it is in, when the list shows more than that workspace. */
  workspaceName: string | null;
  /** Offered to the document's owners. */
  onMove: ((doc: DocSummary) => void) | null;
  onRenamed: (doc: DocSummary) => void;
  onTrash: (doc: DocSummary) => Promise<void>;
  onRestore: (doc: DocSummary) => Promise<void>;
  onError: (message: string) => void;
}

function DocumentRow({ doc, view, userId, copy, workspaceName, onMove, onRenamed, onTrash, onRestore, onError }: RowProps): ReactNode {
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
      {workspaceName !== null ? (
        <span className="doc-row-owner doc-row-workspace muted" title={`In the workspace ${workspaceName}`}>
          {workspaceName}
        </span>
      ) : (
        <span className="doc-row-owner muted">{doc.ownerId === userId ? "You" : "Shared with you"}</span>
      )}
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
            {onMove && (
              <button
                type="button"
                className="icon-button row-action"
                aria-label={`Move ${title} to another workspace`}
                aria-haspopup="dialog"
                title="Move to…"
                disabled={busy}
                onClick={() => onMove(doc)}
              >
                <svg viewBox="0 0 20 20" aria-hidden="true">
                  <path d="M2.5 6V15.5h15V7.5H9.5L8 5.5H2.5z" />
                  <path d="M8.5 11.5h5M11.5 9.5l2 2-2 2" />
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
  /** Null for everything I can open; PERSONAL_DOCUMENTS for those in no workspace; or a workspace's id. */
  const selected = searchParams.get("workspace") || null;
  const workspaces = useWorkspaces();
  const workspace = selected === null || selected === PERSONAL_DOCUMENTS ? null : (workspaces.items?.find((w) => w.id === selected) ?? null);
  const [settingsOpen, setSettingsOpen] = useState(false);
  const [moving, setMoving] = useState<DocSummary | null>(null);
  const [searchText, setSearchText] = useState(query);
  const [list, setList] = useState<ListState>({ items: [], nextCursor: null, loading: true, unreachable: false });
  const [error, setError] = useState<string | null>(null);
  const [toast, setToast] = useState<Toast | null>(null);
  const [attempt, setAttempt] = useState(0);
  const copies = useLocalCopies(userId);
  const copyById = new Map(copies.map((copy) => [copy.doc.id, copy]));
  const ids = useId();

  const latestQuery = useRef(`${view}:${selected ?? ""}:${query}`);
  useEffect(() => {
    latestQuery.current = `${view}:${selected ?? ""}:${query}`;
  }, [view, selected, query]);

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
      if (selected) params.workspace = selected;
      if (q) params.q = q;
      if (v === "trash") params.view = "trash";
      setSearchParams(params, { replace: next.view === undefined });
    },
    [query, view, selected, setSearchParams],
  );

  /** The dashboard showing `key`'s documents, in the same view, without the search. */
  const hrefFor = useCallback(
    (key: string | null): string => {
      const params = new URLSearchParams();
      if (key) params.set("workspace", key);
      if (view === "trash") params.set("view", "trash");
      const text = params.toString();
      return text === "" ? "/" : `/?${text}`;
    },
    [view],
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
      .list({ q: query, limit: PAGE_SIZE, trashed: view === "trash", workspaceId: selected ?? undefined }, controller.signal)
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
  }, [query, view, selected, attempt]);

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
      const page = await api.docs.list({ q: query, limit: PAGE_SIZE, cursor: list.nextCursor, trashed: view === "trash", workspaceId: selected ?? undefined });
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

  const workspaceById = new Map((workspaces.items ?? []).map((w) => [w.id, w]));
  const nameOfWorkspace = (id: string | null): string | null => (id === null ? null : (workspaceById.get(id)?.name ?? "A workspace"));

  const onMoved = (doc: DocSummary, to: Workspace | null, moved: DocSummary | null): void => {
    const stays = moved !== null && (selected === null || selected === (moved.workspaceId ?? PERSONAL_DOCUMENTS));
    if (stays) setList((current) => ({ ...current, items: current.items.map((item) => (item.id === doc.id ? { ...item, ...moved } : item)) }));
    else removeFromList(doc.id);
    setError(null);
    const where = to ? to.name : doc.ownerId === userId ? "My documents" : "its owner's documents";
    const toKey = to ? to.id : PERSONAL_DOCUMENTS;
    setToast({
      message: moved ? `Moved “${doc.title || "Untitled"}” to ${where}.` : `Moved “${doc.title || "Untitled"}” to ${where}: you no longer have access to it.`,
      ...(moved && selected !== toKey && (to !== null || doc.ownerId === userId) ? { action: { label: `Show ${where}`, run: () => navigate(hrefFor(toKey)) } } : {}),
    });
  };

  /** I left or deleted the chosen workspace: back to everything. */
  const onWorkspaceGone = (message: string): void => {
    setSettingsOpen(false);
    workspaces.reload();
    navigate(hrefFor(null));
    setToast({ message });
  };

  const trash = view === "trash";
  const mayCreate = selected === null || selected === PERSONAL_DOCUMENTS || (workspace !== null && mayAddDocuments(workspace));
  /** Chosen by its address, but not one of mine (any more). */
  const unknownWorkspace = selected !== null && selected !== PERSONAL_DOCUMENTS && workspaces.items !== null && workspaces.error === null && workspace === null;
  const heading = trash ? "Trash" : selected === PERSONAL_DOCUMENTS ? "My documents" : workspace ? workspace.name : selected ? "Workspace" : "Documents";
  const subtitle = trash
    ? workspace
      ? `Documents of ${workspace.name} in the trash. Restore them to use them again.`
      : "Documents you moved to the trash. Restore them to use them again."
    : selected === PERSONAL_DOCUMENTS
      ? "Yours and those shared with you that are in no workspace."
      : workspace
        ? `A workspace: you are ${withArticle(workspace.role)}.`
        : unknownWorkspace
          ? "You are not in this workspace, or it no longer exists. Documents of it shared with you are listed here."
          : "Yours and those shared with you.";

  return (
    <div className="page">
      <AppHeader />
      <div className="dashboard-layout">
        <WorkspaceSwitcher
          workspaces={workspaces.items}
          loadError={workspaces.error}
          selected={selected}
          hrefFor={hrefFor}
          onCreated={(created) => {
            workspaces.put(created);
            navigate(hrefFor(created.id));
            setToast({ message: `Created the workspace ${created.name}.`, action: { label: "Add people", run: () => setSettingsOpen(true) } });
          }}
        />
        <main className="dashboard">
          <section className="dashboard-top">
            <div>
              <h1>{heading}</h1>
              <p className="muted">{subtitle}</p>
              {workspace && (
                <p className="workspace-summary muted">
                  <span>
                    {workspace.memberCount} {workspace.memberCount === 1 ? "member" : "members"}
                  </span>
                  <button
                    type="button"
                    className="button button-compact"
                    aria-haspopup="dialog"
                    onPointerEnter={() => void loadWorkspaceDialog().catch(() => undefined)}
                    onFocus={() => void loadWorkspaceDialog().catch(() => undefined)}
                    onClick={() => setSettingsOpen(true)}
                  >
                    <svg className="button-icon" viewBox="0 0 20 20" aria-hidden="true">
                      <circle cx="7.5" cy="7" r="3" />
                      <path d="M2.5 16.5c.6-2.8 2.6-4.3 5-4.3s4.4 1.5 5 4.3M13 6.5h4.5M13 10h4.5M14.5 13.5h3" />
                    </svg>
                    Workspace settings
                  </button>
                </p>
              )}
            </div>
            {!trash && mayCreate && !unknownWorkspace && (
              <div className="dashboard-create">
                <CreateDocumentForm workspace={workspace} onError={setError} />
                <ImportButton workspaceId={workspace?.id ?? null} onError={setError} />
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

          {!trash && !list.unreachable && <ContentSearch query={query} workspaceId={selected} />}

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
                  ) : workspace ? (
                    <>
                      <p>No documents in {workspace.name} yet.</p>
                      <p className="muted">{mayCreate ? "Give the first one a title above and press Create, or move one here from your documents." : "Documents its members add appear here."}</p>
                    </>
                  ) : (
                    <>
                      <p>No documents yet.</p>
                      <p className="muted">{unknownWorkspace ? "Nothing in this workspace is shared with you." : "Give your first one a title above and press Create."}</p>
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
                      workspaceName={doc.workspaceId !== null && doc.workspaceId !== selected ? nameOfWorkspace(doc.workspaceId) : null}
                      onMove={doc.role === "owner" && workspaces.items !== null ? setMoving : null}
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
      </div>
      {((settingsOpen && workspace) || (moving && workspaces.items)) && (
        <ErrorBoundary
          fallback={() => (
            <p className="floating-alert" role="alert">
              This dialog could not be downloaded. Reload the page to try again.{" "}
              <button
                type="button"
                className="link-button"
                onClick={() => {
                  setSettingsOpen(false);
                  setMoving(null);
                }}
              >
                Dismiss
              </button>
            </p>
          )}
        >
          <Suspense fallback={null}>
            {settingsOpen && workspace && (
              <WorkspaceDialog workspace={workspace} onClose={() => setSettingsOpen(false)} onChanged={workspaces.reload} onGone={onWorkspaceGone} />
            )}
            {moving && workspaces.items && <MoveDialog doc={moving} workspaces={workspaces.items} onClose={() => setMoving(null)} onMoved={onMoved} />}
          </Suspense>
        </ErrorBoundary>
      )}
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
