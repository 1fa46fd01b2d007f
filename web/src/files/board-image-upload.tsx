// Images dropped or pasted onto a board: each uploads with a progress bar where it will appear,
// then becomes an image card there that references the uploaded file (so every collaborator
// sees it as soon as the card reaches them).

import { useCallback, useEffect, useRef, useState } from "react";
import type { ClipboardEvent, DragEvent, ReactNode } from "react";
import { IMAGE_TYPES, uploadFile } from "./files-api";
import type { FileView } from "./files-api";
import { primeFileUrl } from "./file-urls";
import "./files.css";

export interface BoardPoint {
  x: number;
  y: number;
}

interface BoardImageUploadOptions {
  docId: string;
  readOnly: boolean;
  /** The board point under a point on screen. */
  toBoard: (clientX: number, clientY: number) => BoardPoint;
  /** Where a pasted image goes: the middle of what is on screen. */
  center: () => BoardPoint;
  /** Makes the card of an uploaded image at `at` (board coordinates). */
  place: (file: FileView, at: BoardPoint) => void;
}

interface BoardUpload {
  id: string;
  name: string;
  at: BoardPoint;
  percent: number;
  error: string | null;
}

export interface BoardImageUpload {
  onDragOver: (event: DragEvent<HTMLElement>) => void;
  onDrop: (event: DragEvent<HTMLElement>) => void;
  onPaste: (event: ClipboardEvent<HTMLElement>) => void;
  /** Images chosen from the device (the toolbar's Image button): placed in the middle of the view. */
  pick: (files: File[]) => void;
  /** The uploads in progress, drawn on the board's plane (board coordinates). */
  overlay: ReactNode;
}

const carriesFiles = (data: DataTransfer | null): boolean => data !== null && Array.from(data.types).includes("Files");
const imagesIn = (data: DataTransfer): File[] => Array.from(data.files).filter((file) => IMAGE_TYPES.includes(file.type));

/** Room between several images dropped at once, so their cards do not land on each other. */
const CASCADE = 28;

export function useBoardImageUpload(options: BoardImageUploadOptions): BoardImageUpload {
  const latest = useRef(options);
  latest.current = options;
  const [uploads, setUploads] = useState<BoardUpload[]>([]);
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  const update = useCallback((id: string, change: Partial<BoardUpload> | null): void => {
    if (!mounted.current) return;
    setUploads((current) => (change === null ? current.filter((u) => u.id !== id) : current.map((u) => (u.id === id ? { ...u, ...change } : u))));
  }, []);

  const start = useCallback(
    (files: File[], at: BoardPoint): void => {
      const { docId, readOnly } = latest.current;
      files.forEach((file, index) => {
        const id = crypto.randomUUID();
        const where = { x: at.x + index * CASCADE, y: at.y + index * CASCADE };
        const refused = readOnly ? "Only the owner and editors can add images to this board." : null;
        setUploads((current) => [...current, { id, name: file.name, at: where, percent: 0, error: refused }]);
        if (refused) return;
        uploadFile(docId, file, { onProgress: ({ loaded, total }) => update(id, { percent: total > 0 ? Math.round((loaded / total) * 100) : 0 }) }).then(
          (stored) => {
            primeFileUrl(stored.id, file);
            // Gone from the board meanwhile: the file stays in the attachments list.
            if (mounted.current) latest.current.place(stored, where);
            update(id, null);
          },
          (err: unknown) => update(id, { error: `${file.name} could not be uploaded: ${err instanceof Error ? err.message : "unknown error"}` }),
        );
      });
    },
    [update],
  );

  const onDragOver = useCallback((event: DragEvent<HTMLElement>): void => {
    if (!carriesFiles(event.dataTransfer)) return;
    // Accepting the drag is what keeps the browser from opening the file in place of the board.
    event.preventDefault();
    event.dataTransfer.dropEffect = latest.current.readOnly ? "none" : "copy";
  }, []);

  const onDrop = useCallback(
    (event: DragEvent<HTMLElement>): void => {
      if (!carriesFiles(event.dataTransfer)) return;
      event.preventDefault();
      const files = imagesIn(event.dataTransfer);
      if (files.length === 0) return;
      start(files, latest.current.toBoard(event.clientX, event.clientY));
    },
    [start],
  );

  const onPaste = useCallback(
    (event: ClipboardEvent<HTMLElement>): void => {
      const files = imagesIn(event.clipboardData);
      if (files.length === 0) return;
      const target = event.target;
      const typing = target instanceof HTMLElement && (target.isContentEditable || target.tagName === "TEXTAREA" || target.tagName === "INPUT");
      // Pasting into a card's text with words on the clipboard pastes the words.
      if (typing && event.clipboardData.getData("text/plain") !== "") return;
      event.preventDefault();
      start(files, latest.current.center());
    },
    [start],
  );

  const pick = useCallback(
    (files: File[]): void => {
      const images = files.filter((file) => IMAGE_TYPES.includes(file.type));
      const others = files.filter((file) => !IMAGE_TYPES.includes(file.type));
      const at = latest.current.center();
      for (const file of others) {
        setUploads((current) => [...current, { id: crypto.randomUUID(), name: file.name, at, percent: 0, error: `${file.name} is not a picture: a board shows PNG, JPEG, GIF, WebP and AVIF images. Attach other files from Attachments.` }]);
      }
      if (images.length > 0) start(images, at);
    },
    [start],
  );

  const overlay = uploads.map((upload) => (
    <div
      key={upload.id}
      className={`board-upload${upload.error ? " board-upload-error" : ""}`}
      data-testid="image-upload"
      role={upload.error ? "alert" : "status"}
      // Centred on the drop point, like the card that replaces it.
      style={{ transform: `translate(calc(${upload.at.x}px - 50%), ${upload.at.y - 16}px)` }}
    >
      {upload.error ? (
        <>
          <span>{upload.error}</span>{" "}
          <button type="button" className="link-button" onClick={() => update(upload.id, null)}>
            Dismiss
          </button>
        </>
      ) : (
        <>
          <span className="image-upload-label">Uploading {upload.name}…</span>
          <progress max={100} value={upload.percent} aria-label={`Uploading ${upload.name}`} />
        </>
      )}
    </div>
  ));

  return { onDragOver, onDrop, onPaste, pick, overlay };
}
