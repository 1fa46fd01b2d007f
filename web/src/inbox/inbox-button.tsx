// The inbox in the header: how many notifications are unread, and the list of them (a mention,
// a reply in a thread of mine, a document shared with me, a webhook of mine turned off). Opening
// one goes to its document and marks it read. The list is read again whenever the live stream
// says it changed, and besides every little while (should the stream be down), when the tab
// comes back, and when it opens. Its footer chooses which notifications also come by email.

import { useCallback, useEffect, useId, useRef, useState } from "react";
import type { ReactNode } from "react";
import { useNavigate } from "react-router-dom";
import { api } from "../api/api-client";
import type { NotificationList, NotificationSettings, NotificationView } from "../api/types";
import { followInbox } from "./live-inbox";
import { timeAgo, exactTime } from "../lib/format";
import { documentPath } from "../lib/paths";
import "./inbox.css";

const POLL_MS = 60_000;

const EMAIL_CHOICES: { value: NotificationSettings["email"]; label: string }[] = [
  { value: "all", label: "All notifications" },
  { value: "mentions", label: "Mentions only" },
  { value: "none", label: "Never" },
];

function sentence(n: NotificationView): string {
  const who = n.actorName || "Someone";
  const doc = n.docTitle ? `“${n.docTitle}”` : "a document";
  switch (n.type) {
    case "mention":
      return `${who} mentioned you in ${doc}`;
    case "reply":
      return `${who} replied in ${doc}`;
    case "share":
      return `${who} shared ${doc} with you`;
    case "webhook_disabled":
      return `A webhook of ${doc} was turned off`;
  }
}

export function InboxButton(): ReactNode {
  const [list, setList] = useState<NotificationList>({ items: [], unread: 0 });
  const [open, setOpen] = useState(false);
  const navigate = useNavigate();
  const panelId = useId();
  const root = useRef<HTMLDivElement>(null);

  const latest = useRef(0);
  const refresh = useCallback(() => {
    // Only the newest question's answer counts: a slow poll does not undo a fresher list.
    const request = ++latest.current;
    api.notifications.list().then((list) => {
      if (request === latest.current) setList(list);
    }, () => undefined);
  }, []);

  useEffect(() => {
    refresh();
    const unfollow = followInbox(refresh);
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") refresh();
    }, POLL_MS);
    const onVisible = (): void => {
      if (document.visibilityState === "visible") refresh();
    };
    document.addEventListener("visibilitychange", onVisible);
    return () => {
      unfollow();
      clearInterval(timer);
      document.removeEventListener("visibilitychange", onVisible);
    };
  }, [refresh]);

  const [email, setEmail] = useState<NotificationSettings["email"] | null>(null);
  const [emailError, setEmailError] = useState<string | null>(null);
  useEffect(() => {
    if (!open) return;
    const abort = new AbortController();
    api.notifications.settings(abort.signal).then((s) => setEmail(s.email), () => undefined);
    return () => abort.abort();
  }, [open]);
  const chooseEmail = (value: NotificationSettings["email"]): void => {
    const before = email;
    setEmail(value);
    setEmailError(null);
    api.notifications.changeSettings({ email: value }).then(
      (s) => setEmail(s.email),
      (err: unknown) => {
        setEmail(before);
        setEmailError(err instanceof Error ? err.message : "Could not save the setting.");
      },
    );
  };
  const emailSelectId = useId();

  // A click elsewhere or Escape closes the list.
  useEffect(() => {
    if (!open) return;
    const onDown = (e: PointerEvent): void => {
      if (root.current && e.target instanceof Node && !root.current.contains(e.target)) setOpen(false);
    };
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === "Escape") setOpen(false);
    };
    document.addEventListener("pointerdown", onDown);
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("pointerdown", onDown);
      document.removeEventListener("keydown", onKey);
    };
  }, [open]);

  const go = (n: NotificationView): void => {
    setOpen(false);
    if (!n.read) void api.notifications.read({ ids: [n.id] }).then(refresh, () => undefined);
    navigate(documentPath({ id: n.docId, kind: n.docKind }));
  };

  return (
    <div className="inbox" ref={root}>
      <button
        type="button"
        className={`button button-quiet inbox-button${open ? " button-pressed" : ""}`}
        aria-expanded={open}
        aria-controls={panelId}
        data-testid="inbox-button"
        title="Notifications"
        onClick={() => {
          if (!open) refresh();
          setOpen(!open);
        }}
      >
        <svg className="button-icon" viewBox="0 0 20 20" aria-hidden="true">
          <path d="M10 3a4.5 4.5 0 0 0-4.5 4.5v3L4 13.5h12l-1.5-3v-3A4.5 4.5 0 0 0 10 3ZM8 15.5a2 2 0 0 0 4 0" />
        </svg>
        <span className="visually-hidden">Notifications</span>
        {list.unread > 0 && (
          <span className="inbox-count" data-testid="inbox-count">
            {list.unread}
            <span className="visually-hidden"> unread</span>
          </span>
        )}
      </button>
      {open && (
        <div className="inbox-panel" id={panelId} role="region" aria-label="Notifications" data-testid="inbox-panel">
          <div className="inbox-header">
            <h2 className="inbox-title">Notifications</h2>
            {list.unread > 0 && (
              <button type="button" className="link-button" onClick={() => void api.notifications.read({ all: true }).then(refresh, () => undefined)}>
                Mark all read
              </button>
            )}
          </div>
          {list.items.length === 0 ? (
            <p className="muted inbox-empty">Nothing yet. When someone mentions you, replies to you or shares a document with you, it shows here.</p>
          ) : (
            <ul className="inbox-list">
              {list.items.map((n) => (
                <li key={n.id}>
                  <button type="button" className={`inbox-item${n.read ? "" : " inbox-item-unread"}`} data-testid="inbox-item" onClick={() => go(n)}>
                    <span className="inbox-sentence">{sentence(n)}</span>
                    {n.excerpt && <span className="inbox-excerpt">{n.excerpt}</span>}
                    <time className="muted inbox-time" dateTime={n.at} title={exactTime(n.at)}>
                      {timeAgo(n.at)}
                    </time>
                  </button>
                </li>
              ))}
            </ul>
          )}
          <div className="inbox-footer">
            <label htmlFor={emailSelectId}>Email me</label>
            <select
              id={emailSelectId}
              className="inbox-email"
              data-testid="inbox-email"
              value={email ?? ""}
              disabled={email === null}
              onChange={(e) => chooseEmail(e.target.value as NotificationSettings["email"])}
            >
              {email === null && <option value="">…</option>}
              {EMAIL_CHOICES.map((c) => (
                <option key={c.value} value={c.value}>
                  {c.label}
                </option>
              ))}
            </select>
            {emailError && (
              <p className="inbox-error" role="alert">
                {emailError}
              </p>
            )}
            <p className="muted inbox-footnote">Emails come a few minutes later, several at once, and not for what you read here first.</p>
          </div>
        </div>
      )}
    </div>
  );
}
