import { useEffect, useId, useState } from "react";
import type { ReactNode } from "react";
import { Link } from "react-router-dom";
import { normalizeSearchQuery, snippetSegments } from "@palimpsest/contracts/shared";
import { api } from "../api/api-client";
import { isAbortError } from "../api/http";
import type { SearchHit } from "../api/types";
import { documentPath } from "../lib/paths";

type State = { status: "idle" | "loading" } | { status: "done"; items: SearchHit[] } | { status: "failed" };

const RESULTS = 20;

/**
 * The matched words in bold, as text nodes: the snippet is never handed to the DOM as HTML, so
 * nothing a document says can become markup here, whatever the server sent.
 */
export function Snippet({ snippet }: { snippet: string }): ReactNode {
  return (
    <>
      {snippetSegments(snippet).map((s, i) => (s.marked ? <mark key={i}>{s.text}</mark> : <span key={i}>{s.text}</span>))}
    </>
  );
}

/** Documents whose title or text has the words of `query`, with a passage around them. */
export function ContentSearch({ query, workspaceId = null }: { query: string; workspaceId?: string | null }): ReactNode {
  const [state, setState] = useState<State>({ status: "idle" });
  const headingId = useId();
  const q = normalizeSearchQuery(query);

  useEffect(() => {
    if (!q) {
      setState({ status: "idle" });
      return;
    }
    const controller = new AbortController();
    setState({ status: "loading" });
    api
      .search({ q, limit: RESULTS, ...(workspaceId ? { workspaceId } : {}) }, controller.signal)
      .then((res) => setState({ status: "done", items: res.items }))
      .catch((err: unknown) => {
        if (!isAbortError(err)) setState({ status: "failed" });
      });
    return () => controller.abort();
  }, [q, workspaceId]);

  if (!q) return null;
  return (
    <section className="content-search" aria-labelledby={headingId} aria-busy={state.status === "loading"} data-testid="content-search">
      <h2 id={headingId}>In titles and text</h2>
      <p className="muted" role="status">
        {state.status === "loading"
          ? "Searching…"
          : state.status === "failed"
            ? "Search is not available right now."
            : state.status === "done" && state.items.length === 0
              ? `Nothing you can read says “${q}”.`
              : ""}
      </p>
      {state.status === "done" && state.items.length > 0 && (
        <ol className="search-results">
          {state.items.map((hit) => (
            <li key={hit.docId} className="search-result">
              <Link to={documentPath({ id: hit.docId, kind: hit.kind })} className="search-result-title">
                {hit.title || "Untitled"}
                {hit.kind === "board" && <span className="muted"> · board</span>}
              </Link>
              <p className="search-result-snippet">
                <Snippet snippet={hit.snippet} />
              </p>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
