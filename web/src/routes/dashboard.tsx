import { useEffect, useId, useRef, useState } from "react";
import type { FormEvent, ReactNode } from "react";
import { Link, useNavigate, useSearchParams } from "react-router-dom";
import { api } from "../api/api-client";
import { ApiError, isAbortError } from "../api/http";
import type { DocKind, DocSummary } from "../api/types";
import { useSession } from "../auth/use-session";
import { AppHeader } from "../components/app-header";
import { RoleBadge } from "../components/role-badge";
import { exactTime, timeAgo } from "../lib/format";
import { documentPath } from "../lib/paths";

const PAGE_SIZE = 30;
const SEARCH_DEBOUNCE_MS = 250;

function messageOf(err: unknown, fallback: string): string {
  return err instanceof ApiError ? err.message : fallback;
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

interface DocumentListProps {
  items: DocSummary[];
  loading: boolean;
  query: string;
  userId: string | undefined;
}

function DocumentList({ items, loading, query, userId }: DocumentListProps): ReactNode {
  if (items.length === 0 && loading) return <p className="muted loading-line">Loading…</p>;
  if (items.length === 0) {
    return (
      <div className="empty">
        {query ? (
          <p>No documents match “{query}”.</p>
        ) : (
          <>
            <p>No documents yet.</p>
            <p className="muted">Give your first one a title above and press Create.</p>
          </>
        )}
      </div>
    );
  }
  return (
    <ul className="doc-list" data-testid="doc-list">
      {items.map((doc) => (
        <li key={doc.id} className="doc-row" data-doc-id={doc.id}>
          <Link to={documentPath(doc)} className="doc-link">
            <KindIcon kind={doc.kind} />
            <span className="doc-row-title">{doc.title || "Untitled"}</span>
          </Link>
          <span className="doc-row-owner muted">{doc.ownerId === userId ? "You" : "Shared with you"}</span>
          <RoleBadge role={doc.role} />
          <time className="doc-row-time muted" dateTime={doc.updatedAt} title={exactTime(doc.updatedAt)}>
            {timeAgo(doc.updatedAt)}
          </time>
        </li>
      ))}
    </ul>
  );
}

interface ListState {
  items: DocSummary[];
  nextCursor: string | null;
  loading: boolean;
}

export function Dashboard(): ReactNode {
  const { session } = useSession();
  const [searchParams, setSearchParams] = useSearchParams();
  const query = searchParams.get("q") ?? "";
  const [searchText, setSearchText] = useState(query);
  const [list, setList] = useState<ListState>({ items: [], nextCursor: null, loading: true });
  const [error, setError] = useState<string | null>(null);
  const ids = useId();

  const latestQuery = useRef(query);
  useEffect(() => {
    latestQuery.current = query;
  }, [query]);

  // Back/forward can change ?q= under us; follow it unless it only differs in whitespace
  // the user is still typing.
  useEffect(() => {
    setSearchText((current) => (current.trim() === query ? current : query));
  }, [query]);

  // Keep the URL as the source of truth for the search so it survives reloads and back.
  useEffect(() => {
    if (searchText.trim() === query) return;
    const timer = setTimeout(() => {
      setSearchParams(searchText.trim() ? { q: searchText.trim() } : {}, { replace: true });
    }, SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [searchText, query, setSearchParams]);

  useEffect(() => {
    const controller = new AbortController();
    setList((current) => ({ ...current, loading: true }));
    api.docs
      .list({ q: query, limit: PAGE_SIZE }, controller.signal)
      .then((page) => {
        setList({ items: page.items, nextCursor: page.nextCursor, loading: false });
        setError(null);
      })
      .catch((err: unknown) => {
        if (isAbortError(err)) return;
        setList((current) => ({ ...current, loading: false }));
        setError(messageOf(err, "Could not load your documents."));
      });
    return () => controller.abort();
  }, [query]);

  const loadMore = async (): Promise<void> => {
    if (!list.nextCursor) return;
    setList((current) => ({ ...current, loading: true }));
    const forQuery = query;
    try {
      const page = await api.docs.list({ q: forQuery, limit: PAGE_SIZE, cursor: list.nextCursor });
      // The search changed while this page was loading; it belongs to the old results.
      if (latestQuery.current !== forQuery) return;
      setList((current) => ({ items: [...current.items, ...page.items], nextCursor: page.nextCursor, loading: false }));
    } catch (err) {
      if (latestQuery.current !== forQuery) return;
      setList((current) => ({ ...current, loading: false }));
      setError(messageOf(err, "Could not load more documents."));
    }
  };

  return (
    <div className="page">
      <AppHeader />
      <main className="dashboard">
        <section className="dashboard-top">
          <div>
            <h1>Documents</h1>
            <p className="muted">Yours and those shared with you.</p>
          </div>
          <CreateDocumentForm onError={setError} />
        </section>

        <p className="banner banner-error" role="alert">
          {error ?? ""}
        </p>

        <div className="search">
          <label className="visually-hidden" htmlFor={`${ids}-q`}>
            Search by title
          </label>
          <svg className="search-icon" viewBox="0 0 20 20" aria-hidden="true">
            <circle cx="8.5" cy="8.5" r="5.5" />
            <path d="m13 13 4 4" />
          </svg>
          <input
            id={`${ids}-q`}
            name="q"
            type="search"
            placeholder="Search by title"
            value={searchText}
            onChange={(event) => setSearchText(event.target.value)}
          />
        </div>

        <section aria-label="Document list" aria-busy={list.loading}>
          <DocumentList items={list.items} loading={list.loading} query={query} userId={session?.user.id} />
          {list.nextCursor && (
            <div className="load-more">
              <button type="button" className="button" onClick={() => void loadMore()} disabled={list.loading}>
                {list.loading ? "Loading…" : "Show more"}
              </button>
            </div>
          )}
        </section>
      </main>
    </div>
  );
}
