// The chrome shared by every document screen: header with title, who is here and the
// connection status, plus the full-page states for loading and failures.

import { useEffect, useState } from "react";
import type { ReactNode } from "react";
import { Link } from "react-router-dom";
import type { DocMeta, DocRole } from "../api/types";
import { canWrite } from "@palimpsest/contracts/shared";
import { signInAgain, useSession } from "../auth/use-session";
import { AppHeader } from "../components/app-header";
import { isChunkLoadError } from "../components/error-boundary";
import { PresenceAvatars } from "../components/presence-avatars";
import { StatusPill } from "../components/status-pill";
import { ShareButton } from "../share/share-button";
import { DocumentTitle } from "./document-title";
import type { CollabProblem, CollabStatus } from "../collab/collab-provider";
import type { Peer } from "../collab/use-collab";

const READ_ONLY_BADGES: Partial<Record<DocRole, string>> = { commenter: "Comment only", auditor: "Audit" };
const READ_ONLY_TITLES: Partial<Record<DocRole, string>> = {
  commenter: "You are a commenter: you can read and comment, not edit.",
  auditor: "You are an auditor: you can read this document and its whole history, not change it.",
};

interface DocumentFrameProps {
  doc: DocMeta;
  status: CollabStatus;
  peers: Peer[];
  problem: CollabProblem | null;
  /** Buttons of this kind of document, shown before Share. */
  actions?: ReactNode;
  /** After the share dialog changed who has access (to tell the document's other windows). */
  onAccessChanged?: () => void;
  /** Every edit made here is in this device's copy (shown while offline). */
  savedOnDevice?: boolean;
  children: ReactNode;
}

export function DocumentFrame({ doc, status, peers, problem, actions, onAccessChanged, savedOnDevice = true, children }: DocumentFrameProps): ReactNode {
  const readOnly = !canWrite(doc.role);
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
          <DocumentTitle doc={doc} />
          {readOnly && (
            <span
              className="badge badge-readonly"
              data-testid="readonly-badge"
              title={READ_ONLY_TITLES[doc.role] ?? `You are a ${doc.role}; you can read but not edit.`}
            >
              {READ_ONLY_BADGES[doc.role] ?? "View only"}
            </span>
          )}
        </div>
        <div className="doc-meta">
          <PresenceAvatars peers={peers} />
          <StatusPill status={status} />
          {actions}
          <ShareButton doc={doc} onAccessChanged={onAccessChanged} />
        </div>
      </AppHeader>
      <p className="banner banner-error" role="alert">
        {problem ? problem.message : ""}
        {problem?.kind === "expired" && (
          <>
            {" "}
            <button type="button" className="link-button" onClick={signInAgain}>
              Sign in again
            </button>
          </>
        )}
      </p>
      {status === "offline" && problem === null && (
        <p className="banner banner-offline" role="status" data-testid="offline-banner" data-saved-on-device={savedOnDevice ? "true" : "false"}>
          {savedOnDevice
            ? "You're offline. Your changes are saved on this device and sync when the connection returns."
            : "You're offline. Saving your changes on this device…"}
        </p>
      )}
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

interface UnavailableProps {
  status: number;
  message: string;
  /** Access ended while the document was open: the message says what happened, and is all that is said. */
  lost?: boolean;
  /** Ask again; without it, Try again reloads the page. */
  onRetry?: () => void;
}

export function DocumentUnavailable({ status, message, lost = false, onRetry }: UnavailableProps): ReactNode {
  const email = useSession().session?.user.email;
  const [retrying, setRetrying] = useState(false);
  const unreachable = status === 0 || status >= 500;
  // The server answers strangers with 404 so they learn nothing; to the person asking, "not
  // found" and "not shared with you" look the same, so say both.
  const heading = status === 404 ? "Document not found" : status === 403 ? "No access" : unreachable ? "Can't reach the server" : "Something went wrong";
  const retry = (): void => {
    if (!onRetry) {
      location.reload();
      return;
    }
    setRetrying(true);
    onRetry();
    setTimeout(() => setRetrying(false), 1_500);
  };
  return (
    <div className="page">
      <AppHeader />
      <main className="centered-message" data-testid="document-unavailable" data-status={status}>
        <h1>{heading}</h1>
        {/* For a document that cannot be opened, the server's own words only repeat the heading: the explanation below says more. */}
        {(lost || (status !== 404 && status !== 403)) && <p role="alert">{message}</p>}
        {!lost && (status === 404 || status === 403) && (
          <p className="muted" role="alert">
            It may have been deleted, or it isn't shared with {email ? <strong>{email}</strong> : "you"}. Ask its owner to share it
            with this address, or sign in with another account.
          </p>
        )}
        {unreachable && (
          <p className="muted">
            Documents you opened on this device before still open without the server. This one isn't among them yet.
          </p>
        )}
        <div className="centered-actions">
          {unreachable && (
            <button type="button" className="button button-primary" onClick={retry} disabled={retrying}>
              {retrying ? "Trying…" : "Try again"}
            </button>
          )}
          <Link className="button" to="/">
            Back to your documents
          </Link>
        </div>
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
