// One card on the board: a grip to drag it by, its content (note, task, image or link), a
// resize handle, and the names of the people who have it in hand.

import { memo, useId, useState } from "react";
import type { FormEvent, PointerEvent, ReactNode } from "react";
import { NOTE_COLORS, safeUrl, textFieldOf } from "./board-model";
import type { CardKind, CardView, NoteColor, Rect } from "./board-model";
import { CardText } from "./card-text";
import { FilePicture } from "../files/file-picture";
import { useRefusedByImagePolicy } from "./image-policy";

export type CardGesture = "move" | "resize";

export interface PeerMark {
  clientId: number;
  name: string;
  color: string;
}

export interface CardActions {
  startGesture: (event: PointerEvent<HTMLElement>, id: string, gesture: CardGesture) => void;
  select: (id: string) => void;
  editText: (id: string, field: "text" | "title", previous: string, next: string) => void;
  setDone: (id: string, done: boolean) => void;
  setColor: (id: string, color: NoteColor) => void;
  setUrl: (id: string, url: string) => void;
  remove: (id: string) => void;
  /** Shows the comment threads on this card. */
  openComments: (id: string) => void;
}

interface BoardCardProps {
  card: CardView;
  /** Where to draw it: its stored place, or where someone is dragging it right now. */
  rect: Rect;
  readOnly: boolean;
  selected: boolean;
  moving: boolean;
  autoFocus: boolean;
  peers: readonly PeerMark[];
  actions: CardActions;
  /** Open comment threads on this card. */
  comments: number;
}

const KIND_LABELS: Record<CardKind, string> = { note: "Note", task: "Task", image: "Image", link: "Link" };
const COLOR_LABELS: Record<NoteColor, string> = { yellow: "Yellow", pink: "Pink", green: "Green", blue: "Blue", purple: "Purple" };

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function nextColor(color: NoteColor): NoteColor {
  return NOTE_COLORS[(NOTE_COLORS.indexOf(color) + 1) % NOTE_COLORS.length] ?? "yellow";
}

function UrlForm({ initial, onSave, onCancel }: { initial: string; onSave: (url: string) => void; onCancel: () => void }): ReactNode {
  const [text, setText] = useState(initial);
  const [error, setError] = useState<string | null>(null);
  const id = useId();
  const submit = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const url = safeUrl(text);
    if (!url) {
      setError("Enter a web address starting with http:// or https://");
      return;
    }
    onSave(url);
  };
  return (
    <form className="card-url-form" onSubmit={submit}>
      <label className="visually-hidden" htmlFor={id}>
        Web address
      </label>
      <input
        id={id}
        type="url"
        value={text}
        autoFocus
        placeholder="https://"
        onChange={(event) => setText(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === "Escape") {
            event.stopPropagation();
            onCancel();
          }
        }}
      />
      <button type="submit" className="button button-small">
        Save
      </button>
      {error && (
        <p className="card-url-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

function ImageContent({ card, caption }: { card: CardView; caption: ReactNode }): ReactNode {
  const [failed, setFailed] = useState<string | null>(null);
  const refused = useRefusedByImagePolicy(card.url);
  const broken = failed === card.url || refused;
  return (
    <>
      <div className="card-picture">
        {card.fileId ? (
          <FilePicture fileId={card.fileId} alt={card.text || "Image"} />
        ) : card.url && !broken ? (
          <img src={card.url} alt={card.text || "Image"} draggable={false} referrerPolicy="no-referrer" onError={() => setFailed(card.url)} />
        ) : (
          <p className="card-image-missing" role={refused ? "status" : undefined}>
            {!card.url
              ? "No image address yet."
              : refused
                ? `Pictures from ${hostOf(card.url)} are not allowed on this server. Upload the picture instead, or ask the administrator to allow that host.`
                : `This image could not be loaded from ${hostOf(card.url)}.`}
          </p>
        )}
      </div>
      {caption}
    </>
  );
}

export const BoardCard = memo(function BoardCard({ card, rect, readOnly, selected, moving, autoFocus, peers, actions, comments }: BoardCardProps): ReactNode {
  const [editingUrl, setEditingUrl] = useState(false);
  const field = textFieldOf(card.kind);
  const onEdit = (previous: string, next: string): void => actions.editText(card.id, field, previous, next);

  const onPointerDown = (event: PointerEvent<HTMLElement>): void => {
    const target = event.target;
    if (!(target instanceof Element)) return;
    if (target.closest("[data-handle='resize']")) actions.startGesture(event, card.id, "resize");
    else if (target.closest("textarea, input, button, a, select, form")) actions.select(card.id);
    else actions.startGesture(event, card.id, "move");
  };

  const text = (placeholder: string, className?: string): ReactNode => (
    <CardText
      value={card.text}
      readOnly={readOnly}
      placeholder={placeholder}
      label={`${KIND_LABELS[card.kind]} text`}
      autoFocus={autoFocus}
      className={className}
      onEdit={onEdit}
    />
  );

  let body: ReactNode;
  switch (card.kind) {
    case "note":
      body = text("Write something…");
      break;
    case "task":
      body = (
        <div className="card-task">
          <input
            type="checkbox"
            className="card-check"
            checked={card.done}
            disabled={readOnly}
            aria-label={card.done ? "Done; mark as not done" : "Mark as done"}
            onChange={(event) => actions.setDone(card.id, event.target.checked)}
          />
          {text("A task…", `card-text${card.done ? " card-text-done" : ""}`)}
        </div>
      );
      break;
    case "image":
      body = <ImageContent card={card} caption={text("Caption", "card-text card-caption")} />;
      break;
    case "link":
      body = (
        <div className="card-link">
          {text("Title", "card-text card-link-title")}
          {card.url ? (
            <a href={card.url} target="_blank" rel="noopener noreferrer nofollow" className="card-link-url" title={card.url}>
              {hostOf(card.url)} ↗
            </a>
          ) : (
            <span className="muted">No address yet.</span>
          )}
        </div>
      );
      break;
  }

  const holder = peers[0];
  return (
    <article
      className={`card card--${card.kind} card-color-${card.color}${selected ? " card-selected" : ""}${moving ? " card-moving" : ""}${readOnly ? " card-readonly" : ""}`}
      data-card-id={card.id}
      data-kind={card.kind}
      data-x={Math.round(rect.x)}
      data-y={Math.round(rect.y)}
      data-w={Math.round(rect.w)}
      data-h={Math.round(rect.h)}
      aria-label={`${KIND_LABELS[card.kind]}${card.text ? `: ${card.text.slice(0, 60)}` : ""}`}
      tabIndex={0}
      style={{
        transform: `translate(${rect.x}px, ${rect.y}px)`,
        width: rect.w,
        height: rect.h,
        zIndex: moving ? 100_000 : card.z,
        outlineColor: holder && !selected ? holder.color : undefined,
      }}
      onPointerDown={onPointerDown}
      onFocus={(event) => {
        if (event.target === event.currentTarget) actions.select(card.id);
      }}
    >
      <header className="card-grip" data-testid="card-grip" title={readOnly ? undefined : "Drag to move"}>
        <span className="card-kind">{KIND_LABELS[card.kind]}</span>
        {peers.length > 0 && (
          <span className="card-peers">
            {peers.map((peer) => (
              <span key={peer.clientId} className="card-peer" style={{ backgroundColor: peer.color }}>
                {peer.name}
              </span>
            ))}
          </span>
        )}
        {comments > 0 && (
          <button
            type="button"
            className="card-button card-comments"
            data-testid="card-comments"
            title={`${comments} open comment${comments === 1 ? "" : "s"}: show`}
            onClick={() => actions.openComments(card.id)}
          >
            <svg viewBox="0 0 16 16" aria-hidden="true">
              <path d="M3 3.5h10a.5.5 0 0 1 .5.5v6a.5.5 0 0 1-.5.5H7l-3 2.5V10.5H3a.5.5 0 0 1-.5-.5V4a.5.5 0 0 1 .5-.5Z" />
            </svg>
            {comments}
            <span className="visually-hidden"> open comment{comments === 1 ? "" : "s"}</span>
          </button>
        )}
        {!readOnly && (
          <span className="card-actions">
            {card.kind === "note" && (
              <button
                type="button"
                className={`card-button card-swatch card-color-${nextColor(card.color)}`}
                title={`Colour: ${COLOR_LABELS[card.color]} (change to ${COLOR_LABELS[nextColor(card.color)]})`}
                aria-label="Change colour"
                onClick={() => actions.setColor(card.id, nextColor(card.color))}
              />
            )}
            {(card.kind === "image" || card.kind === "link") && (
              <button type="button" className="card-button" title="Change the address" aria-label="Change the address" onClick={() => setEditingUrl(!editingUrl)}>
                <svg viewBox="0 0 16 16" aria-hidden="true">
                  <path d="M6.5 9.5 9.5 6.5M7 4.5l1-1a2.5 2.5 0 0 1 3.5 3.5l-1 1M9 11.5l-1 1A2.5 2.5 0 0 1 4.5 9l1-1" />
                </svg>
              </button>
            )}
            <button type="button" className="card-button" title="Delete card" aria-label="Delete card" onClick={() => actions.remove(card.id)}>
              <svg viewBox="0 0 16 16" aria-hidden="true">
                <path d="m4.5 4.5 7 7m0-7-7 7" />
              </svg>
            </button>
          </span>
        )}
      </header>
      {editingUrl && !readOnly && (
        <UrlForm
          initial={card.url}
          onCancel={() => setEditingUrl(false)}
          onSave={(url) => {
            actions.setUrl(card.id, url);
            setEditingUrl(false);
          }}
        />
      )}
      <div className="card-body">{body}</div>
      {!readOnly && <div className="card-resize" data-handle="resize" title="Drag to resize" aria-hidden="true" />}
    </article>
  );
});
