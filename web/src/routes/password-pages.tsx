import { useId, useState } from "react";
import type { FormEvent, ReactNode } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { api } from "../api/api-client";
import { ApiError } from "../api/http";
import { signOut, useSession } from "../auth/use-session";
import { AppHeader } from "../components/app-header";
import { AuthCard } from "../components/auth-card";
import { ApiTokensSection } from "./api-tokens-section";

const MIN_PASSWORD_LENGTH = 10;
const failure = (err: unknown) => (err instanceof ApiError ? err.message : "Something went wrong. Please try again.");

function PasswordField(props: { id: string; label: string; value: string; onChange: (v: string) => void; autoComplete: string; min?: number }): ReactNode {
  return (
    <div className="field">
      <label htmlFor={props.id}>{props.label}</label>
      <input
        id={props.id}
        type="password"
        autoComplete={props.autoComplete}
        required
        minLength={props.min}
        value={props.value}
        onChange={(event) => props.onChange(event.target.value)}
      />
    </div>
  );
}

/** Asks for a reset link by email; says the same whether or not the address has an account. */
export function ForgotPasswordPage(): ReactNode {
  const ids = useId();
  const [email, setEmail] = useState("");
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    try {
      await api.auth.forgotPassword(email.trim());
      setMessage("If an account has this email, a link to choose a new password is on its way.");
    } catch (err) {
      setMessage(failure(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <AuthCard title="Forgot your password?">
      <form className="auth-form" onSubmit={(event) => void submit(event)}>
        <div className="field">
          <label htmlFor={`${ids}-email`}>Email</label>
          <input id={`${ids}-email`} type="email" autoComplete="email" required value={email} onChange={(event) => setEmail(event.target.value)} />
        </div>
        <p className="form-alert" role="alert">
          {message}
        </p>
        <button type="submit" className="button button-primary button-block" disabled={busy}>
          Email me a link
        </button>
      </form>
      <p className="auth-switch">
        <Link to="/">Back to sign in</Link>
      </p>
    </AuthCard>
  );
}

/** Where the emailed reset link lands: a new password, then sign in with it. */
export function ResetPasswordPage(): ReactNode {
  const { token = "" } = useParams();
  const ids = useId();
  const [password, setPassword] = useState("");
  const [message, setMessage] = useState("");
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    try {
      await api.auth.resetPassword({ token, password });
      setDone(true);
      setMessage("Your password is changed, and you are signed out everywhere. Sign in with the new one.");
    } catch (err) {
      setMessage(failure(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <AuthCard title="Choose a new password">
      {!done && (
        <form className="auth-form" onSubmit={(event) => void submit(event)}>
          <PasswordField id={`${ids}-password`} label="New password" value={password} onChange={setPassword} autoComplete="new-password" min={MIN_PASSWORD_LENGTH} />
          <p className="form-alert" role="alert">
            {message}
          </p>
          <button type="submit" className="button button-primary button-block" disabled={busy}>
            Set password
          </button>
        </form>
      )}
      {done && <p role="status">{message}</p>}
      <p className="auth-switch">
        <Link to="/">Sign in</Link>
      </p>
    </AuthCard>
  );
}

/** The account page: change the password, or sign out on every device. */
export function AccountPage(): ReactNode {
  const { session } = useSession();
  const navigate = useNavigate();
  const ids = useId();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);

  const change = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    try {
      await api.auth.changePassword({ currentPassword: current, newPassword: next });
      setCurrent("");
      setNext("");
      setMessage("Password changed. Your other sessions are signed out.");
    } catch (err) {
      setMessage(failure(err));
    } finally {
      setBusy(false);
    }
  };

  const everywhere = async (): Promise<void> => {
    if (!window.confirm("Sign out on every device, this one included?")) return;
    setBusy(true);
    try {
      await api.auth.logoutEverywhere();
    } catch (err) {
      setMessage(failure(err));
      setBusy(false);
      return;
    }
    await signOut();
    navigate("/", { replace: true });
  };

  return (
    <div className="page">
      <AppHeader />
      <main className="auth-card">
        <h1 className="auth-title">Your account</h1>
        <p className="muted">{session?.user.email}</p>
        <form className="auth-form" onSubmit={(event) => void change(event)}>
          <h2>Change password</h2>
          <PasswordField id={`${ids}-current`} label="Current password" value={current} onChange={setCurrent} autoComplete="current-password" />
          <PasswordField id={`${ids}-new`} label="New password" value={next} onChange={setNext} autoComplete="new-password" min={MIN_PASSWORD_LENGTH} />
          <p className="form-alert" role="alert">
            {message}
          </p>
          <button type="submit" className="button button-primary" disabled={busy}>
            Change password
          </button>
        </form>
        <h2>Sessions</h2>
        <button type="button" className="button" onClick={() => void everywhere()} disabled={busy}>
          Sign out everywhere
        </button>
        <ApiTokensSection />
      </main>
    </div>
  );
}
