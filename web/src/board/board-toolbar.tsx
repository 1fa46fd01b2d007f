// The board's toolbar: add a note, a task, an image or a link; undo and redo; zoom.

import { useEffect, useId, useRef, useState } from "react";
import type { FormEvent, ReactNode } from "react";
import { IMAGE_TYPES } from "../files/files-api";
import { safeUrl } from "./board-model";
import type { CardKind } from "./board-model";

export interface NewCardRequest {
  kind: CardKind;
  url?: string;
  text?: string;
}

interface BoardToolbarProps {
  readOnly: boolean;
  zoom: number;
  canUndo: boolean;
  canRedo: boolean;
  onCreate: (request: NewCardRequest) => void;
  onUndo: () => void;
  onRedo: () => void;
  onZoom: (zoom: number) => void;
  /** Pictures chosen from this device for new image cards. */
  onPickImages: (files: File[]) => void;
}

export const ZOOM_STEPS = [0.25, 0.5, 0.75, 1, 1.25, 1.5, 2] as const;
export const MIN_ZOOM = ZOOM_STEPS[0];
export const MAX_ZOOM = ZOOM_STEPS[ZOOM_STEPS.length - 1] ?? 2;

function stepZoom(zoom: number, direction: 1 | -1): number {
  if (direction > 0) return ZOOM_STEPS.find((step) => step > zoom + 0.001) ?? MAX_ZOOM;
  return [...ZOOM_STEPS].reverse().find((step) => step < zoom - 0.001) ?? MIN_ZOOM;
}

const isMac = typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.userAgent);
const mod = isMac ? "⌘" : "Ctrl+";

interface AddressFormProps {
  kind: "image" | "link";
  onCreate: (request: NewCardRequest) => void;
  onPickImages: (files: File[]) => void;
  onClose: () => void;
}

function AddressForm({ kind, onCreate, onPickImages, onClose }: AddressFormProps): ReactNode {
  const ids = useId();
  const fileInput = useRef<HTMLInputElement>(null);
  const [url, setUrl] = useState("");
  const [title, setTitle] = useState("");
  const [error, setError] = useState<string | null>(null);
  const form = useRef<HTMLFormElement>(null);

  useEffect(() => {
    const onPointerDown = (event: PointerEvent): void => {
      if (form.current && event.target instanceof Node && !form.current.contains(event.target)) onClose();
    };
    window.addEventListener("pointerdown", onPointerDown);
    return () => window.removeEventListener("pointerdown", onPointerDown);
  }, [onClose]);

  const submit = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const safe = safeUrl(url);
    if (!safe) {
      setError("Enter a web address starting with http:// or https://");
      return;
    }
    onCreate({ kind, url: safe, text: title.trim() });
    onClose();
  };

  return (
    <form
      ref={form}
      className="board-popover"
      aria-label={kind === "image" ? "Add an image" : "Add a link"}
      onSubmit={submit}
      onKeyDown={(event) => {
        if (event.key === "Escape") onClose();
      }}
    >
      {kind === "image" && (
        <>
          {/* A picture on this device first: most images people add are their own. */}
          <button type="button" className="button" onClick={() => fileInput.current?.click()}>
            Upload from this device…
          </button>
          <input
            ref={fileInput}
            type="file"
            accept={IMAGE_TYPES.join(",")}
            multiple
            hidden
            data-testid="board-image-file"
            onChange={(event) => {
              const files = Array.from(event.target.files ?? []);
              if (files.length === 0) return;
              onPickImages(files);
              onClose();
            }}
          />
          <p className="board-popover-or muted">or add one from the web:</p>
        </>
      )}
      <label htmlFor={`${ids}-url`}>{kind === "image" ? "Image address" : "Link address"}</label>
      <input
        id={`${ids}-url`}
        type="url"
        autoFocus
        required
        placeholder={kind === "image" ? "https://example.com/picture.png" : "https://example.com"}
        value={url}
        onChange={(event) => setUrl(event.target.value)}
      />
      <label htmlFor={`${ids}-title`}>{kind === "image" ? "Caption (optional)" : "Title (optional)"}</label>
      <input id={`${ids}-title`} type="text" maxLength={500} value={title} onChange={(event) => setTitle(event.target.value)} />
      {error && (
        <p className="form-alert" role="alert">
          {error}
        </p>
      )}
      <div className="board-popover-actions">
        <button type="button" className="button button-quiet" onClick={onClose}>
          Cancel
        </button>
        <button type="submit" className="button button-primary">
          Add {kind}
        </button>
      </div>
    </form>
  );
}

function KindIcon({ kind }: { kind: CardKind }): ReactNode {
  switch (kind) {
    case "note":
      return (
        <svg viewBox="0 0 20 20" aria-hidden="true">
          <path d="M4 3.5h12v9l-4 4H4z" />
          <path d="M12 16.5v-4h4" />
        </svg>
      );
    case "task":
      return (
        <svg viewBox="0 0 20 20" aria-hidden="true">
          <rect x="3.5" y="3.5" width="13" height="13" rx="2.5" />
          <path d="m6.8 10.2 2.2 2.2 4.2-4.6" />
        </svg>
      );
    case "image":
      return (
        <svg viewBox="0 0 20 20" aria-hidden="true">
          <rect x="3" y="4" width="14" height="12" rx="2" />
          <circle cx="7.5" cy="8.5" r="1.4" />
          <path d="m4 15 4.5-4.5 3 3 2-2L17 15" />
        </svg>
      );
    case "link":
      return (
        <svg viewBox="0 0 20 20" aria-hidden="true">
          <path d="M8.5 11.5 11.5 8.5M9 5.5l1.2-1.2a3.2 3.2 0 0 1 4.5 4.5L13.5 10M11 14.5l-1.2 1.2a3.2 3.2 0 0 1-4.5-4.5L6.5 10" />
        </svg>
      );
  }
}

const KIND_NAMES: Record<CardKind, string> = { note: "Note", task: "Task", image: "Image", link: "Link" };

export function BoardToolbar({ readOnly, zoom, canUndo, canRedo, onCreate, onUndo, onRedo, onZoom, onPickImages }: BoardToolbarProps): ReactNode {
  const [asking, setAsking] = useState<"image" | "link" | null>(null);

  return (
    <div className="toolbar board-toolbar" role="toolbar" aria-label="Board">
      {!readOnly && (
        <>
          <div className="tool-group">
            {(["note", "task", "image", "link"] as const).map((kind) => (
              <button
                key={kind}
                type="button"
                className={`tool tool-wide${asking === kind ? " tool-active" : ""}`}
                title={`Add a ${kind}`}
                aria-label={`Add ${kind}`}
                aria-expanded={kind === "image" || kind === "link" ? asking === kind : undefined}
                onClick={() => {
                  if (kind === "image" || kind === "link") setAsking(asking === kind ? null : kind);
                  else onCreate({ kind });
                }}
              >
                <KindIcon kind={kind} />
                <span>{KIND_NAMES[kind]}</span>
              </button>
            ))}
            {asking && <AddressForm kind={asking} onCreate={onCreate} onPickImages={onPickImages} onClose={() => setAsking(null)} />}
          </div>
          <div className="tool-group">
            <button type="button" className="tool" aria-label="Undo" title={`Undo (${mod}Z)`} disabled={!canUndo} onClick={onUndo}>
              <svg viewBox="0 0 20 20" aria-hidden="true">
                <path d="M7 5 3 9l4 4M3.5 9H12a4.5 4.5 0 0 1 0 9h-2" />
              </svg>
            </button>
            <button type="button" className="tool" aria-label="Redo" title={`Redo (${isMac ? "⇧⌘Z" : "Ctrl+Y"})`} disabled={!canRedo} onClick={onRedo}>
              <svg viewBox="0 0 20 20" aria-hidden="true">
                <path d="m13 5 4 4-4 4M16.5 9H8a4.5 4.5 0 0 0 0 9h2" />
              </svg>
            </button>
          </div>
        </>
      )}
      <div className="tool-group">
        <button type="button" className="tool" aria-label="Zoom out" title="Zoom out" disabled={zoom <= MIN_ZOOM} onClick={() => onZoom(stepZoom(zoom, -1))}>
          −
        </button>
        <button type="button" className="tool tool-wide" aria-label={`${Math.round(zoom * 100)}%, reset zoom`} title="Back to 100%" onClick={() => onZoom(1)} data-testid="zoom-level">
          {Math.round(zoom * 100)}%
        </button>
        <button type="button" className="tool" aria-label="Zoom in" title="Zoom in" disabled={zoom >= MAX_ZOOM} onClick={() => onZoom(stepZoom(zoom, 1))}>
          +
        </button>
      </div>
    </div>
  );
}
