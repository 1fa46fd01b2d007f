// The account page's API tokens: make one for a bot or script (its value is shown once, to copy),
// see the ones there are (scopes, expiry, last use) and revoke them.

import { useCallback, useEffect, useId, useState } from "react";
import type { FormEvent, ReactNode } from "react";
import { ApiTokenScopes } from "@palimpsest/contracts/shared";
import { api } from "../api/api-client";
import { ApiError } from "../api/http";
import type { ApiToken, ApiTokenScope, CreatedApiToken } from "../api/types";

const SCOPE_LABELS: Record<ApiTokenScope, string> = {
  read: "read documents",
  comment: "comment",
  write: "edit",
};

/** Expiry choices, in days; none: until revoked. The server refuses more than a year. */
const EXPIRY_CHOICES = [
  { label: "30 days", days: 30 },
  { label: "90 days", days: 90 },
  { label: "1 year", days: 365 },
  { label: "Never (until revoked)", days: null },
] as const;

const failure = (err: unknown) => (err instanceof ApiError ? err.message : "Something went wrong. Please try again.");
const when = (iso: string | null, none: string) => (iso ? new Date(iso).toLocaleString() : none);

export function ApiTokensSection(): ReactNode {
  const ids = useId();
  const [tokens, setTokens] = useState<ApiToken[] | null>(null);
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<ApiTokenScope[]>(["read"]);
  const [expiryDays, setExpiryDays] = useState<number | null>(90);
  const [created, setCreated] = useState<CreatedApiToken | null>(null);
  const [copied, setCopied] = useState(false);
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);

  const load = useCallback(async (signal?: AbortSignal) => {
    try {
      const { items } = await api.auth.apiTokens(signal);
      if (!signal?.aborted) setTokens(items);
    } catch (err) {
      if (!signal?.aborted) setMessage(failure(err));
    }
  }, []);

  useEffect(() => {
    const controller = new AbortController();
    void load(controller.signal);
    return () => controller.abort();
  }, [load]);

  const toggle = (scope: ApiTokenScope) => setScopes((s) => (s.includes(scope) ? s.filter((x) => x !== scope) : [...s, scope]));

  const create = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    if (scopes.length === 0) {
      setMessage("Choose at least one scope.");
      return;
    }
    setBusy(true);
    setMessage("");
    try {
      const expiresAt = expiryDays === null ? undefined : new Date(Date.now() + expiryDays * 86_400_000).toISOString();
      const token = await api.auth.createApiToken({ name, scopes: ApiTokenScopes.filter((s) => scopes.includes(s)), ...(expiresAt ? { expiresAt } : {}) });
      setCreated(token);
      setCopied(false);
      setName("");
      await load();
    } catch (err) {
      setMessage(failure(err));
    } finally {
      setBusy(false);
    }
  };

  const copy = async (): Promise<void> => {
    if (!created) return;
    try {
      await navigator.clipboard.writeText(created.token);
      setCopied(true);
    } catch {
      setMessage("Copying was not allowed; select the token and copy it by hand.");
    }
  };

  const revoke = async (token: ApiToken): Promise<void> => {
    if (!window.confirm(`Revoke "${token.name}"? Scripts using it stop working at once.`)) return;
    setBusy(true);
    try {
      await api.auth.revokeApiToken(token.id);
      if (created?.id === token.id) setCreated(null);
      await load();
    } catch (err) {
      setMessage(failure(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="api-tokens" aria-labelledby={`${ids}-title`}>
      <h2 id={`${ids}-title`}>API tokens</h2>
      <p className="muted">
        For bots and scripts: send a token as <code>Authorization: Bearer …</code>, or as <code>?token=</code> on /collab. It never has more rights than
        you have on a document, and cannot manage your account.
      </p>
      {created && (
        <div className="api-token-created" role="status">
          <p>
            <strong>{created.name}</strong>: copy this token now. It will not be shown again.
          </p>
          <div className="api-token-value">
            <input readOnly value={created.token} aria-label="The new token" onFocus={(event) => event.currentTarget.select()} />
            <button type="button" className="button" onClick={() => void copy()}>
              {copied ? "Copied" : "Copy"}
            </button>
          </div>
          <button type="button" className="button button-quiet" onClick={() => setCreated(null)}>
            Done
          </button>
        </div>
      )}
      <form className="auth-form" onSubmit={(event) => void create(event)}>
        <div className="field">
          <label htmlFor={`${ids}-name`}>Name</label>
          <input id={`${ids}-name`} required maxLength={100} value={name} placeholder="e.g. Release bot" onChange={(event) => setName(event.target.value)} />
        </div>
        <fieldset className="field api-token-scopes">
          <legend>May</legend>
          {ApiTokenScopes.map((scope) => (
            <label key={scope}>
              <input type="checkbox" checked={scopes.includes(scope)} onChange={() => toggle(scope)} /> {SCOPE_LABELS[scope]}
            </label>
          ))}
        </fieldset>
        <div className="field">
          <label htmlFor={`${ids}-expiry`}>Expires</label>
          <select
            id={`${ids}-expiry`}
            value={expiryDays === null ? "never" : String(expiryDays)}
            onChange={(event) => setExpiryDays(event.target.value === "never" ? null : Number(event.target.value))}
          >
            {EXPIRY_CHOICES.map((c) => (
              <option key={c.label} value={c.days === null ? "never" : String(c.days)}>
                {c.label}
              </option>
            ))}
          </select>
        </div>
        <p className="form-alert" role="alert">
          {message}
        </p>
        <button type="submit" className="button button-primary" disabled={busy}>
          Create token
        </button>
      </form>
      {tokens === null ? (
        <p className="muted">Loading tokens…</p>
      ) : tokens.length === 0 ? (
        <p className="muted">No tokens yet.</p>
      ) : (
        <ul className="api-token-list">
          {tokens.map((t) => (
            <li key={t.id}>
              <div>
                <strong>{t.name}</strong> <span className="muted">({t.scopes.join(", ")})</span>
                <div className="muted api-token-meta">
                  Expires {when(t.expiresAt, "never")} · Last used {when(t.lastUsedAt, "never")}
                </div>
              </div>
              <button type="button" className="button" onClick={() => void revoke(t)} disabled={busy}>
                Revoke
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
