// The header's Attachments button and its panel: the document's files, newest first, each
// downloadable by any member and deletable by its owner and editors (the server decides again).
// The list is read when the panel opens, after an upload or deletion in this window, and every
// few seconds while it stays open, so files others attach show up too.

import { useCallback, useEffect, useId, useRef, useState } from "react";
import type { ReactNode } from "react";
import { ApiError, isAbortError } from "../api/http";
import type { DocMeta } from "../api/types";
import { canWrite } from "@palimpsest/contracts/shared";
import { exactTime, timeAgo } from "../lib/format";
import type * as Y from "yjs";
import { deleteFile, downloadFile, listFiles, onFilesChanged, uploadFile } from "./files-api";
import { documentShowsFile } from "./file-usage";
import type { FileView } from "./files-api";
import { FilePicture } from "./file-picture";
import "./files.css";

const REFRESH_MS = 5_000;

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

function messageOf(err: unknown, fallback: string): string {
  return err instanceof ApiError ? err.message : fallback;
}

interface AttachmentRowProps {
  file: FileView;
  canDelete: boolean;
  /** Whether the document shows this file (asked when a delete is to be confirmed). */
  inUse: (fileId: string) => boolean;
  onDeleted: () => void;
}

function AttachmentRow({ file, canDelete, inUse, onDeleted }: AttachmentRowProps): ReactNode {
  const [confirming, setConfirming] = useState(false);
  /** The document shows the file: the confirmation says what deleting it does there. */
  const [shown, setShown] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const download = (): void => {
    setError(null);
    downloadFile(file).catch((err: unknown) => setError(messageOf(err, "The download failed.")));
  };
  const remove = (): void => {
    setBusy(true);
    setError(null);
    deleteFile(file).then(onDeleted, (err: unknown) => {
      setBusy(false);
      setConfirming(false);
      setError(messageOf(err, "The file could not be deleted."));
    });
  };

  return (
    <li className="attachment" data-file-id={file.id} data-testid="attachment">
      <span className="attachment-thumb" aria-hidden="true">
        {file.thumbnail === "ready" ? <FilePicture fileId={file.id} variant="thumbnail" alt="" /> : <span className="attachment-icon">{file.contentType.split("/")[1]?.slice(0, 4) ?? "file"}</span>}
      </span>
      <span className="attachment-main">
        <a
          href={file.url}
          className="attachment-name"
          title={`Download ${file.name}`}
          onClick={(event) => {
            // The link's address needs a token a plain navigation cannot send: download it ourselves.
            event.preventDefault();
            download();
          }}
        >
          {file.name}
        </a>
        <span className="attachment-meta muted">
          {formatSize(file.size)} · <time dateTime={file.uploadedAt} title={exactTime(file.uploadedAt)}>{timeAgo(file.uploadedAt)}</time>
        </span>
        {error && (
          <span className="attachment-error" role="alert">
            {error}
          </span>
        )}
      </span>
      {canDelete &&
        (confirming ? (
          <span className="attachment-confirm" role="group" aria-label={`Delete ${file.name}?`}>
            {shown && (
              <span className="attachment-warning" role="alert">
                This file is shown in the document. Deleting it leaves an empty box there, for everyone.
              </span>
            )}
            <button type="button" className="button button-compact button-danger" disabled={busy} onClick={remove}>
              {busy ? "Deleting…" : shown ? "Delete anyway" : "Delete"}
            </button>
            <button type="button" className="button button-compact" disabled={busy} onClick={() => setConfirming(false)}>
              Keep
            </button>
          </span>
        ) : (
          <button type="button" className="icon-button" aria-label={`Delete ${file.name}`} title="Delete this file" onClick={() => {
              setShown(inUse(file.id));
              setConfirming(true);
            }}>
            <svg viewBox="0 0 16 16" aria-hidden="true">
              <path d="M3 4.5h10M6.5 4.5V3h3v1.5M4.5 4.5l.6 8.5h5.8l.6-8.5" />
            </svg>
          </button>
        ))}
    </li>
  );
}

function AttachmentsPanel({ doc, inUse, onClose }: { doc: DocMeta; inUse: (fileId: string) => boolean; onClose: () => void }): ReactNode {
  const [files, setFiles] = useState<FileView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const panel = useRef<HTMLDivElement>(null);
  const picker = useRef<HTMLInputElement>(null);
  const titleId = useId();
  const editable = canWrite(doc.role);
  /** What is being uploaded from the panel: "name (42%)", or null. */
  const [uploading, setUploading] = useState<string | null>(null);

  // Files chosen here (keyboard and touch can reach this, unlike a drop) upload one after another.
  const attach = async (chosen: readonly File[]): Promise<void> => {
    setError(null);
    for (const file of chosen) {
      setUploading(file.name);
      try {
        await uploadFile(doc.id, file, { onProgress: (p) => setUploading(`${file.name} (${Math.round((100 * p.loaded) / Math.max(1, p.total))}%)`) });
      } catch (err) {
        setError(messageOf(err, `${file.name} could not be attached.`));
        break;
      }
    }
    setUploading(null);
    if (picker.current) picker.current.value = "";
  };

  const load = useCallback(
    (signal?: AbortSignal): void => {
      listFiles(doc.id, signal).then(
        (list) => {
          setFiles(list.items);
          setError(null);
        },
        (err: unknown) => {
          if (!isAbortError(err)) setError(messageOf(err, "The attachments could not be loaded."));
        },
      );
    },
    [doc.id],
  );

  useEffect(() => {
    const controller = new AbortController();
    load(controller.signal);
    const timer = setInterval(() => load(controller.signal), REFRESH_MS);
    const stop = onFilesChanged(doc.id, () => load(controller.signal));
    return () => {
      controller.abort();
      clearInterval(timer);
      stop();
    };
  }, [doc.id, load]);

  useEffect(() => {
    panel.current?.focus();
    const onKey = (event: KeyboardEvent): void => {
      if (event.key === "Escape") onClose();
    };
    const onPointerDown = (event: PointerEvent): void => {
      const target = event.target;
      if (target instanceof Node && panel.current && !panel.current.contains(target) && !(target instanceof Element && target.closest("[data-attachments-toggle]"))) onClose();
    };
    window.addEventListener("keydown", onKey);
    window.addEventListener("pointerdown", onPointerDown);
    return () => {
      window.removeEventListener("keydown", onKey);
      window.removeEventListener("pointerdown", onPointerDown);
    };
  }, [onClose]);

  return (
    <div ref={panel} className="attachments-panel" role="dialog" aria-labelledby={titleId} data-testid="attachments-panel" tabIndex={-1}>
      <h2 id={titleId} className="attachments-title">
        Attachments
      </h2>
      {editable && (
        <div className="attachments-upload">
          <input
            ref={picker}
            type="file"
            multiple
            hidden
            data-testid="attachments-file-input"
            onChange={(event) => void attach([...(event.target.files ?? [])])}
          />
          <button type="button" className="button button-compact" disabled={uploading !== null} onClick={() => picker.current?.click()}>
            Attach files…
          </button>
          {uploading !== null && (
            <span className="muted" role="status">
              Uploading {uploading}
            </span>
          )}
        </div>
      )}
      {error && (
        <p className="attachment-error" role="alert">
          {error}
        </p>
      )}
      {files === null && !error && <p className="muted">Loading…</p>}
      {files !== null && files.length === 0 && (
        <p className="muted">{editable ? "No files yet. Attach one here, or drop or paste an image into the document." : "No files yet."}</p>
      )}
      {files !== null && files.length > 0 && (
        <ul className="attachments-list">
          {files.map((file) => (
            <AttachmentRow key={file.id} file={file} canDelete={editable} inUse={inUse} onDeleted={() => setFiles((current) => current?.filter((f) => f.id !== file.id) ?? null)} />
          ))}
        </ul>
      )}
    </div>
  );
}

/** `ydoc`: the open document's content, to tell whether it shows a file before it is deleted. */
export function AttachmentsButton({ doc, ydoc }: { doc: DocMeta; ydoc: Y.Doc | null }): ReactNode {
  const [open, setOpen] = useState(false);
  const close = useCallback(() => setOpen(false), []);
  return (
    <span className="attachments-anchor">
      <button
        type="button"
        className={`button button-compact${open ? " button-pressed" : ""}`}
        aria-expanded={open}
        aria-haspopup="dialog"
        data-attachments-toggle=""
        onClick={() => setOpen(!open)}
        title="Files attached to this document"
      >
        <svg className="button-icon" viewBox="0 0 20 20" aria-hidden="true">
          <path d="M13.5 6.5 8 12a1.8 1.8 0 0 1-2.5-2.5l6-6a3 3 0 0 1 4.2 4.2l-6.4 6.4a4.2 4.2 0 0 1-6-6L9 2.5" />
        </svg>
        <span className="button-label">Attachments</span>
      </button>
      {open && <AttachmentsPanel doc={doc} inUse={(fileId) => (ydoc ? documentShowsFile(ydoc, fileId) : false)} onClose={close} />}
    </span>
  );
}
