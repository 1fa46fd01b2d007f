// A workspace's settings: its name (owners and admins rename it), its members with their roles
// (owners and admins add people by email, change roles and remove people; only owners make or
// unmake owners), leaving it, and deleting it (owners, once it holds no documents outside the
// trash; the server says so otherwise). Built like the share dialog, whose styles it shares;
// the server decides every permission again.

import { useEffect, useId, useRef, useState } from "react";
import type { FormEvent, ReactNode } from "react";
import { canInWorkspace } from "@palimpsest/contracts/shared";
import { api } from "../api/api-client";
import { ApiError, isAbortError } from "../api/http";
import type { Workspace, WorkspaceInvitation, WorkspaceMember, WorkspaceMembers, WorkspaceRole } from "../api/types";
import { useSession } from "../auth/use-session";
import { WORKSPACE_ROLE_HINTS, WORKSPACE_ROLE_LABELS, WORKSPACE_ROLES, withArticle } from "./workspace-roles";
import { downloadWorkspaceExport } from "../transfer/doc-transfer";
import { InvitationRow, PersonRow, personName } from "../share/person-rows";
import "../share/share.css";
import "./workspaces.css";

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function errorText(err: unknown, fallback: string): string {
  return err instanceof ApiError ? err.message : fallback;
}

interface WorkspaceDialogProps {
  workspace: Workspace;
  onClose: () => void;
  /** Its name or members changed: the dashboard asks for the list again. */
  onChanged: () => void;
  /** I left it, or deleted it: it is no longer mine to show. */
  onGone: (message: string) => void;
}

export default function WorkspaceDialog({ workspace, onClose, onChanged, onGone }: WorkspaceDialogProps): ReactNode {
  const dialogRef = useRef<HTMLDialogElement>(null);
  const emailRef = useRef<HTMLInputElement>(null);
  const selfId = useSession().session?.user.id ?? "";
  const titleId = useId();
  const ids = useId();

  const role = workspace.role;
  const mayRename = canInWorkspace(role, "rename");
  const managesMembers = canInWorkspace(role, "manageMembers");
  const isOwner = canInWorkspace(role, "own");
  /** Roles I may give: owners give any, admins any but owner. */
  const givable = WORKSPACE_ROLES.filter((r) => r !== "owner" || isOwner);

  const [name, setName] = useState(workspace.name);
  const [renaming, setRenaming] = useState(false);
  const [members, setMembers] = useState<WorkspaceMember[] | null>(null);
  const [invitations, setInvitations] = useState<WorkspaceInvitation[]>([]);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [email, setEmail] = useState("");
  const [addRole, setAddRole] = useState<WorkspaceRole>("member");
  const [adding, setAdding] = useState(false);
  /** The member (user id) with a request in flight, or "workspace" for the whole workspace. */
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState("");
  const [notice, setNotice] = useState("");
  const [confirmRemove, setConfirmRemove] = useState<string | null>(null);
  // Those who read every document in it export it whole.
  const mayExport = role === "owner" || role === "admin" || role === "auditor";
  const [exporting, setExporting] = useState(false);
  const [exportError, setExportError] = useState("");
  const exportWorkspace = async (): Promise<void> => {
    setExporting(true);
    setExportError("");
    try {
      await downloadWorkspaceExport(workspace.id, workspace.name);
    } catch (err) {
      setExportError(err instanceof ApiError ? err.message : "Could not export the workspace.");
    } finally {
      setExporting(false);
    }
  };
  const [confirmLeave, setConfirmLeave] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  /** Why the workspace could not be deleted (it still holds documents, say), shown beside the button. */
  const [deleteError, setDeleteError] = useState("");

  useEffect(() => {
    const dialog = dialogRef.current;
    if (dialog && !dialog.open) dialog.showModal();
    (managesMembers ? emailRef.current : dialog)?.focus();
  }, [managesMembers]);

  useEffect(() => setName(workspace.name), [workspace.name]);

  useEffect(() => {
    const controller = new AbortController();
    api.workspaces.members(workspace.id, controller.signal).then(
      (page) => {
        setMembers(page.items);
        setInvitations(page.invitations ?? []);
      },
      (err: unknown) => {
        if (!isAbortError(err)) setLoadError(errorText(err, "Could not load the members."));
      },
    );
    return () => controller.abort();
  }, [workspace.id]);

  const nameOf = personName;

  const changed = (next: WorkspaceMembers | null, message: string): void => {
    if (next) {
      setMembers(next.items);
      if (next.invitations) setInvitations(next.invitations);
    }
    setError("");
    setNotice(message);
    onChanged();
  };

  const reload = async (): Promise<void> => {
    const page = await api.workspaces.members(workspace.id);
    setMembers(page.items);
    setInvitations(page.invitations ?? []);
  };

  const rename = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    const next = name.trim();
    setNotice("");
    if (next === "") {
      setError("Give the workspace a name.");
      return;
    }
    if (next === workspace.name) return;
    setRenaming(true);
    try {
      const renamed = await api.workspaces.rename(workspace.id, next);
      changed(null, `Renamed to “${renamed.name}”.`);
    } catch (err) {
      setError(errorText(err, "Could not rename the workspace."));
    } finally {
      setRenaming(false);
    }
  };

  const add = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    const address = email.trim().toLowerCase();
    setNotice("");
    if (!EMAIL.test(address)) {
      setError("Enter a valid email address, like ada@example.com.");
      emailRef.current?.focus();
      return;
    }
    const existing = members?.find((m) => m.email.toLowerCase() === address);
    const pending = invitations.find((i) => i.email.toLowerCase() === address);
    if (pending && pending.role === addRole) {
      setError(`${address} is already invited as ${withArticle(addRole)}.`);
      emailRef.current?.focus();
      return;
    }
    if (existing) {
      setError(existing.userId === selfId ? `That is your own address: you are ${withArticle(role)} here.` : `${nameOf(existing)} is already ${withArticle(existing.role)} here.`);
      emailRef.current?.focus();
      return;
    }
    setAdding(true);
    setError("");
    try {
      const next = await api.workspaces.addMember(workspace.id, { email: address, role: addRole });
      const member = next.items.find((m) => m.email.toLowerCase() === address);
      changed(
        next,
        member
          ? `${nameOf(member)} is now ${withArticle(member.role)} of ${workspace.name}.`
          : `Invited ${address} as ${withArticle(addRole)}: we emailed them a link that lets them in once they sign up.`,
      );
      setEmail("");
    } catch (err) {
      setError(errorText(err, "Could not add them."));
    } finally {
      setAdding(false);
      emailRef.current?.focus();
    }
  };

  const changeRole = async (member: WorkspaceMember, next: WorkspaceRole): Promise<void> => {
    setBusy(member.userId);
    setNotice("");
    try {
      changed(await api.workspaces.changeRole(workspace.id, member.userId, next), `${nameOf(member)} is now ${withArticle(next)}.`);
    } catch (err) {
      setError(errorText(err, "Could not change the role."));
      await reload().catch(() => undefined);
    } finally {
      setBusy(null);
    }
  };

  const remove = async (member: WorkspaceMember): Promise<void> => {
    setBusy(member.userId);
    setNotice("");
    setConfirmRemove(null);
    try {
      await api.workspaces.removeMember(workspace.id, member.userId);
      setMembers((current) => current?.filter((m) => m.userId !== member.userId) ?? current);
      changed(null, `${nameOf(member)} is no longer in ${workspace.name}.`);
    } catch (err) {
      setError(errorText(err, "Could not remove them."));
    } finally {
      setBusy(null);
    }
  };

  const cancelInvitation = async (invitation: WorkspaceInvitation): Promise<void> => {
    setBusy(invitation.email);
    setNotice("");
    try {
      await api.workspaces.cancelInvitation(workspace.id, invitation.email);
      setInvitations((current) => current.filter((i) => i.email !== invitation.email));
      changed(null, `The invitation for ${invitation.email} was cancelled.`);
    } catch (err) {
      setError(errorText(err, "Could not cancel the invitation."));
    } finally {
      setBusy(null);
    }
  };

  const leave = async (): Promise<void> => {
    setBusy(selfId);
    setNotice("");
    try {
      await api.workspaces.removeMember(workspace.id, selfId);
      onGone(`You left ${workspace.name}.`);
    } catch (err) {
      setError(errorText(err, "Could not leave the workspace."));
      setConfirmLeave(false);
      setBusy(null);
    }
  };

  const deleteWorkspace = async (): Promise<void> => {
    setBusy("workspace");
    setNotice("");
    setDeleteError("");
    try {
      await api.workspaces.remove(workspace.id);
      onGone(`Deleted the workspace ${workspace.name}.`);
    } catch (err) {
      // 409 while it holds documents: the server's message says what to do.
      setDeleteError(errorText(err, "Could not delete the workspace."));
      setConfirmDelete(false);
      setBusy(null);
    }
  };

  const roleControl = (member: WorkspaceMember): ReactNode => {
    const label = WORKSPACE_ROLE_LABELS[member.role];
    if (member.userId === selfId) {
      return (
        <span className="share-row-actions">
          <span className="share-role-text">{label}</span>
          {confirmLeave ? (
            <>
              <button type="button" className="button button-danger button-compact" disabled={busy !== null} onClick={() => void leave()}>
                Leave now
              </button>
              <button type="button" className="button button-quiet" onClick={() => setConfirmLeave(false)}>
                Stay
              </button>
            </>
          ) : (
            <button type="button" className="button button-quiet" onClick={() => setConfirmLeave(true)}>
              Leave
            </button>
          )}
        </span>
      );
    }
    // Admins manage everyone but owners; owners manage everyone.
    if (!managesMembers || (member.role === "owner" && !isOwner)) return <span className="share-role-text">{label}</span>;
    const name = nameOf(member);
    return (
      <span className="share-row-actions">
        <select aria-label={`Role of ${name}`} value={member.role} disabled={busy !== null} onChange={(event) => void changeRole(member, event.target.value as WorkspaceRole)}>
          {givable.map((r) => (
            <option key={r} value={r}>
              {WORKSPACE_ROLE_LABELS[r]}
            </option>
          ))}
        </select>
        {confirmRemove === member.userId ? (
          <>
            <button type="button" className="button button-danger button-compact" disabled={busy !== null} onClick={() => void remove(member)}>
              Remove {name}
            </button>
            <button type="button" className="button button-quiet" onClick={() => setConfirmRemove(null)}>
              Keep
            </button>
          </>
        ) : (
          <button type="button" className="icon-button" aria-label={`Remove ${name}`} title={`Remove ${name}`} disabled={busy !== null} onClick={() => setConfirmRemove(member.userId)}>
            <svg viewBox="0 0 20 20" aria-hidden="true">
              <path d="M5 5l10 10M15 5 5 15" />
            </svg>
          </button>
        )}
      </span>
    );
  };

  return (
    <dialog
      ref={dialogRef}
      className="share-dialog workspace-dialog"
      aria-labelledby={titleId}
      data-testid="workspace-dialog"
      onClose={onClose}
      // A click on the backdrop lands on the dialog element itself.
      onClick={(event) => {
        if (event.target === dialogRef.current) dialogRef.current.close();
      }}
    >
      <div className="share-body">
        <header className="share-header">
          <h2 id={titleId}>
            Workspace <span className="share-doc-title">“{workspace.name}”</span>
          </h2>
          <button type="button" className="icon-button" aria-label="Close" onClick={() => dialogRef.current?.close()}>
            <svg viewBox="0 0 20 20" aria-hidden="true">
              <path d="M5 5l10 10M15 5 5 15" />
            </svg>
          </button>
        </header>

        {mayRename ? (
          <form className="share-invite" onSubmit={(event) => void rename(event)} aria-label="Rename the workspace" noValidate>
            <label htmlFor={`${ids}-name`} className="visually-hidden">
              Workspace name
            </label>
            <input
              id={`${ids}-name`}
              type="text"
              maxLength={100}
              value={name}
              disabled={renaming}
              onChange={(event) => {
                setName(event.target.value);
                setError("");
              }}
            />
            <button type="submit" className="button" disabled={renaming || name.trim() === "" || name.trim() === workspace.name}>
              {renaming ? "Renaming…" : "Rename"}
            </button>
          </form>
        ) : (
          <p className="share-note">
            You are {withArticle(role)} of this workspace. Only its owners and admins can rename it or change who is in it.
          </p>
        )}

        {managesMembers && (
          <>
            <form className="share-invite" onSubmit={(event) => void add(event)} aria-label="Add a member" noValidate>
              <label htmlFor={`${ids}-email`} className="visually-hidden">
                Email address of the person to add
              </label>
              <input
                ref={emailRef}
                id={`${ids}-email`}
                type="email"
                placeholder="Add people by email"
                autoComplete="off"
                value={email}
                disabled={adding}
                onChange={(event) => {
                  setEmail(event.target.value);
                  setError("");
                }}
              />
              <select aria-label="Role of the new member" value={addRole} disabled={adding} onChange={(event) => setAddRole(event.target.value as WorkspaceRole)}>
                {givable.map((r) => (
                  <option key={r} value={r}>
                    {WORKSPACE_ROLE_LABELS[r]}
                  </option>
                ))}
              </select>
              <button type="submit" className="button button-primary" disabled={adding || email.trim() === ""}>
                {adding ? "Adding…" : "Add"}
              </button>
            </form>
            <ul className="share-note workspace-role-hints">
              {givable.map((r) => (
                <li key={r}>
                  <strong>{WORKSPACE_ROLE_LABELS[r]}</strong>: {WORKSPACE_ROLE_HINTS[r]}.
                </li>
              ))}
            </ul>
          </>
        )}

        <p className="form-alert" role="alert">
          {error || loadError || ""}
        </p>
        <p className="share-notice" role="status">
          {notice}
        </p>

        <section aria-label="Members">
          <h3 className="share-section-title">Members{members ? ` · ${members.length}` : ""}</h3>
          {members === null && loadError === null ? (
            <p className="muted share-loading">Loading…</p>
          ) : (
            <ul className="share-list" data-testid="workspace-members">
              {(members ?? []).map((member) => (
                <PersonRow key={member.userId} person={member} self={member.userId === selfId} busy={busy === member.userId}>
                  {roleControl(member)}
                </PersonRow>
              ))}
            </ul>
          )}
        </section>

        {invitations.length > 0 && (
          <section aria-label="Pending invitations">
            <h3 className="share-section-title">Invited, not signed up yet</h3>
            <ul className="share-list" data-testid="workspace-invitations">
              {invitations.map((invitation) => (
                <InvitationRow
                  key={invitation.email}
                  email={invitation.email}
                  role={WORKSPACE_ROLE_LABELS[invitation.role]}
                  busy={busy === invitation.email}
                  disabled={busy !== null}
                  cancel={managesMembers ? () => void cancelInvitation(invitation) : null}
                />
              ))}
            </ul>
          </section>
        )}

        {mayExport && (
          <section aria-label="Export the workspace">
            <h3 className="share-section-title">Export</h3>
            <p className="share-note">Every document in it, with its comments, in one file; each can be imported again on its own.</p>
            <p className="form-alert" role="alert">
              {exportError}
            </p>
            <span className="share-row-actions">
              <button type="button" className="button button-compact" disabled={exporting} onClick={() => void exportWorkspace()}>
                {exporting ? "Exporting…" : "Export workspace"}
              </button>
            </span>
          </section>
        )}

        {isOwner && (
          <section className="workspace-danger" aria-label="Delete the workspace">
            <h3 className="share-section-title">Delete</h3>
            <p className="share-note">Move its documents out or to the trash first. What is in its trash goes back to the documents' owners.</p>
            <p className="form-alert" role="alert">
              {deleteError}
            </p>
            {confirmDelete ? (
              <span className="share-row-actions">
                <button type="button" className="button button-danger button-compact" disabled={busy !== null} onClick={() => void deleteWorkspace()}>
                  {busy === "workspace" ? "Deleting…" : `Delete ${workspace.name} now`}
                </button>
                <button type="button" className="button button-quiet" onClick={() => setConfirmDelete(false)}>
                  Keep it
                </button>
              </span>
            ) : (
              <span className="share-row-actions">
                <button type="button" className="button button-compact workspace-delete" disabled={busy !== null} onClick={() => setConfirmDelete(true)}>
                  Delete workspace
                </button>
              </span>
            )}
          </section>
        )}

        <footer className="share-footer">
          <span />
          <button type="button" className="button button-primary" onClick={() => dialogRef.current?.close()}>
            Done
          </button>
        </footer>
      </div>
    </dialog>
  );
}
