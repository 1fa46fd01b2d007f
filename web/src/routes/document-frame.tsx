// The chrome shared by every document screen: header with title, who is here and the
// connection status, plus the full-page states for loading and failures.

import { useEffect } from "react";
import type { ReactNode } from "react";
import { Link } from "react-router-dom";
import type { DocSummary } from "../api/types";
import { canEdit } from "../api/types";
import { signOut } from "../auth/use-session";
import { AppHeader } from "../components/app-header";
import { isChunkLoadError } from "../components/error-boundary";
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
  const title = doc.title || "Untitled";
  // Tell tabs apart: several documents open at once otherwise all read "Palimpsest".
  useEffect(() => {
    const previous = document.title;
    document.title = `${title} · Palimpsest`;
    return () => {
      document.title = previous;
    };
  }, [title]);
  return (
    <div className="page page-document">
      <AppHeader>
        <div className="doc-heading">
          <Link to="/" className="back-link" title="All documents">
            <span aria-hidden="true">←</span>
            <span className="visually-hidden">All documents</span>
          </Link>
          <h1 className="doc-title" data-testid="doc-title" title={title}>
            {title}
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

/** A document screen that threw: most often its code could not be downloaded. */
export function DocumentCrashed({ error }: { error: Error }): ReactNode {
  const outdated = isChunkLoadError(error);
  return (
    <div className="page">
      <AppHeader />
      <main className="centered-message">
        <h1>{outdated ? "This page could not load" : "Something went wrong"}</h1>
        <p role="alert">
          {outdated
            ? "Part of the app could not be downloaded. It may have been updated since you opened it, or the connection dropped. Reloading fixes this."
            : "This document could not be shown. Reloading usually fixes this; your saved edits are safe on the server."}
        </p>
        <div className="centered-actions">
          <button type="button" className="button button-primary" onClick={() => location.reload()}>
            Reload
          </button>
          <Link className="button" to="/">
            Back to your documents
          </Link>
        </div>
      </main>
    </div>
  );
}
