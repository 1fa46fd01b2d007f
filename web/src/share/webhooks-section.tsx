// The owner's webhooks, in the share dialog: what each sends where, add one (its signing secret is
// shown once, right then), the last deliveries with their attempts, send the failed ones again,
// delete. The server checks every URL again (where it points, SSRF) and decides who may do this.

import { useCallback, useEffect, useState } from "react";
import type { FormEvent, ReactNode } from "react";
import { WebhookEventTypes } from "@palimpsest/contracts/shared";
import { api } from "../api/api-client";
import { ApiError } from "../api/http";
import type { RegisteredWebhook, WebhookDeliveryView, WebhookEventType, WebhookView } from "../api/types";
import { exactTime, timeAgo } from "../lib/format";

const errorText = (err: unknown): string => (err instanceof ApiError && err.message ? err.message : "That did not work; try again.");

function Deliveries({ hook }: { hook: WebhookView }): ReactNode {
  const [items, setItems] = useState<WebhookDeliveryView[] | null>(null);
  const [notice, setNotice] = useState("");
  const load = useCallback((signal?: AbortSignal) => {
    api.webhooks.deliveries(hook.id, signal).then((list) => setItems(list.items), () => undefined);
  }, [hook.id]);
  useEffect(() => {
    const controller = new AbortController();
    load(controller.signal);
    return () => controller.abort();
  }, [load]);
  const replay = async (): Promise<void> => {
    try {
      const { replayed } = await api.webhooks.replay(hook.id);
      setNotice(replayed === 1 ? "1 delivery will be sent again." : `${replayed} deliveries will be sent again.`);
      load();
    } catch (err) {
      setNotice(errorText(err));
    }
  };
  return (
    <div className="webhook-deliveries">
      {items === null ? (
        <p className="share-loading">Loading deliveries…</p>
      ) : items.length === 0 ? (
        <p className="share-note">Nothing sent yet.</p>
      ) : (
        <ul className="share-list">
          {items.map((d) => {
            const last = d.attempts[0];
            return (
              <li key={d.id} className="share-row">
                <span className="share-person">
                  <span className="share-name">
                    {d.type} · {d.status}
                  </span>
                  <span className="share-email" title={d.id}>
                    {last ? `${last.statusCode ?? last.error ?? "no answer"} in ${last.durationMs} ms, ` : ""}
                    {d.attempts.length} attempt{d.attempts.length === 1 ? "" : "s"} · <time title={exactTime(d.createdAt)}>{timeAgo(d.createdAt)}</time>
                  </span>
                </span>
              </li>
            );
          })}
        </ul>
      )}
      <button type="button" className="button button-quiet" onClick={() => void replay()}>
        {hook.disabled ? "Turn on and resend failed" : "Resend failed"}
      </button>
      <p className="share-notice" role="status">
        {notice}
      </p>
    </div>
  );
}

export function WebhooksSection({ docId }: { docId: string }): ReactNode {
  const [hooks, setHooks] = useState<WebhookView[] | null>(null);
  const [url, setUrl] = useState("");
  const [events, setEvents] = useState<WebhookEventType[]>(["doc.renamed", "comment.created"]);
  const [created, setCreated] = useState<RegisteredWebhook | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [error, setError] = useState("");

  const load = useCallback((signal?: AbortSignal) => {
    api.webhooks.list(docId, signal).then((list) => setHooks(list.items), () => undefined);
  }, [docId]);
  useEffect(() => {
    const controller = new AbortController();
    load(controller.signal);
    return () => controller.abort();
  }, [load]);

  const add = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setError("");
    try {
      setCreated(await api.webhooks.create(docId, { url: url.trim(), events }));
      setUrl("");
      load();
    } catch (err) {
      setError(errorText(err));
    }
  };
  const remove = async (hook: WebhookView): Promise<void> => {
    try {
      await api.webhooks.remove(hook.id);
      if (created?.id === hook.id) setCreated(null);
      load();
    } catch (err) {
      setError(errorText(err));
    }
  };
  const toggle = (type: WebhookEventType): void => setEvents((now) => (now.includes(type) ? now.filter((t) => t !== type) : [...now, type]));

  return (
    <section aria-label="Webhooks" data-testid="webhooks">
      <h3 className="share-section-title">Webhooks</h3>
      {hooks !== null && hooks.length > 0 && (
        <ul className="share-list">
          {hooks.map((hook) => (
            <li key={hook.id} className="share-row webhook-row">
              <span className="share-person">
                <span className="share-name">{hook.url}</span>
                <span className="share-email">
                  {hook.disabled ? `Turned off: ${hook.disabledReason ?? "deliveries kept failing"}` : hook.events.join(", ")}
                </span>
              </span>
              <button type="button" className="button button-quiet" aria-expanded={open === hook.id} onClick={() => setOpen(open === hook.id ? null : hook.id)}>
                Deliveries
              </button>
              <button type="button" className="button button-quiet" aria-label={`Delete the webhook to ${hook.url}`} onClick={() => void remove(hook)}>
                Delete
              </button>
              {open === hook.id && <Deliveries hook={hook} />}
            </li>
          ))}
        </ul>
      )}
      {created && (
        <p className="share-notice" role="status">
          Signing secret for {created.url} (shown only now): <code>{created.secret}</code>
        </p>
      )}
      <form className="webhook-form" onSubmit={(e) => void add(e)}>
        <input type="url" required placeholder="https://example.com/hooks/palimpsest" aria-label="Webhook URL" value={url} onChange={(e) => setUrl(e.target.value)} />
        <fieldset>
          <legend>Send</legend>
          {WebhookEventTypes.map((type) => (
            <label key={type}>
              <input type="checkbox" checked={events.includes(type)} onChange={() => toggle(type)} /> {type}
            </label>
          ))}
        </fieldset>
        <button type="submit" className="button" disabled={url.trim() === "" || events.length === 0}>
          Add webhook
        </button>
      </form>
      {error && (
        <p className="share-note" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
