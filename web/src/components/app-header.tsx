import { useState } from "react";
import type { ReactNode } from "react";
import { Link, useNavigate } from "react-router-dom";
import { signOut, unsyncedDocumentTitles, useSession } from "../auth/use-session";
import { colorForUser, initialsOf } from "../lib/user-color";
import { InboxButton } from "../inbox/inbox-button";

export function BrandMark(): ReactNode {
  return (
    <span className="brand">
      <svg className="brand-icon" viewBox="0 0 24 24" aria-hidden="true">
        <rect x="4" y="3" width="14" height="18" rx="2" fill="none" stroke="currentColor" strokeWidth="1.6" />
        <path d="M7.5 8h7M7.5 11.5h7M7.5 15h4" stroke="currentColor" strokeWidth="1.6" strokeLinecap="round" opacity="0.55" />
        <path d="M8 4.5 20 3.5v15" fill="none" stroke="currentColor" strokeWidth="1.2" opacity="0.35" />
      </svg>
      <span className="brand-name">Palimpsest</span>
    </span>
  );
}

export function AppHeader({ children }: { children?: ReactNode }): ReactNode {
  const { session } = useSession();
  const navigate = useNavigate();
  const [signingOut, setSigningOut] = useState(false);

  const handleSignOut = async (): Promise<void> => {
    // Signing out removes this person's documents from this device, unsynced edits included.
    const unsynced = unsyncedDocumentTitles();
    if (
      unsynced.length > 0 &&
      !window.confirm(
        `Some changes haven't reached the server yet (${unsynced.join(", ")}). Signing out removes them from this device. Sign out anyway?`,
      )
    ) {
      return;
    }
    setSigningOut(true);
    await signOut();
    navigate("/", { replace: true });
  };

  return (
    <header className="app-header">
      <Link to="/" className="brand-link" aria-label="Palimpsest, all documents">
        <BrandMark />
      </Link>
      <div className="app-header-middle">{children}</div>
      {session && (
        <div className="account">
          <InboxButton />
          <span className="avatar avatar-small" style={{ backgroundColor: colorForUser(session.user.id) }} aria-hidden="true">
            {initialsOf(session.user.name)}
          </span>
          <Link className="account-name" title={`${session.user.email}: password and sessions`} to="/account">
            {session.user.name}
          </Link>
          <button type="button" className="button button-quiet" onClick={() => void handleSignOut()} disabled={signingOut}>
            {signingOut ? "Signing out…" : "Sign out"}
          </button>
        </div>
      )}
    </header>
  );
}
