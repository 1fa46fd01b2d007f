/**
 * Export and import of one document: the formats, the limits, and the archive's shape. The
 * gateway checks the query and the size at the edge; history converts, and checks again.
 */
import { Type, type Static } from "@sinclair/typebox";
import { CommentAnchor, CommentBody, DocKind } from "./events.ts";
import { SAFE_ID_PATTERN } from "./ids.ts";

const Id = Type.String({ pattern: SAFE_ID_PATTERN });

/** `md` and `html` carry the rich text; `archive` the whole document (Yjs state, title, comments). */
export const TransferFormats = ["md", "html", "archive"] as const;
export type TransferFormat = (typeof TransferFormats)[number];
export const TransferFormat = Type.Union(TransferFormats.map((f) => Type.Literal(f)));

/**
 * The largest file an import takes. It travels base64-encoded in one NATS message (4/3 larger),
 * which the servers' `max_payload` of 8 MB must hold with room for the request around it.
 * @default 5 MiB
 */
export const IMPORT_MAX_BYTES = 5 * 1024 * 1024;

/** What an import's body may be sent as; any charset parameter is allowed. */
export const IMPORT_MEDIA_TYPES = ["text/markdown", "text/x-markdown", "text/html", "text/plain", "application/json", "application/octet-stream"] as const;

export const ExportQuery = Type.Object({ format: TransferFormat }, { additionalProperties: false });
export type ExportQuery = Static<typeof ExportQuery>;
export const ExportInput = Type.Object({ id: Id, format: TransferFormat }, { additionalProperties: false });
export type ExportInput = Static<typeof ExportInput>;

export const ImportQuery = Type.Object(
  {
    format: TransferFormat,
    /** The new document's title; by default the archive's, the first heading's, or "Imported document". */
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    /** Made in this workspace (its owners, admins and members may); without it, the importer's own. */
    workspaceId: Type.Optional(Type.String({ pattern: SAFE_ID_PATTERN })),
  },
  { additionalProperties: false },
);
export type ImportQuery = Static<typeof ImportQuery>;

const BASE64 = "^[A-Za-z0-9+/]*={0,2}$";

export const ImportInput = Type.Object(
  {
    format: TransferFormat,
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    workspaceId: Type.Optional(Type.String({ pattern: SAFE_ID_PATTERN })),
    /** The file's bytes, base64. */
    content: Type.String({ pattern: BASE64, maxLength: Math.ceil(IMPORT_MAX_BYTES / 3) * 4 }),
  },
  { additionalProperties: false },
);
export type ImportInput = Static<typeof ImportInput>;

/** `GET /api/workspaces/:id/export`, one page of it: the workspace id and where the last page ended. */
export const WorkspaceExportInput = Type.Object({ id: Id, cursor: Type.Optional(Type.String({ maxLength: 400 })) }, { additionalProperties: false });
export type WorkspaceExportInput = Static<typeof WorkspaceExportInput>;

export const WORKSPACE_ARCHIVE_FORMAT = "palimpsest-workspace-archive";
export const WORKSPACE_ARCHIVE_VERSION = 1;

/**
 * A whole workspace as one NDJSON file: this line first, then one `WorkspaceArchiveDocument` per
 * document (each imports on its own with `POST /api/docs/import?format=archive`).
 */
export interface WorkspaceArchiveHeader {
  type: "workspace";
  format: typeof WORKSPACE_ARCHIVE_FORMAT;
  version: typeof WORKSPACE_ARCHIVE_VERSION;
  workspace: { id: string; name: string; exportedAt: string };
  members: { userId: string; name: string; email: string; role: string }[];
}

export interface WorkspaceArchiveDocument {
  type: "document";
  id: string;
  archive: DocArchive;
}

/** A download, as history answers it and the gateway sends it. */
export interface ExportedFile {
  filename: string;
  contentType: string;
  /** The file's text (every format is UTF-8 text). */
  content: string;
}

export const ARCHIVE_FORMAT = "palimpsest-archive";
export const ARCHIVE_VERSION = 1;

const Text = (maxLength: number) => Type.String({ maxLength });
const Time = Type.String({ format: "date-time" });

const ArchivedReply = Type.Object(
  { body: CommentBody, authorId: Text(200), authorName: Text(200), createdAt: Time },
  { additionalProperties: false },
);

/**
 * A thread as archived. The anchor's relative positions still point into the archived Yjs state,
 * which an import stores unchanged, so they stay where they were.
 */
export const ArchivedComment = Type.Object(
  {
    body: CommentBody,
    authorId: Text(200),
    authorName: Text(200),
    createdAt: Time,
    resolved: Type.Boolean(),
    anchor: Type.Optional(CommentAnchor),
    replies: Type.Array(ArchivedReply, { maxItems: 1_000 }),
  },
  { additionalProperties: false },
);
export type ArchivedComment = Static<typeof ArchivedComment>;

/** `?format=archive`: a document with everything needed to make it again, as one JSON file. */
export const DocArchive = Type.Object(
  {
    format: Type.Literal(ARCHIVE_FORMAT),
    version: Type.Literal(ARCHIVE_VERSION),
    document: Type.Object(
      {
        title: Type.String({ minLength: 1, maxLength: 200 }),
        kind: DocKind,
        exportedAt: Time,
        /** The document's version (its number of stored edits) when it was exported. */
        version: Type.Integer({ minimum: 0 }),
      },
      { additionalProperties: false },
    ),
    comments: Type.Array(ArchivedComment, { maxItems: 10_000 }),
    /** The whole document as one Yjs update (`Y.encodeStateAsUpdate`), base64. */
    yjsState: Type.String({ pattern: BASE64, maxLength: Math.ceil(IMPORT_MAX_BYTES / 3) * 4 }),
  },
  { additionalProperties: false },
);
export type DocArchive = Static<typeof DocArchive>;

const LINK_PROTOCOLS: ReadonlySet<string> = new Set(["http:", "https:", "mailto:"]);

/**
 * Whether an imported link may be kept: web pages and email addresses, never a script. Parsed the
 * way a browser does when it is followed, so `java\tscript:` does not hide its scheme; the web
 * editor's link box applies the same rule (web/src/editor/link-address.ts).
 */
export function isAllowedLinkHref(href: string): boolean {
  try {
    return LINK_PROTOCOLS.has(new URL(href, "https://relative.invalid/").protocol);
  } catch {
    return false;
  }
}

const FILE_PATH = /^\/api\/files\/[A-Za-z0-9_-]{1,64}$/;

/** Whether an imported image may be kept: an http(s) address, or one of this server's files. */
export function isAllowedImageSrc(src: string): boolean {
  if (FILE_PATH.test(src)) return true;
  try {
    const url = new URL(src);
    return url.protocol === "https:" || url.protocol === "http:";
  } catch {
    return false;
  }
}

/**
 * The deepest nesting of shared types (elements in elements) an imported document may have;
 * deeper is refused as UPDATE_TOO_DEEP. Below the sync service's own limit for typed updates
 * (SYNC_MAX_NESTING_DEPTH, 256 by default), so what is imported can be opened and edited.
 * @default 128
 */
export const IMPORT_MAX_NESTING_DEPTH = 128;
