import { useId, useState } from "react";
import { Link } from "react-router-dom";
import type { FormEvent, ReactNode } from "react";
import { ApiError } from "../api/http";
import { dismissNotice } from "../auth/session";
import { signIn, signUp, useSession } from "../auth/use-session";
import { AuthCard } from "../components/auth-card";

type Mode = "signin" | "signup";

/** The auth service's password rule (services/auth credentials.ts), told up front on sign-up. */
const MIN_PASSWORD_LENGTH = 10;

export function AuthScreen(): ReactNode {
  const { notice } = useSession();
  const [mode, setMode] = useState<Mode>("signin");
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  /** Signing up with an address that has an account: offer to sign in with it instead. */
  const [emailTaken, setEmailTaken] = useState(false);
  const [busy, setBusy] = useState(false);
  /** The address a registration link was sent to, where registering is confirmed by email. */
  const [sentTo, setSentTo] = useState<string | null>(null);
  const ids = useId();

  const switchMode = (next: Mode): void => {
    setMode(next);
    setError(null);
    setEmailTaken(false);
    dismissNotice();
  };

  const handleSubmit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setEmailTaken(false);
    try {
      if (mode === "signin") await signIn(email.trim(), password);
      else if ("pending" in (await signUp(name.trim(), email.trim(), password))) {
        setSentTo(email.trim());
        setPassword("");
        setBusy(false);
      }
      // Otherwise nothing else to do: Home swaps this screen for the dashboard (or the page the
      // visitor was heading to) as soon as the session exists.
    } catch (err) {
      setError(err instanceof ApiError ? err.message : "Something went wrong. Please try again.");
      setEmailTaken(err instanceof ApiError && err.code === "EMAIL_TAKEN");
      setBusy(false);
    }
  };

  const signingUp = mode === "signup";
  const message = error ?? notice ?? "";

  if (sentTo !== null) {
    return (
      <AuthCard title="Check your email">
        <p role="status" data-testid="registration-sent">
          We sent a link to <strong>{sentTo}</strong>. Open it to finish creating your account; it works once.
        </p>
        <p className="muted">Nothing there? Look in your spam folder, or register again in a few minutes.</p>
        <p className="auth-switch">
          <button type="button" className="link-button" onClick={() => { setSentTo(null); switchMode("signin"); }}>
            Back to sign in
          </button>
        </p>
      </AuthCard>
    );
  }

  return (
    <AuthCard title={signingUp ? "Create your account" : "Sign in"}>
      <p className="auth-subtitle muted">
        {signingUp ? "Write together, live. Every edit is kept." : "Welcome back. Your documents are waiting."}
      </p>

      <form className="auth-form" onSubmit={(event) => void handleSubmit(event)} aria-describedby={`${ids}-alert`}>
        {signingUp && (
          <div className="field">
            <label htmlFor={`${ids}-name`}>Name</label>
            <input
              id={`${ids}-name`}
              name="name"
              type="text"
              autoComplete="name"
              required
              value={name}
              onChange={(event) => setName(event.target.value)}
            />
          </div>
        )}
        <div className="field">
          <label htmlFor={`${ids}-email`}>Email</label>
          <input
            id={`${ids}-email`}
            name="email"
            type="email"
            autoComplete="email"
            required
            value={email}
            onChange={(event) => setEmail(event.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={`${ids}-password`}>Password</label>
          <input
            id={`${ids}-password`}
            name="password"
            type="password"
            autoComplete={signingUp ? "new-password" : "current-password"}
            required
            minLength={signingUp ? MIN_PASSWORD_LENGTH : undefined}
            aria-describedby={signingUp ? `${ids}-password-hint` : undefined}
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
          {signingUp && (
            <p id={`${ids}-password-hint`} className="field-hint muted">
              At least {MIN_PASSWORD_LENGTH} characters.
            </p>
          )}
        </div>

        <p id={`${ids}-alert`} className="form-alert" role="alert" data-testid="auth-error">
          {message}
          {emailTaken && signingUp && (
            <>
              {" "}
              <button type="button" className="link-button" onClick={() => switchMode("signin")}>
                Sign in instead
              </button>
            </>
          )}
        </p>

        <button type="submit" className="button button-primary button-block" disabled={busy}>
          {busy ? (signingUp ? "Creating account…" : "Signing in…") : signingUp ? "Create account" : "Sign in"}
        </button>
      </form>

      {!signingUp && (
        <p className="auth-switch">
          <Link to="/forgot-password">Forgot your password?</Link>
        </p>
      )}
      <p className="auth-switch">
        {signingUp ? "Already have an account?" : "New to Palimpsest?"}{" "}
        <button type="button" className="link-button" onClick={() => switchMode(signingUp ? "signin" : "signup")}>
          {signingUp ? "Sign in" : "Create an account"}
        </button>
      </p>
    </AuthCard>
  );
}
