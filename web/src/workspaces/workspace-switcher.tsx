// The dashboard's side list: everything I can open, my own documents (those in no workspace),
// and each workspace I belong to, each a link (?workspace=<id>) so the choice survives a reload
// and can be shared; and "New workspace", which makes one and switches to it.

import { useId, useRef, useState } from "react";
import type { FormEvent, ReactNode } from "react";
import { Link } from "react-router-dom";
import { PERSONAL_DOCUMENTS } from "@palimpsest/contracts/shared";
import { api } from "../api/api-client";
import { ApiError } from "../api/http";
import type { Workspace } from "../api/types";
import { WORKSPACE_ROLE_LABELS } from "./workspace-roles";
import "./workspaces.css";

interface SwitcherProps {
  workspaces: Workspace[] | null;
  /** Why the workspaces could not be loaded. */
  loadError: string | null;
  /** Null for everything; PERSONAL_DOCUMENTS for my own; otherwise a workspace's id. */
  selected: string | null;
  /** The dashboard's address for a choice, keeping its other parameters. */
  hrefFor: (workspace: string | null) => string;
  onCreated: (workspace: Workspace) => void;
}

function WorkspaceIcon({ name }: { name: string }): ReactNode {
  return (
    <span className="workspace-icon" aria-hidden="true">
      {(name.trim()[0] ?? "W").toUpperCase()}
    </span>
  );
}

function NewWorkspaceForm({ onCreated, onCancel }: { onCreated: (workspace: Workspace) => void; onCancel: () => void }): ReactNode {
  const id = useId();
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");

  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    const trimmed = name.trim();
    if (trimmed === "") {
      setError("Give the workspace a name.");
      return;
    }
    setBusy(true);
    setError("");
    try {
      onCreated(await api.workspaces.create(trimmed));
    } catch (err) {
      setError(err instanceof ApiError ? err.message : "Could not create the workspace.");
      setBusy(false);
    }
  };

  return (
    <form className="workspace-new-form" aria-label="New workspace" onSubmit={(event) => void submit(event)} noValidate>
      <label htmlFor={id}>Workspace name</label>
      <input
        id={id}
        type="text"
        maxLength={100}
        autoFocus
        placeholder="Design, Marketing…"
        value={name}
        disabled={busy}
        aria-describedby={`${id}-error`}
        onChange={(event) => {
          setName(event.target.value);
          setError("");
        }}
        onKeyDown={(event) => {
          if (event.key === "Escape") onCancel();
        }}
      />
      <p id={`${id}-error`} className="form-alert" role="alert">
        {error}
      </p>
      <span className="workspace-new-actions">
        <button type="submit" className="button button-primary button-compact" disabled={busy}>
          {busy ? "Creating…" : "Create workspace"}
        </button>
        <button type="button" className="button button-quiet" disabled={busy} onClick={onCancel}>
          Cancel
        </button>
      </span>
    </form>
  );
}

export function WorkspaceSwitcher({ workspaces, loadError, selected, hrefFor, onCreated }: SwitcherProps): ReactNode {
  const headingId = useId();
  const [creating, setCreating] = useState(false);
  const newButton = useRef<HTMLButtonElement>(null);

  const item = (key: string | null, label: ReactNode, extra?: ReactNode, title?: string): ReactNode => {
    const current = key === selected;
    return (
      <li key={key ?? ""}>
        <Link to={hrefFor(key)} className={`workspace-link${current ? " workspace-link-current" : ""}`} aria-current={current ? "page" : undefined} title={title}>
          {label}
          {extra}
        </Link>
      </li>
    );
  };

  return (
    <nav className="workspace-switcher" aria-labelledby={headingId} data-testid="workspace-switcher">
      <ul className="workspace-list">
        {item(null, <span className="workspace-name">Everything</span>, null, "Your documents and everything shared with you")}
        {item(PERSONAL_DOCUMENTS, <span className="workspace-name">My documents</span>, null, "Documents in no workspace")}
      </ul>
      <h2 id={headingId} className="workspace-switcher-title">
        Workspaces
      </h2>
      {loadError !== null && workspaces?.length === 0 ? (
        <p className="muted workspace-switcher-note">{loadError}</p>
      ) : workspaces === null ? (
        <p className="muted workspace-switcher-note">Loading…</p>
      ) : workspaces.length === 0 ? (
        <p className="muted workspace-switcher-note">Share documents with a team: make a workspace and add people to it.</p>
      ) : (
        <ul className="workspace-list">
          {workspaces.map((workspace) =>
            item(
              workspace.id,
              <>
                <WorkspaceIcon name={workspace.name} />
                <span className="workspace-name">{workspace.name}</span>
              </>,
              <span className="workspace-role">{WORKSPACE_ROLE_LABELS[workspace.role]}</span>,
            ),
          )}
        </ul>
      )}
      {creating ? (
        <NewWorkspaceForm
          onCancel={() => {
            setCreating(false);
            requestAnimationFrame(() => newButton.current?.focus());
          }}
          onCreated={(workspace) => {
            setCreating(false);
            onCreated(workspace);
          }}
        />
      ) : (
        <button ref={newButton} type="button" className="button button-quiet workspace-new" onClick={() => setCreating(true)}>
          <svg className="button-icon" viewBox="0 0 20 20" aria-hidden="true">
            <path d="M10 4v12M4 10h12" />
          </svg>
          New workspace
        </button>
      )}
    </nav>
  );
}
