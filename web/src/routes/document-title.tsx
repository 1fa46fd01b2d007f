// The document's title in its header, renamed in place by those who may: the pencil (or a double
// click on the title) turns it into a field; Enter saves, Escape puts it back. Everyone with the
// document open sees the new title within a moment (the server tells their pages).

import { useEffect, useId, useRef, useState } from "react";
import type { FormEvent, ReactNode } from "react";
import { can } from "@palimpsest/contracts/shared";
import { api } from "../api/api-client";
import { ApiError } from "../api/http";
import type { DocMeta } from "../api/types";

export function DocumentTitle({ doc }: { doc: DocMeta }): ReactNode {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // Shown from our own rename until the page's copy of the document has it too.
  const [renamedTo, setRenamedTo] = useState<string | null>(null);
  const pencil = useRef<HTMLButtonElement>(null);
  const inputId = useId();
  const mayRename = can(doc.role, "rename");
  const title = renamedTo ?? (doc.title || "Untitled");

  useEffect(() => setRenamedTo(null), [doc.title]);
  // Demoted while editing: the field goes.
  useEffect(() => {
    if (!mayRename) setEditing(false);
  }, [mayRename]);

  const start = (): void => {
    setDraft(title);
    setError(null);
    setEditing(true);
  };
  // Focus goes back where it came from, not to the page, once the pencil is back on screen.
  const returnFocus = useRef(false);
  useEffect(() => {
    if (editing || !returnFocus.current) return;
    returnFocus.current = false;
    pencil.current?.focus();
  }, [editing]);
  const stop = (): void => {
    returnFocus.current = true;
    setEditing(false);
    setError(null);
  };
  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    const next = draft.trim();
    if (next === "" || next === title) {
      stop();
      return;
    }
    setBusy(true);
    try {
      const renamed = await api.docs.rename(doc.id, next);
      setRenamedTo(renamed.title);
      stop();
    } catch (err) {
      setError(err instanceof ApiError && err.status !== 0 ? err.message : "Could not rename the document. Check your connection and try again.");
    } finally {
      setBusy(false);
    }
  };

  if (editing) {
    return (
      <form className="doc-title-form" onSubmit={(event) => void submit(event)} aria-label="Rename document">
        <label className="visually-hidden" htmlFor={inputId}>
          Document title
        </label>
        <input
          id={inputId}
          className="doc-title-input"
          data-testid="doc-title-input"
          type="text"
          maxLength={200}
          required
          autoFocus
          value={draft}
          disabled={busy}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${inputId}-error` : undefined}
          onFocus={(event) => event.target.select()}
          onChange={(event) => setDraft(event.target.value)}
          onKeyDown={(event) => {
            if (event.key === "Escape") {
              event.preventDefault();
              stop();
            }
          }}
        />
        <button type="submit" className="button button-primary button-compact" disabled={busy}>
          {busy ? "Saving…" : "Save"}
        </button>
        <button type="button" className="button button-quiet button-compact" onClick={stop} disabled={busy}>
          Cancel
        </button>
        {error && (
          <span id={`${inputId}-error`} className="doc-title-error" role="alert">
            {error}
          </span>
        )}
      </form>
    );
  }

  return (
    <>
      <h1 className="doc-title" data-testid="doc-title" title={title} onDoubleClick={mayRename ? start : undefined}>
        {title}
      </h1>
      {mayRename && (
        <button ref={pencil} type="button" className="icon-button doc-rename" data-testid="rename-document" aria-label="Rename document" title={`Rename “${title}”`} onClick={start}>
          <svg viewBox="0 0 20 20" aria-hidden="true">
            <path d="M4 16h3l8.5-8.5-3-3L4 13z" />
            <path d="m11 6 3 3" />
          </svg>
        </button>
      )}
    </>
  );
}
