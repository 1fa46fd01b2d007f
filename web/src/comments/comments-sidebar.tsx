// The comment threads beside a text or a board: the open ones (or the resolved ones), each with
// what it is about (the words, the card), its conversation, and what the reader may do with it:
// reply, resolve or reopen, change or delete their own words (the owner: delete anything).
// Starting a thread on the selection (words, a card) happens here too.

import { useId, useState } from "react";
import type { FormEvent, ReactNode } from "react";
import { canComment, can } from "@palimpsest/contracts/shared";
import { api } from "../api/api-client";
import { ApiError } from "../api/http";
import type { Comment, CommentAnchor, CommentThread, DocMeta } from "../api/types";
import { exactTime, timeAgo } from "../lib/format";
import { MentionInput, mentionsIn, type MentionValue } from "./mention-input";
import type { Comments } from "./use-comments";
import "./comments.css";

/** What a thread is about as it is now: its words (or card), gone (with why), or the whole document (null). */
export type ThreadSubject = { quote: string } | { detached: string } | null;

export interface CommentDraft {
  anchor: CommentAnchor;
  /** What the thread will be about, shown above the box. */
  quote: string;
}

export interface CommentsSidebarProps {
  doc: DocMeta;
  me: string;
  comments: Comments;
  subjectOf: (thread: CommentThread) => ThreadSubject;
  active: string | null;
  onActivate: (threadId: string | null) => void;
  draft: CommentDraft | null;
  onDraftDone: () => void;
  /** Why no new thread could start (nothing selected). */
  hint: string;
  /** Comment on the selection; `requestLabel` says what it is ("the selection", "the selected card"). */
  onRequest: () => void;
  requestLabel: string;
  onClose: () => void;
}

const failure = (err: unknown): string =>
  err instanceof ApiError ? err.message : "That did not go through: the connection seems to be down. Try again in a moment.";

export function CommentsSidebar({ doc, me, comments, subjectOf, active, onActivate, draft, onDraftDone, hint, onRequest, requestLabel, onClose }: CommentsSidebarProps): ReactNode {
  const [show, setShow] = useState<"open" | "resolved">("open");

  const open = comments.threads.filter((t) => !t.resolved);
  const resolved = comments.threads.filter((t) => t.resolved);
  const shown = show === "open" ? open : resolved;
  const mayComment = canComment(doc.role);
  const titleId = useId();

  return (
    <aside className="comments-sidebar" aria-labelledby={titleId} data-testid="comments-sidebar">
      <div className="comments-header">
        <h2 id={titleId} className="comments-title">
          Comments
        </h2>
        <button type="button" className="button button-compact button-quiet" onClick={onClose} aria-label="Close the comments">
          ×
        </button>
      </div>
      {mayComment && !draft && (
        <button
          type="button"
          className="button button-compact button-primary comments-new"
          // Keeps the editor's selection: the button takes no focus from it on a click.
          onMouseDown={(e) => e.preventDefault()}
          onClick={onRequest}
          title={`Comment on ${requestLabel}`}
        >
          Comment on {requestLabel}
        </button>
      )}
      {hint && !draft && (
        <p className="muted comments-hint" role="status">
          {hint}
        </p>
      )}
      <div className="comments-filter" role="group" aria-label="Which threads">
        <button type="button" className={`button button-compact${show === "open" ? " button-pressed" : ""}`} aria-pressed={show === "open"} onClick={() => setShow("open")}>
          Open ({open.length})
        </button>
        <button type="button" className={`button button-compact${show === "resolved" ? " button-pressed" : ""}`} aria-pressed={show === "resolved"} onClick={() => setShow("resolved")}>
          Resolved ({resolved.length})
        </button>
      </div>
      {draft && <NewThread doc={doc} me={me} draft={draft} onDone={(id) => { onDraftDone(); if (id) { setShow("open"); onActivate(id); comments.refresh(); } }} />}
      {comments.error && (
        <p className="banner banner-warning" role="status">
          {comments.error}
        </p>
      )}
      {comments.loaded && shown.length === 0 && !draft && (
        <p className="muted comments-empty">
          {show === "open"
            ? mayComment
              ? `No open comments. Select something and press “Comment on ${requestLabel}” to ask about it.`
              : "No open comments."
            : "No resolved comments."}
        </p>
      )}
      <ol className="comments-list">
        {shown.map((thread) => (
          <li key={thread.id}>
            <Thread
              thread={thread}
              doc={doc}
              me={me}
              subject={subjectOf(thread)}
              active={thread.id === active}
              onActivate={() => onActivate(thread.id)}
              onChanged={comments.refresh}
            />
          </li>
        ))}
      </ol>
    </aside>
  );
}

const EMPTY: MentionValue = { text: "", chosen: new Map() };

function NewThread({ doc, me, draft, onDone }: { doc: DocMeta; me: string; draft: CommentDraft; onDone: (threadId: string | null) => void }): ReactNode {
  const [value, setValue] = useState<MentionValue>(EMPTY);
  const body = value.text;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const submit = async (e?: FormEvent) => {
    e?.preventDefault();
    if (!body.trim() || busy) return;
    setBusy(true);
    try {
      const thread = await api.comments.create(doc.id, { body: body.trim(), anchor: draft.anchor, mentions: mentionsIn(value) });
      onDone(thread.id);
    } catch (err) {
      setError(failure(err));
      setBusy(false);
    }
  };
  return (
    <form className="comment-thread comment-new" onSubmit={submit} data-testid="new-comment">
      <blockquote className="comment-quote">{draft.quote}</blockquote>
      <label className="visually-hidden" htmlFor="new-comment-body">
        Your comment
      </label>
      <MentionInput
        docId={doc.id}
        me={me}
        id="new-comment-body"
        value={value}
        onChange={setValue}
        rows={3}
        placeholder="Add a comment; @ to mention someone"
        onSubmit={() => void submit()}
        onCancel={() => onDone(null)}
        autoFocus
      />
      {error && (
        <p className="comment-error" role="alert">
          {error}
        </p>
      )}
      <div className="comment-actions">
        <button type="submit" className="button button-compact button-primary" disabled={busy || !body.trim()}>
          Comment
        </button>
        <button type="button" className="button button-compact" onClick={() => onDone(null)}>
          Cancel
        </button>
      </div>
    </form>
  );
}

interface ThreadProps {
  thread: CommentThread;
  doc: DocMeta;
  me: string;
  subject: ThreadSubject;
  active: boolean;
  onActivate: () => void;
  onChanged: () => void;
}

function Thread({ thread, doc, me, subject, active, onActivate, onChanged }: ThreadProps): ReactNode {
  const [replyValue, setReplyValue] = useState<MentionValue>(EMPTY);
  const reply = replyValue.text;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const mayComment = canComment(doc.role);
  const run = async (action: () => Promise<unknown>) => {
    setBusy(true);
    setError("");
    try {
      await action();
      onChanged();
    } catch (err) {
      setError(failure(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <article
      className={`comment-thread${active ? " comment-thread-active" : ""}${thread.resolved ? " comment-thread-resolved" : ""}`}
      data-testid="comment-thread"
      data-thread-id={thread.id}
      aria-label={`Comment by ${thread.authorName || "someone"}`}
      onClick={onActivate}
      onFocusCapture={onActivate}
    >
      {subject &&
        ("detached" in subject ? (
          <p className="comment-detached" data-testid="comment-detached">
            {subject.detached}
          </p>
        ) : (
          <blockquote className="comment-quote" data-testid="comment-quote">
            {subject.quote}
          </blockquote>
        ))}
      <CommentBody comment={thread} doc={doc} me={me} onChanged={onChanged} />
      {thread.replies.map((r) => (
        <CommentBody key={r.id} comment={r} doc={doc} me={me} onChanged={onChanged} reply />
      ))}
      {thread.resolved && thread.resolvedAt && (
        <p className="muted comment-meta">Resolved {timeAgo(thread.resolvedAt)}</p>
      )}
      {mayComment && (
        <form
          className="comment-reply"
          onSubmit={(e) => {
            e.preventDefault();
            if (!reply.trim()) return;
            void run(async () => {
              await api.comments.reply(thread.id, { body: reply.trim(), mentions: mentionsIn(replyValue) });
              setReplyValue(EMPTY);
            });
          }}
        >
          <label className="visually-hidden" htmlFor={`reply-${thread.id}`}>
            Reply
          </label>
          <MentionInput
            docId={doc.id}
            me={me}
            id={`reply-${thread.id}`}
            value={replyValue}
            onChange={setReplyValue}
            rows={1}
            placeholder={thread.resolved ? "Reply to open it again" : "Reply"}
            onSubmit={() => document.getElementById(`reply-${thread.id}`)?.closest("form")?.requestSubmit()}
          />
          <div className="comment-actions">
            {reply.trim() !== "" && (
              <button type="submit" className="button button-compact button-primary" disabled={busy}>
                Reply
              </button>
            )}
            <button type="button" className="button button-compact" disabled={busy} onClick={() => void run(() => api.comments.update(thread.id, { resolved: !thread.resolved }))}>
              {thread.resolved ? "Reopen" : "Resolve"}
            </button>
          </div>
        </form>
      )}
      {error && (
        <p className="comment-error" role="alert">
          {error}
        </p>
      )}
    </article>
  );
}

function CommentBody({ comment, doc, me, onChanged, reply = false }: { comment: Comment; doc: DocMeta; me: string; onChanged: () => void; reply?: boolean }): ReactNode {
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(comment.body);
  const [error, setError] = useState("");
  const mine = comment.authorId === me && canComment(doc.role);
  const mayDelete = mine || (can(doc.role, "moderateComments") && canComment(doc.role));
  const edited = comment.updatedAt !== comment.createdAt;
  const act = async (action: () => Promise<unknown>) => {
    setError("");
    try {
      await action();
      setEditing(false);
      onChanged();
    } catch (err) {
      setError(failure(err));
    }
  };
  return (
    <div className={reply ? "comment comment-reply-item" : "comment"} data-testid="comment" data-comment-id={comment.id}>
      <p className="comment-meta">
        <span className="comment-author">{comment.authorName || "Someone"}</span>{" "}
        <time dateTime={comment.createdAt} title={exactTime(comment.createdAt)}>
          {timeAgo(comment.createdAt)}
        </time>
        {edited && <span className="muted"> (edited)</span>}
      </p>
      {editing ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            // Without mentions the server keeps the comment's own.
            if (text.trim()) void act(() => api.comments.update(comment.id, { body: text.trim() }));
          }}
        >
          <label className="visually-hidden" htmlFor={`edit-${comment.id}`}>
            Change your comment
          </label>
          <textarea id={`edit-${comment.id}`} className="comment-input" rows={2} value={text} onChange={(e) => setText(e.target.value)} />
          <div className="comment-actions">
            <button type="submit" className="button button-compact button-primary">
              Save
            </button>
            <button type="button" className="button button-compact" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <p className="comment-body">{comment.body}</p>
      )}
      {!editing && (mine || mayDelete) && (
        <div className="comment-tools">
          {mine && (
            <button type="button" className="link-button" onClick={() => { setText(comment.body); setEditing(true); }}>
              Edit
            </button>
          )}
          {mayDelete && (
            <button
              type="button"
              className="link-button"
              onClick={() => {
                const what = reply ? "this reply" : "this comment and its replies";
                if (window.confirm(`Delete ${what}? It goes for everyone; the document's audit trail keeps a record of it.`)) void act(() => api.comments.remove(comment.id));
              }}
            >
              Delete
            </button>
          )}
        </div>
      )}
      {error && (
        <p className="comment-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
