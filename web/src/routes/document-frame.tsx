// The chrome shared by every document screen: header with title, who is here and the
// connection status, plus the full-page states for loading and failures.

import type { ReactNode } from "react";
import { Link } from "react-router-dom";
import type { DocSummary } from "../api/types";
import { canEdit } from "../api/types";
import { signOut } from "../auth/use-session";
import { AppHeader } from "../components/app-header";
import { PresenceAvatars } from "../components/presence-avatars";
import { StatusPill } from "../components/status-pill";
import type { CollabProblem, CollabStatus } from "../collab/collab-provider";
import type { Peer } from "../collab/use-collab";

interface DocumentFrameProps {
  doc: DocSummary;
  status: CollabStatus;
  peers: Peer[];
  problem: CollabProblem | null;
  children: ReactNode;
}

export function DocumentFrame({ doc, status, peers, problem, children }: DocumentFrameProps): ReactNode {
  const readOnly = !canEdit(doc.role);
  return (
    <div className="page page-document">
      <AppHeader>
        <div className="doc-heading">
          <Link to="/" className="back-link" title="All documents">
            <span aria-hidden="true">←</span>
            <span className="visually-hidden">All documents</span>
          </Link>
          <h1 className="doc-title" data-testid="doc-title" title={doc.title}>
            {doc.title || "Untitled"}
          </h1>
          {readOnly && (
            <span className="badge badge-readonly" title={`You are a ${doc.role}; you can read but not edit.`}>
              View only
            </span>
          )}
        </div>
        <div className="doc-meta">
          <PresenceAvatars peers={peers} />
          <StatusPill status={status} />
        </div>
      </AppHeader>
      <p className="banner banner-error" role="alert">
        {problem ? problem.message : ""}
        {problem?.kind === "expired" && (
          <>
            {" "}
            <button type="button" className="link-button" onClick={() => void signOut()}>
              Sign in again
            </button>
          </>
        )}
      </p>
      {children}
    </div>
  );
}

export function DocumentLoading(): ReactNode {
  return (
    <div className="page">
      <AppHeader />
      <main className="centered-message" aria-busy="true">
        <p className="muted">Opening document…</p>
      </main>
    </div>
  );
}

export function DocumentUnavailable({ status, message }: { status: number; message: string }): ReactNode {
  const heading =
    status === 404 ? "Document not found" : status === 403 ? "No access" : status === 0 ? "Can't reach the server" : "Something went wrong";
  return (
    <div className="page">
      <AppHeader />
      <main className="centered-message">
        <h1>{heading}</h1>
        <p role="alert">{message}</p>
        <Link className="button" to="/">
          Back to your documents
        </Link>
      </main>
    </div>
  );
}
