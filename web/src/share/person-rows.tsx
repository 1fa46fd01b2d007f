// The rows of the people lists in the share dialog and the workspace settings: a person with
// their avatar, name and email, or a pending invitation; what may be done to them goes after.

import type { ReactNode } from "react";
import { colorForUser, initialsOf } from "../lib/user-color";

/** A person's shown name: their name, else their email. */
export const personName = (p: { name: string; email: string }): string => p.name || p.email || "Someone";

export function PersonRow({ person, self, busy, children }: { person: { userId: string; name: string; email: string }; self: boolean; busy: boolean; children: ReactNode }): ReactNode {
  return (
    <li className="share-row" data-user-email={person.email} aria-busy={busy}>
      <span className="avatar" style={{ backgroundColor: colorForUser(person.userId) }} aria-hidden="true">
        {initialsOf(personName(person))}
      </span>
      <span className="share-person">
        <span className="share-name">
          {personName(person)}
          {self && <span className="muted"> (you)</span>}
        </span>
        <span className="share-email">{person.email}</span>
      </span>
      {children}
    </li>
  );
}

/** An email invited that has no account yet; `cancel` for those who may withdraw it. */
export function InvitationRow({ email, role, busy, disabled, cancel }: { email: string; role: string; busy: boolean; disabled: boolean; cancel: (() => void) | null }): ReactNode {
  return (
    <li className="share-row" data-invitation-email={email} aria-busy={busy}>
      <span className="avatar avatar-pending" aria-hidden="true">
        @
      </span>
      <span className="share-person">
        <span className="share-name">{email}</span>
        <span className="share-email">Pending invitation · {role.toLowerCase()}</span>
      </span>
      {cancel && (
        <button type="button" className="button button-quiet" aria-label={`Cancel the invitation for ${email}`} disabled={disabled} onClick={cancel}>
          Cancel invitation
        </button>
      )}
    </li>
  );
}
