// Who has access to a document, and (for those allowed) changing it: invite by email with a
// role, change a member's role, remove a member, cancel a pending invitation, or leave.
// The server decides every permission again; the dialog only offers what it would accept:
// the owner manages members, editors may invite and cancel invitations, others only read.

import { useEffect, useId, useRef, useState } from "react";
import type { FormEvent, ReactNode } from "react";
import { useNavigate } from "react-router-dom";
import { api } from "../api/api-client";
import type { ShareRole } from "../api/api-client";
import { ApiError, isAbortError } from "../api/http";
import type { DocRole, DocMeta, Invitation, Member, Members } from "../api/types";
import { useSession } from "../auth/use-session";
import { InvitationRow, PersonRow, personName } from "./person-rows";
import { PlaceSection } from "../workspaces/move-button";
import { documentPath } from "../lib/paths";
import { can, canManageMembers, canShare } from "@palimpsest/contracts/shared";
import { WebhooksSection } from "./webhooks-section";
import "./share.css";

const SHARE_ROLES: { role: ShareRole; label: string }[] = [
  { role: "editor", label: "Editor" },
  { role: "commenter", label: "Commenter" },
  { role: "viewer", label: "Viewer" },
  { role: "auditor", label: "Auditor (reads the history too)" },
];

const ROLE_LABELS: Record<DocRole, string> = { owner: "Owner", editor: "Editor", commenter: "Commenter", viewer: "Viewer", auditor: "Auditor" };

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Server messages are written for logs ("enter a valid email address"); make them sentences. */
function sentence(text: string): string {
  const trimmed = text.trim();
  if (trimmed === "") return trimmed;
  const capital = trimmed[0]?.toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

function errorText(err: unknown, fallback: string): string {
  if (err instanceof ApiError) {
    if (err.status === 0) return err.message;
    if (err.code === "FORBIDDEN" || err.status === 403) return sentence(err.message || "You are not allowed to do that");
    return sentence(err.message);
  }
  return fallback;
}

interface ShareDialogProps {
  doc: DocMeta;
  onClose: () => void;
  onAccessChanged?: () => void;
}

export default function ShareDialog({ doc, onClose, onAccessChanged }: ShareDialogProps): ReactNode {
  const dialogRef = useRef<HTMLDialogElement>(null);
  const emailRef = useRef<HTMLInputElement>(null);
  const session = useSession().session;
  const selfId = session?.user.id ?? "";
  const selfEmail = session?.user.email.toLowerCase() ?? "";
  const navigate = useNavigate();
  const titleId = useId();
  const emailId = useId();

  const [members, setMembers] = useState<Members | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [email, setEmail] = useState("");
  const [inviteRole, setInviteRole] = useState<ShareRole>("editor");
  const [inviting, setInviting] = useState(false);
  /** The row (user id or invitation email) with a request in flight. */
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState("");
  const [notice, setNotice] = useState("");
  const [confirmLeave, setConfirmLeave] = useState(false);
  /** The member whose removal waits for a second click. */
  const [confirmRemove, setConfirmRemove] = useState<string | null>(null);
  /** The member just removed, who can be let back in with the role they had. */
  const [removed, setRemoved] = useState<Member | null>(null);

  const managesMembers = canManageMembers(doc.role);
  const canInvite = canShare(doc.role);

  useEffect(() => {
    const dialog = dialogRef.current;
    if (dialog && !dialog.open) dialog.showModal();
    (canInvite ? emailRef.current : dialog)?.focus();
  }, [canInvite]);

  useEffect(() => {
    const controller = new AbortController();
    api.members.list(doc.id, controller.signal).then(setMembers, (err: unknown) => {
      if (!isAbortError(err)) setLoadError(errorText(err, "Could not load who has access."));
    });
    return () => controller.abort();
  }, [doc.id]);

  const changed = (next: Members | null, message: string): void => {
    if (next) setMembers(next);
    setError("");
    setNotice(message);
    setRemoved(null);
    onAccessChanged?.();
  };

  const reload = async (): Promise<void> => {
    setMembers(await api.members.list(doc.id));
  };

  /** Moved to another workspace: who reaches it through one changed, so the lists are read again. */
  const changedPlace = (message: string): void => {
    changed(null, message);
    void reload().catch(() => undefined);
  };

  const nameOf = personName;

  const invite = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    const address = email.trim().toLowerCase();
    setNotice("");
    if (!EMAIL.test(address)) {
      setError("Enter a valid email address, like ada@example.com.");
      emailRef.current?.focus();
      return;
    }
    if (address === selfEmail) {
      setError(`That is your own address: you already have access to this document, as ${ROLE_LABELS[doc.role].toLowerCase()}.`);
      emailRef.current?.focus();
      return;
    }
    const existing = members?.members.find((m) => m.email.toLowerCase() === address);
    if (existing?.role === inviteRole) {
      setError(`${nameOf(existing)} is already ${inviteRole === "editor" ? "an" : "a"} ${inviteRole}.`);
      return;
    }
    setInviting(true);
    setError("");
    try {
      const next = await api.members.invite(doc.id, { email: address, role: inviteRole });
      const member = next.members.find((m) => m.email.toLowerCase() === address);
      changed(
        next,
        member
          ? `${nameOf(member)} can now open this document as ${ROLE_LABELS[member.role].toLowerCase()}.`
          : `Invited ${address} as ${inviteRole}: we emailed them a link that lets them in once they sign in or sign up.`,
      );
      setEmail("");
    } catch (err) {
      setError(errorText(err, "Could not share the document."));
    } finally {
      setInviting(false);
      emailRef.current?.focus();
    }
  };

  const changeRole = async (member: Member, role: ShareRole): Promise<void> => {
    setBusy(member.userId);
    setNotice("");
    try {
      changed(await api.members.changeRole(doc.id, member.userId, role), `${nameOf(member)} is now ${role === "editor" ? "an" : "a"} ${role}.`);
    } catch (err) {
      setError(errorText(err, "Could not change the role."));
      await reload().catch(() => undefined);
    } finally {
      setBusy(null);
    }
  };

  const remove = async (member: Member): Promise<void> => {
    setBusy(member.userId);
    setNotice("");
    setConfirmRemove(null);
    try {
      await api.members.remove(doc.id, member.userId);
      setMembers((current) => (current ? { ...current, members: current.members.filter((m) => m.userId !== member.userId) } : current));
      changed(null, `${nameOf(member)} no longer has access.`);
      setRemoved(member);
    } catch (err) {
      setError(errorText(err, "Could not remove them."));
    } finally {
      setBusy(null);
    }
  };

  /** Lets the member just removed back in, with the role they had. */
  const undoRemove = async (member: Member): Promise<void> => {
    setBusy(member.userId);
    try {
      changed(await api.members.invite(doc.id, { email: member.email, role: member.role as ShareRole }), `${nameOf(member)} has access again, as ${ROLE_LABELS[member.role].toLowerCase()}.`);
    } catch (err) {
      setError(errorText(err, "Could not give them access again."));
    } finally {
      setBusy(null);
    }
  };

  const cancelInvitation = async (invitation: Invitation): Promise<void> => {
    setBusy(invitation.email);
    setNotice("");
    try {
      await api.members.cancelInvitation(doc.id, invitation.email);
      setMembers((current) => (current ? { ...current, invitations: current.invitations.filter((i) => i.email !== invitation.email) } : current));
      changed(null, `The invitation for ${invitation.email} was cancelled.`);
    } catch (err) {
      setError(errorText(err, "Could not cancel the invitation."));
    } finally {
      setBusy(null);
    }
  };

  const leave = async (): Promise<void> => {
    setBusy(selfId);
    try {
      await api.members.remove(doc.id, selfId);
      onAccessChanged?.();
      navigate("/", { replace: true });
    } catch (err) {
      setError(errorText(err, "Could not leave the document."));
      setBusy(null);
    }
  };

  const copyLink = async (): Promise<void> => {
    const link = `${location.origin}${documentPath(doc)}`;
    try {
      await navigator.clipboard.writeText(link);
      setNotice("Link copied. Only people with access can open it.");
    } catch {
      setNotice(`Copy this link: ${link}`);
    }
  };

  const roleControl = (member: Member): ReactNode => {
    const self = member.userId === selfId;
    if (member.role === "owner") return <span className="share-role-text">Owner</span>;
    if (self) {
      return (
        <span className="share-row-actions">
          <span className="share-role-text">{ROLE_LABELS[member.role]}</span>
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
    if (!managesMembers) return <span className="share-role-text">{ROLE_LABELS[member.role]}</span>;
    const name = nameOf(member);
    return (
      <span className="share-row-actions">
        <select
          aria-label={`Role of ${name}`}
          value={member.role}
          disabled={busy !== null}
          onChange={(event) => void changeRole(member, event.target.value as ShareRole)}
        >
          {SHARE_ROLES.map((r) => (
            <option key={r.role} value={r.role}>
              {r.label}
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
          <button
            type="button"
            className="icon-button"
            aria-label={`Remove ${name}`}
            title={`Remove ${name}`}
            disabled={busy !== null}
            onClick={() => setConfirmRemove(member.userId)}
          >
            <svg viewBox="0 0 20 20" aria-hidden="true">
              <path d="M5 5l10 10M15 5 5 15" />
            </svg>
          </button>
        )}
      </span>
    );
  };

  const people = members?.members ?? [];
  const invitations = members?.invitations ?? [];

  return (
    <dialog
      ref={dialogRef}
      className="share-dialog"
      aria-labelledby={titleId}
      data-testid="share-dialog"
      // A dialog opened from this one (moving the document) closes on its own: only this one's close closes it.
      onClose={(event) => {
        if (event.target === dialogRef.current) onClose();
      }}
      // A click on the backdrop lands on the dialog element itself.
      onClick={(event) => {
        if (event.target === dialogRef.current) dialogRef.current.close();
      }}
    >
      <div className="share-body">
        <header className="share-header">
          <h2 id={titleId}>
            Share <span className="share-doc-title">“{doc.title || "Untitled"}”</span>
          </h2>
          <button type="button" className="icon-button" aria-label="Close" onClick={() => dialogRef.current?.close()}>
            <svg viewBox="0 0 20 20" aria-hidden="true">
              <path d="M5 5l10 10M15 5 5 15" />
            </svg>
          </button>
        </header>

        {canInvite ? (
          <form className="share-invite" onSubmit={(event) => void invite(event)} noValidate>
            <label htmlFor={emailId} className="visually-hidden">
              Email address to share with
            </label>
            <input
              ref={emailRef}
              id={emailId}
              type="email"
              placeholder="Add people by email"
              autoComplete="off"
              value={email}
              onChange={(event) => {
                setEmail(event.target.value);
                setError("");
              }}
              disabled={inviting}
            />
            <select aria-label="Role for the invitation" value={inviteRole} onChange={(event) => setInviteRole(event.target.value as ShareRole)} disabled={inviting}>
              {SHARE_ROLES.map((r) => (
                <option key={r.role} value={r.role}>
                  {r.label}
                </option>
              ))}
            </select>
            <button type="submit" className="button button-primary" disabled={inviting || email.trim() === ""}>
              {inviting ? "Inviting…" : "Invite"}
            </button>
          </form>
        ) : null}
        {canInvite ? (
          <p className="share-note">Editors change the text and can share it; commenters read it and comment on it; viewers only read it; auditors read it and its whole history, and change nothing.</p>
        ) : (
          <p className="share-note">You are a {doc.role} of this document. Only its owner and editors can share it.</p>
        )}

        <p className="form-alert" role="alert">
          {error || loadError || ""}
        </p>
        <p className="share-notice" role="status">
          {notice}
          {removed && (
            <>
              {" "}
              <button type="button" className="link-button" disabled={busy !== null} onClick={() => void undoRemove(removed)}>
                Undo
              </button>
            </>
          )}
        </p>

        <PlaceSection doc={doc} workspaceName={members?.workspace?.name ?? null} onMoved={(message) => changedPlace(message)} />

        <section aria-label="People with access">
          <h3 className="share-section-title">People with access</h3>
          {members === null && loadError === null ? (
            <p className="muted share-loading">Loading…</p>
          ) : (
            <ul className="share-list" data-testid="share-members">
              {people.map((member) => (
                <PersonRow key={member.userId} person={member} self={member.userId === selfId} busy={busy === member.userId}>
                  {roleControl(member)}
                </PersonRow>
              ))}
            </ul>
          )}
        </section>

        {members?.workspace && (
          <section aria-label={`Through the workspace ${members.workspace.name}`} data-testid="share-workspace">
            <h3 className="share-section-title">
              Through the workspace {members.workspace.name} · {members.workspace.members.length}
            </h3>
            <p className="share-note">Everyone in it reaches this document by their workspace role; a share above adds to it. Manage them in the workspace's settings.</p>
            <ul className="share-list">
              {members.workspace.members.map((member) => (
                <PersonRow key={member.userId} person={member} self={member.userId === selfId} busy={false}>
                  <span className="share-role-text">{ROLE_LABELS[member.role]}</span>
                </PersonRow>
              ))}
            </ul>
          </section>
        )}

        {invitations.length > 0 && (
          <section aria-label="Pending invitations">
            <h3 className="share-section-title">Invited, not signed up yet</h3>
            <ul className="share-list" data-testid="share-invitations">
              {invitations.map((invitation) => (
                <InvitationRow
                  key={invitation.email}
                  email={invitation.email}
                  role={ROLE_LABELS[invitation.role]}
                  busy={busy === invitation.email}
                  disabled={busy !== null}
                  cancel={canInvite ? () => void cancelInvitation(invitation) : null}
                />
              ))}
            </ul>
          </section>
        )}

        {canInvite && !managesMembers && <p className="share-note">Only the owner can change roles or remove people.</p>}

        {can(doc.role, "manageWebhooks") && <WebhooksSection docId={doc.id} />}

        <footer className="share-footer">
          <button type="button" className="button" onClick={() => void copyLink()}>
            <svg className="button-icon" viewBox="0 0 20 20" aria-hidden="true">
              <path d="M8.5 11.5a3.5 3.5 0 0 0 5 0l2.5-2.5a3.5 3.5 0 0 0-5-5l-1 1M11.5 8.5a3.5 3.5 0 0 0-5 0L4 11a3.5 3.5 0 0 0 5 5l1-1" />
            </svg>
            Copy link
          </button>
          <button type="button" className="button button-primary" onClick={() => dialogRef.current?.close()}>
            Done
          </button>
        </footer>
      </div>
    </dialog>
  );
}
