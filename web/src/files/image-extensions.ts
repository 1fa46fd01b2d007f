// Images in text documents. An image node stores a stable reference to its file
// (src="/api/files/<id>" and data-file-id), never a temporary address, so every collaborator and
// every later visit resolves it the same way: through the authenticated loader (file-urls.ts).
// Dropping or pasting an image file uploads it with a progress bar where it was dropped, then
// inserts the image there; the document change reaches everyone through the shared Yjs document.

import { Extension } from "@tiptap/core";
import type { Editor } from "@tiptap/core";
import { Plugin, PluginKey } from "@tiptap/pm/state";
import type { EditorState } from "@tiptap/pm/state";
import { Decoration, DecorationSet } from "@tiptap/pm/view";
import type { Node as ProseMirrorNode } from "@tiptap/pm/model";
import FileHandler from "@tiptap/extension-file-handler";
import Image from "@tiptap/extension-image";
import { absolutePositionToRelativePosition, relativePositionToAbsolutePosition, ySyncPluginKey } from "@tiptap/y-tiptap";
import type * as Y from "yjs";
import { ApiError } from "../api/http";
import { filePath, fileIdFromSrc, IMAGE_TYPES, isFileId, uploadFile } from "./files-api";
import { fileObjectUrl, primeFileUrl } from "./file-urls";
import "./files.css";

function fileIdOf(node: ProseMirrorNode): string | null {
  const id: unknown = node.attrs.fileId;
  if (isFileId(id)) return id;
  return fileIdFromSrc(typeof node.attrs.src === "string" ? node.attrs.src : null);
}

/**
 * The image node, with the file it shows. Images of this app are drawn from the file's bytes
 * fetched with the reader's token; an image from elsewhere (pasted HTML) keeps its web address.
 */
export const FileImage = Image.extend({
  addAttributes() {
    return {
      ...this.parent?.(),
      fileId: {
        default: null,
        parseHTML: (element: HTMLElement) => {
          const id = element.getAttribute("data-file-id");
          return isFileId(id) ? id : fileIdFromSrc(element.getAttribute("src"));
        },
        renderHTML: (attributes: Record<string, unknown>) => (isFileId(attributes.fileId) ? { "data-file-id": attributes.fileId } : {}),
      },
    };
  },

  addNodeView() {
    return ({ node: initial }) => {
      const dom = document.createElement("div");
      dom.className = "file-image";
      dom.contentEditable = "false";
      const img = document.createElement("img");
      img.draggable = false;
      img.referrerPolicy = "no-referrer";
      const note = document.createElement("span");
      note.className = "file-image-note";
      dom.append(img, note);

      let shown: string | null = null;
      let node = initial;
      const show = (): void => {
        const fileId = fileIdOf(node);
        const src = typeof node.attrs.src === "string" ? node.attrs.src : "";
        img.alt = typeof node.attrs.alt === "string" ? node.attrs.alt : "";
        if (typeof node.attrs.title === "string") img.title = node.attrs.title;
        else img.removeAttribute("title");
        const wanted = fileId ?? src;
        if (wanted === shown) return;
        shown = wanted;
        note.textContent = "";
        dom.dataset.state = "loading";
        if (fileId) {
          dom.dataset.fileId = fileId;
          img.removeAttribute("src");
          fileObjectUrl(fileId).then(
            (url) => {
              if (shown !== fileId) return;
              img.src = url;
            },
            (err: unknown) => {
              if (shown !== fileId) return;
              dom.dataset.state = "error";
              note.textContent = err instanceof ApiError && err.status === 404 ? "This image was deleted." : "This image could not be loaded.";
            },
          );
        } else {
          delete dom.dataset.fileId;
          img.src = src;
        }
      };
      img.addEventListener("load", () => {
        dom.dataset.state = "ready";
      });
      img.addEventListener("error", () => {
        if (!img.getAttribute("src")) return;
        dom.dataset.state = "error";
        note.textContent = "This image could not be loaded.";
      });
      show();

      return {
        dom,
        update(updated) {
          if (updated.type !== node.type) return false;
          node = updated;
          show();
          return true;
        },
      };
    };
  },
});

/** Where an upload will land: a Yjs position when the editor is collaborative, so edits arriving meanwhile do not move it. */
interface PendingUpload {
  id: string;
  /** The position in this editor, carried through its transactions. */
  pos: number;
  /** The same place as a Yjs relative position (remote changes replace the whole ProseMirror document). */
  anchor: Y.RelativePosition | null;
  element: HTMLElement;
}

type UploadMeta = { add: PendingUpload } | { remove: string };

const uploadsKey = new PluginKey<ReadonlyMap<string, PendingUpload>>("imageUploads");

interface SyncState {
  doc: Y.Doc;
  type: Y.XmlFragment;
  binding: { mapping: Parameters<typeof absolutePositionToRelativePosition>[2] } | null;
  snapshot: unknown;
  prevSnapshot: unknown;
}

function syncStateOf(state: EditorState): SyncState | null {
  const sync = ySyncPluginKey.getState(state) as SyncState | undefined;
  if (!sync?.binding || sync.snapshot != null || sync.prevSnapshot != null || sync.binding.mapping.size === 0) return null;
  return sync;
}

function anchorAt(state: EditorState, pos: number): Y.RelativePosition | null {
  const sync = syncStateOf(state);
  if (!sync?.binding) return null;
  try {
    return absolutePositionToRelativePosition(pos, sync.type, sync.binding.mapping) as Y.RelativePosition;
  } catch {
    return null;
  }
}

/** Where a pending upload is now, or null when the text it was dropped into is gone. */
function positionOf(state: EditorState, upload: PendingUpload): number | null {
  const sync = syncStateOf(state);
  if (upload.anchor && sync?.binding) {
    const pos = relativePositionToAbsolutePosition(sync.doc, sync.type, upload.anchor, sync.binding.mapping);
    return pos === null ? null : Math.min(pos, state.doc.content.size);
  }
  return Math.min(upload.pos, state.doc.content.size);
}

function placeholder(name: string): { element: HTMLElement; progress: HTMLProgressElement; label: HTMLElement } {
  const element = document.createElement("span");
  element.className = "image-upload";
  element.dataset.testid = "image-upload";
  element.contentEditable = "false";
  const label = document.createElement("span");
  label.className = "image-upload-label";
  label.textContent = `Uploading ${name}…`;
  const progress = document.createElement("progress");
  progress.max = 100;
  progress.value = 0;
  progress.setAttribute("aria-label", `Uploading ${name}`);
  element.append(label, progress);
  return { element, progress, label };
}

function uploadsPlugin(): Plugin<ReadonlyMap<string, PendingUpload>> {
  return new Plugin<ReadonlyMap<string, PendingUpload>>({
    key: uploadsKey,
    state: {
      init: () => new Map(),
      apply(tr, uploads) {
        const meta = tr.getMeta(uploadsKey) as UploadMeta | undefined;
        if (!tr.docChanged && !meta) return uploads;
        const next = new Map<string, PendingUpload>();
        for (const [id, upload] of uploads) next.set(id, tr.docChanged ? { ...upload, pos: tr.mapping.map(upload.pos) } : upload);
        if (meta && "add" in meta) next.set(meta.add.id, meta.add);
        if (meta && "remove" in meta) next.delete(meta.remove);
        return next;
      },
    },
    props: {
      decorations(state) {
        const uploads = uploadsKey.getState(state);
        if (!uploads || uploads.size === 0) return null;
        const widgets: Decoration[] = [];
        for (const upload of uploads.values()) {
          const pos = positionOf(state, upload);
          if (pos !== null) widgets.push(Decoration.widget(pos, upload.element, { key: upload.id, side: -1, ignoreSelection: true }));
        }
        return DecorationSet.create(state.doc, widgets);
      },
    },
  });
}

export interface ImageUploadOptions {
  /** The document to attach to, or null when this person may not add files (asked at each drop or paste). */
  docId: () => string | null;
}

function uploadImages(editor: Editor, files: File[], at: number, docId: string | null): void {
  for (const file of files) {
    const id = crypto.randomUUID();
    const { element, progress, label } = placeholder(file.name);
    const pos = Math.max(0, Math.min(at, editor.state.doc.content.size));
    // What the placeholder says when the upload is over without an image to show: a failure, or a file attached.
    const settle = (state: "error" | "attached", message: string): void => {
      element.dataset.state = state;
      element.setAttribute("role", state === "error" ? "alert" : "status");
      progress.remove();
      label.textContent = message;
      const dismiss = document.createElement("button");
      dismiss.type = "button";
      dismiss.className = "link-button";
      dismiss.textContent = "Dismiss";
      dismiss.addEventListener("click", () => {
        if (!editor.isDestroyed) editor.view.dispatch(editor.state.tr.setMeta(uploadsKey, { remove: id } satisfies UploadMeta));
      });
      element.append(" ", dismiss);
    };
    const fail = (message: string): void => settle("error", message);
    const image = IMAGE_TYPES.includes(file.type);
    editor.view.dispatch(editor.state.tr.setMeta(uploadsKey, { add: { id, pos, anchor: anchorAt(editor.state, pos), element } } satisfies UploadMeta));
    if (!docId) {
      fail(image ? "Only the owner and editors can add images to this document." : "Only the owner and editors can attach files to this document.");
      continue;
    }
    uploadFile(docId, file, {
      onProgress: ({ loaded, total }) => {
        progress.value = total > 0 ? Math.round((loaded / total) * 100) : 0;
      },
    }).then(
      (stored) => {
        if (editor.isDestroyed) return;
        // Not an image: the text has nothing to show for it, but it is attached, and this says where.
        if (!image) {
          settle("attached", `${stored.name} is attached: it is listed under Attachments.`);
          return;
        }
        primeFileUrl(stored.id, file);
        const pending = uploadsKey.getState(editor.state)?.get(id);
        const where = pending ? positionOf(editor.state, pending) : null;
        // The paragraph it was dropped into was deleted meanwhile: the end of the document, rather than nowhere.
        const target = where ?? editor.state.doc.content.size;
        editor.view.dispatch(editor.state.tr.setMeta(uploadsKey, { remove: id } satisfies UploadMeta));
        editor
          .chain()
          .insertContentAt(target, { type: FileImage.name, attrs: { src: filePath(stored.id), fileId: stored.id, alt: stored.name } })
          .run();
      },
      (err: unknown) => {
        if (editor.isDestroyed) return;
        fail(`${file.name} could not be uploaded: ${err instanceof Error ? err.message : "unknown error"}`);
      },
    );
  }
}

/**
 * Drop or paste files into the editor: each uploads with a progress bar; an image then becomes an
 * image node, any other file stays attached to the document (listed under Attachments), as its note says.
 */
export const ImageUpload = Extension.create<ImageUploadOptions>({
  name: "imageUpload",

  addOptions() {
    return { docId: () => null };
  },

  addExtensions() {
    const docId = (): string | null => this.options.docId();
    return [
      FileHandler.configure({
        // Every file: an image becomes part of the text, any other is attached and said so.
        // Pasted HTML that also carries the image file would insert it a second time.
        consumePasteEvent: true,
        onDrop: (editor, files, pos) => uploadImages(editor, files, pos, docId()),
        onPaste: (editor, files) => uploadImages(editor, files, editor.state.selection.from, docId()),
      }),
    ];
  },

  addProseMirrorPlugins() {
    return [uploadsPlugin()];
  },
});
