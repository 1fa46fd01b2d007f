// "Move to…" for a document whose owner I am (or manage, through a workspace): my own documents
// (those in no workspace), or a workspace where I may add documents. Everyone in the workspace it
// goes to gets the role that workspace gives them; those it leaves lose theirs (not their own shares).

import { useEffect, useId, useRef, useState } from "react";
import type { ReactNode } from "react";
import { api } from "../api/api-client";
import { ApiError } from "../api/http";
import type { DocSummary, Workspace } from "../api/types";
import { useSession } from "../auth/use-session";
import { mayAddDocuments, withArticle } from "./workspace-roles";
import "../share/share.css";
import "./workspaces.css";

interface MoveDialogProps {
  doc: DocSummary;
  workspaces: Workspace[];
  onClose: () => void;
  /**
   * Moved to `to` (null: its owner's own documents); `moved` is the document as it is now, or
   * null when I can no longer see it there.
   */
  onMoved: (doc: DocSummary, to: Workspace | null, moved: DocSummary | null) => void;
}

export default function MoveDialog({ doc, workspaces, onClose, onMoved }: MoveDialogProps): ReactNode {
  const dialogRef = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const selfId = useSession().session?.user.id;
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState("");
  const title = doc.title || "Untitled";
  const mine = doc.ownerId === selfId;
  const targets = workspaces.filter(mayAddDocuments);

  useEffect(() => {
    const dialog = dialogRef.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);

  const move = async (to: Workspace | null): Promise<void> => {
    setBusy(to?.id ?? "");
    setError("");
    try {
      const moved = await api.docs.move(doc.id, to?.id ?? null);
      onMoved(doc, to, moved ?? null);
      dialogRef.current?.close();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : "Could not move the document.");
      setBusy(null);
    }
  };

  const option = (to: Workspace | null, label: string, detail: string): ReactNode => {
    const current = (to?.id ?? null) === doc.workspaceId;
    return (
      <li key={to?.id ?? ""} className="share-row">
        <span className="workspace-icon" aria-hidden="true">
          {to ? (to.name.trim()[0] ?? "W").toUpperCase() : "•"}
        </span>
        <span className="share-person">
          <span className="share-name">{label}</span>
          <span className="share-email">{current ? "It is here now" : detail}</span>
        </span>
        <button type="button" className="button button-compact" disabled={current || busy !== null} aria-busy={busy === (to?.id ?? "")} onClick={() => void move(to)}>
          {busy === (to?.id ?? "") ? "Moving…" : "Move"}
          <span className="visually-hidden"> to {label}</span>
        </button>
      </li>
    );
  };

  return (
    <dialog
      ref={dialogRef}
      className="share-dialog"
      aria-labelledby={titleId}
      data-testid="move-dialog"
      onClose={onClose}
      onClick={(event) => {
        if (event.target === dialogRef.current) dialogRef.current.close();
      }}
    >
      <div className="share-body">
        <header className="share-header">
          <h2 id={titleId}>
            Move <span className="share-doc-title">“{title}”</span>
          </h2>
          <button type="button" className="icon-button" aria-label="Close" onClick={() => dialogRef.current?.close()}>
            <svg viewBox="0 0 20 20" aria-hidden="true">
              <path d="M5 5l10 10M15 5 5 15" />
            </svg>
          </button>
        </header>
        <p className="share-note">Everyone in the workspace it goes to can open it with the role the workspace gives them; people it was shared with one by one keep their access.</p>
        <p className="form-alert" role="alert">
          {error}
        </p>
        <ul className="share-list" aria-label="Places to move it to">
          {option(null, mine ? "My documents" : "Its owner's documents", mine ? "In no workspace: only you and the people you share it with" : "In no workspace, back with its owner")}
          {targets.map((workspace) => option(workspace, workspace.name, `Workspace · you are ${withArticle(workspace.role)} · ${workspace.memberCount} ${workspace.memberCount === 1 ? "member" : "members"}`))}
        </ul>
        {targets.length === 0 && <p className="share-note">You can add documents to no workspace yet: make one from the dashboard, or ask to be made a member of one.</p>}
        <footer className="share-footer">
          <span />
          <button type="button" className="button" onClick={() => dialogRef.current?.close()}>
            Cancel
          </button>
        </footer>
      </div>
    </dialog>
  );
}
