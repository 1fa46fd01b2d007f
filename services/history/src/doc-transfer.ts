// Export of the current document and import of a file as a new document. Export reads what
// everyone sees now (the edit log plus what the stream holds after it), for anyone who may read
// the document. Import converts and checks the whole file first, then asks docs to create the
// document on the importer's behalf and stores the content as its first edit, by the importer,
// through the edit stream like any other edit: nothing is stored for a file that does not convert.
import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import type { JetStreamClient } from "@nats-io/jetstream";
import { headers as natsHeaders, type NatsConnection } from "@nats-io/transport-node";
import {
  ARCHIVE_FORMAT,
  ARCHIVE_VERSION,
  AppError,
  DocArchive,
  DocFields,
  ExportInput,
  IMPORT_MAX_BYTES,
  IMPORT_MAX_NESTING_DEPTH,
  ImportInput,
  Streams,
  WORKSPACE_ARCHIVE_FORMAT,
  WORKSPACE_ARCHIVE_VERSION,
  WorkspaceExportInput,
  editMessageId,
  importClientId,
  parse,
  parseJson,
  rpc,
  subjects,
  writeEditHeaders,
  type ArchivedComment,
  type Caller,
  type CommentList,
  type DocKind,
  type DocView,
  type ExportedFile,
  type Page,
  type TransferFormat,
  type WorkspaceArchiveDocument,
  type WorkspaceArchiveHeader,
  type WorkspaceMembersView,
  type WorkspaceView,
} from "@palimpsest/contracts";
import { callRpcOk, publishDurably, requireCaller, requireDocPermission, type Logger, type RpcContext, type RpcResult } from "@palimpsest/platform";
import * as Y from "yjs";
import { documentAt, headSeq } from "./document-state.ts";
import { readEdits } from "./edit-reader.ts";
import { fromHtml, toHtml } from "./doc-formats/html.ts";
import { fromMarkdown, toMarkdown } from "./doc-formats/markdown.ts";
import { fragmentToJson, jsonToDoc, plainText, type PmNode } from "./doc-formats/prosemirror.ts";
import type { HistoryDb } from "./schema.ts";
import type { SnapshotStore } from "./snapshot-store.ts";

/** Room in a reply for the envelope around the file. */
const REPLY_HEADROOM_BYTES = 64 * 1024;
const DEFAULT_TITLE = "Imported document";

const MEDIA_TYPES: Record<TransferFormat, string> = {
  md: "text/markdown; charset=utf-8",
  html: "text/html; charset=utf-8",
  archive: "application/json; charset=utf-8",
};
const EXTENSIONS: Record<TransferFormat, string> = { md: ".md", html: ".html", archive: ".palimpsest.json" };

/** A file name from a title: letters, digits and dashes, never empty. */
export function fileNameOf(title: string, format: TransferFormat): string {
  const base = title
    .normalize("NFKD")
    .replace(/[^\w\s-]/g, "")
    .trim()
    .replace(/[\s_]+/g, "-")
    .slice(0, 80);
  return `${base || "document"}${EXTENSIONS[format]}`;
}

/** A board's cards as a list (each card's words, and its address): Markdown and HTML have no boards. */
function boardAsNodes(doc: Y.Doc): PmNode[] {
  const items: PmNode[] = [];
  doc.getMap(DocFields.board).forEach((value) => {
    if (!(value instanceof Y.Map)) return;
    const words = String(value.get("text") ?? "").trim();
    const url = value.get("url");
    const content: PmNode[] = [];
    if (words) content.push({ type: "text", text: words });
    if (typeof url === "string" && url) content.push({ type: "text", text: `${words ? " " : ""}${url}`, marks: [{ type: "link", attrs: { href: url } }] });
    if (content.length > 0) items.push({ type: "listItem", content: [{ type: "paragraph", content }] });
  });
  return items.length > 0 ? [{ type: "bulletList", content: items }] : [];
}

/** What Markdown and HTML show of a document: its rich text, or its plain text, or its cards. */
export function contentNodes(doc: Y.Doc, kind: DocKind): PmNode[] {
  if (kind === "board") return boardAsNodes(doc);
  const rich = doc.share.has(DocFields.richText) ? fragmentToJson(doc.getXmlFragment(DocFields.richText)) : [];
  if (rich.length > 0 || !doc.share.has(DocFields.plainText)) return rich;
  return doc
    .getText(DocFields.plainText)
    .toString()
    .split("\n")
    .map((line): PmNode => (line ? { type: "paragraph", content: [{ type: "text", text: line }] } : { type: "paragraph" }));
}

interface Prepared {
  title: string;
  kind: DocKind;
  /** The content as one update; null when there is none. */
  update: Uint8Array | null;
  comments: ArchivedComment[];
}

function firstHeading(nodes: readonly PmNode[]): string | undefined {
  const heading = nodes.find((n) => n.type === "heading");
  const text = heading ? plainText(heading.content).replace(/\s+/g, " ").trim().slice(0, 200) : "";
  return text || undefined;
}

/**
 * Refuses a document nested deeper than an import may be: readers render nested types
 * recursively, and a deep enough document would overflow their stacks. Walks every item,
 * deleted ones too (their types stay), and never deeper than the limit.
 */
function checkNesting(doc: Y.Doc): void {
  const walk = (type: Y.AbstractType<Y.YEvent<Y.AbstractType<unknown>>>, depth: number): void => {
    if (depth > IMPORT_MAX_NESTING_DEPTH) throw new AppError("UPDATE_TOO_DEEP", `the document nests deeper than ${IMPORT_MAX_NESTING_DEPTH} levels`);
    const visit = (item: Y.Item | null) => {
      if (item && item.content instanceof Y.ContentType) walk(item.content.type, depth + 1);
    };
    for (let item = type._start; item; item = item.right) visit(item);
    for (const item of type._map.values()) visit(item);
  };
  for (const type of doc.share.values()) walk(type, 1);
}

function updateOf(doc: Y.Doc): Uint8Array | null {
  checkNesting(doc);
  const update = Y.encodeStateAsUpdate(doc);
  const decoded = Y.decodeUpdate(update);
  return decoded.structs.length === 0 && decoded.ds.clients.size === 0 ? null : update;
}

/** The archive's Yjs state, applied to a new document, or MALFORMED_UPDATE when it does not make one whole. */
function archivedState(base64: string): Y.Doc {
  const bytes = Buffer.from(base64, "base64");
  const doc = new Y.Doc();
  try {
    Y.applyUpdate(doc, bytes);
  } catch (err) {
    doc.destroy();
    throw new AppError("MALFORMED_UPDATE", "the archive's yjsState is not a Yjs update", { cause: err });
  }
  // An update that builds on changes it does not include leaves them pending: not a whole document.
  if (doc.store.pendingStructs !== null || doc.store.pendingDs !== null) {
    doc.destroy();
    throw new AppError("MALFORMED_UPDATE", "the archive's yjsState is incomplete: it refers to changes it does not contain");
  }
  return doc;
}

/** The file as a new document's title, kind, content and comments; throws on anything that does not convert. */
export function prepareImport(format: TransferFormat, text: string, title: string | undefined): Prepared {
  if (format === "archive") {
    const archive = parse(DocArchive, parseJson(text, "archive"), "archive");
    const doc = archivedState(archive.yjsState);
    try {
      return { title: title ?? archive.document.title, kind: archive.document.kind, update: updateOf(doc), comments: archive.comments };
    } finally {
      doc.destroy();
    }
  }
  let nodes: PmNode[];
  try {
    nodes = format === "md" ? fromMarkdown(text) : fromHtml(text);
  } catch (err) {
    // The parsers and converters recurse into nested blocks; a file nested thousands deep ends here.
    if (err instanceof RangeError) throw new AppError("UPDATE_TOO_DEEP", "the file nests too deeply to import", { cause: err });
    throw err;
  }
  const doc = jsonToDoc(nodes, DocFields.richText);
  try {
    return { title: title ?? firstHeading(nodes) ?? DEFAULT_TITLE, kind: "text", update: updateOf(doc), comments: [] };
  } finally {
    doc.destroy();
  }
}

function decodeFile(base64: string): string {
  const bytes = Buffer.from(base64, "base64");
  if (bytes.byteLength > IMPORT_MAX_BYTES) throw new AppError("PAYLOAD_TOO_LARGE", `an imported file may have at most ${IMPORT_MAX_BYTES} bytes`);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes).replace(/^\uFEFF/, "");
  } catch {
    throw new AppError("VALIDATION_FAILED", "the file is not UTF-8 text");
  }
}

export function createDocTransfer(db: Kysely<HistoryDb>, nc: NatsConnection, js: JetStreamClient, snapshots: SnapshotStore, log: Logger) {
  const onBehalf = (ctx: RpcContext, input: unknown) => ({ requestId: ctx.requestId, ...(ctx.token ? { token: ctx.token } : {}), input });

  /** The document as everyone sees it now: the edit log's head, and what the stream stored after it. */
  async function currentDocument(docId: string): Promise<{ doc: Y.Doc; version: number }> {
    const head = await headSeq(db, docId);
    const [state, storedUpTo] = await Promise.all([
      documentAt(db, js, snapshots, docId, head),
      js.jetstreamManager(false).then((jsm) => jsm.streams.getMessage(Streams.edits, { last_by_subj: subjects.edits(docId) })).then((m) => m?.seq ?? 0),
    ]);
    let version = head;
    for await (const e of readEdits(js, docId, state.streamSeq + 1, storedUpTo)) {
      Y.applyUpdate(state.doc, e.update);
      version++;
    }
    return { doc: state.doc, version };
  }

  async function archiveOf(ctx: RpcContext, view: DocView, doc: Y.Doc, version: number): Promise<string> {
    return `${JSON.stringify(await archiveObject(ctx, view, doc, version), null, 2)}\n`;
  }

  async function archiveObject(ctx: RpcContext, view: DocView, doc: Y.Doc, version: number): Promise<DocArchive> {
    const list = await callRpcOk<CommentList>(nc, rpc.docs.comments, onBehalf(ctx, { id: view.id, status: "all" }));
    const comments = list.items.map(
      (t): ArchivedComment => ({
        body: t.body,
        authorId: t.authorId,
        authorName: t.authorName,
        createdAt: t.createdAt,
        resolved: t.resolved,
        ...(t.anchor ? { anchor: t.anchor } : {}),
        replies: t.replies.map((r) => ({ body: r.body, authorId: r.authorId, authorName: r.authorName, createdAt: r.createdAt })),
      }),
    );
    const archive: DocArchive = {
      format: ARCHIVE_FORMAT,
      version: ARCHIVE_VERSION,
      document: { title: view.title, kind: view.kind, exportedAt: new Date().toISOString(), version },
      comments,
      yjsState: Buffer.from(Y.encodeStateAsUpdate(doc)).toString("base64"),
    };
    return archive;
  }

  /** Recreates the archive's threads, as the importer's: the anchors point into the state stored unchanged. */
  async function recreateComments(ctx: RpcContext, docId: string, comments: readonly ArchivedComment[]): Promise<void> {
    for (const c of comments) {
      const thread = await callRpcOk<{ id: string }>(nc, rpc.docs.addComment, onBehalf(ctx, { id: docId, body: { body: c.body, ...(c.anchor ? { anchor: c.anchor } : {}) } }));
      for (const r of c.replies) await callRpcOk(nc, rpc.docs.reply, onBehalf(ctx, { id: thread.id, body: { body: r.body } }));
      if (c.resolved) await callRpcOk(nc, rpc.docs.updateComment, onBehalf(ctx, { id: thread.id, body: { resolved: true } }));
    }
  }

  async function storeContent(caller: Caller, docId: string, update: Uint8Array): Promise<void> {
    const h = natsHeaders();
    writeEditHeaders(h, {
      author: caller.userId,
      client: importClientId(randomUUID()),
      replica: "history",
      ...(caller.token ? { via: { tokenId: caller.token.id, name: caller.token.name } } : {}),
    });
    await publishDurably(js, subjects.edits(docId), update, { msgID: editMessageId(docId, update), headers: h });
  }

  return {
    /** `rpc.history.export`: the current document as a file, for anyone who may read it. */
    async export(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireCaller(ctx);
      const q = parse(ExportInput, input, "request");
      await requireDocPermission(nc, { docId: q.id, userId: caller.userId, scopes: caller.token?.scopes, requestId: ctx.requestId }, "read", "you may not read this document");
      const view = await callRpcOk<DocView>(nc, rpc.docs.get, onBehalf(ctx, { id: q.id }));
      const { doc, version } = await currentDocument(q.id);
      try {
        const content =
          q.format === "archive" ? await archiveOf(ctx, view, doc, version) : q.format === "md" ? toMarkdown(contentNodes(doc, view.kind)) : toHtml(contentNodes(doc, view.kind), view.title);
        const file: ExportedFile = { filename: fileNameOf(view.title, q.format), contentType: MEDIA_TYPES[q.format], content };
        const maxBytes = (nc.info?.max_payload ?? 1024 * 1024) - REPLY_HEADROOM_BYTES;
        if (Buffer.byteLength(content) > maxBytes) throw new AppError("PAYLOAD_TOO_LARGE", "the document is too large to export in one file");
        return { body: file };
      } finally {
        doc.destroy();
      }
    },

    /**
     * `rpc.history.export-workspace`: one page of a workspace's NDJSON archive, for its owners,
     * admins and auditors (who read every document in it): the header first, then one document a
     * page (a document's archive may be near a reply's size on its own). The cursor is the
     * document list's, so the pages follow the list the caller would see.
     */
    async exportWorkspace(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      requireCaller(ctx);
      const q = parse(WorkspaceExportInput, input, "request");
      const workspace = await callRpcOk<WorkspaceView>(nc, rpc.docs.workspace, onBehalf(ctx, { id: q.id }));
      if (!["owner", "admin", "auditor"].includes(workspace.role)) throw new AppError("FORBIDDEN", "only the workspace's owners, admins and auditors export it whole");
      let header = "";
      if (q.cursor === undefined) {
        const members = await callRpcOk<WorkspaceMembersView>(nc, rpc.docs.workspaceMembers, onBehalf(ctx, { id: q.id }));
        const line: WorkspaceArchiveHeader = {
          type: "workspace",
          format: WORKSPACE_ARCHIVE_FORMAT,
          version: WORKSPACE_ARCHIVE_VERSION,
          workspace: { id: workspace.id, name: workspace.name, exportedAt: new Date().toISOString() },
          members: members.items.map((m) => ({ userId: m.userId, name: m.name, email: m.email, role: m.role })),
        };
        header = `${JSON.stringify(line)}\n`;
      }
      const page = await callRpcOk<Page<DocView>>(nc, rpc.docs.list, onBehalf(ctx, { workspaceId: q.id, limit: 1, ...(q.cursor && q.cursor !== "start" ? { cursor: q.cursor } : {}) }));
      let chunk = header;
      for (const view of page.items) {
        const { doc, version } = await currentDocument(view.id);
        try {
          const line: WorkspaceArchiveDocument = { type: "document", id: view.id, archive: await archiveObject(ctx, view, doc, version) };
          chunk += `${JSON.stringify(line)}\n`;
        } finally {
          doc.destroy();
        }
      }
      const maxBytes = (nc.info?.max_payload ?? 1024 * 1024) - REPLY_HEADROOM_BYTES;
      if (Buffer.byteLength(chunk) > maxBytes) throw new AppError("PAYLOAD_TOO_LARGE", `the document "${page.items[0]?.title ?? ""}" is too large to export in one piece`);
      return { body: { chunk, nextCursor: page.nextCursor } };
    },

    /** `rpc.history.import`: a new document from a file, its content stored as its first edit, by the importer. */
    async import(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireCaller(ctx);
      const q = parse(ImportInput, input, "request");
      const prepared = prepareImport(q.format, decodeFile(q.content), q.title?.trim() || undefined);
      const created = await callRpcOk<DocView>(nc, rpc.docs.create, onBehalf(ctx, { body: { title: prepared.title, kind: prepared.kind, ...(q.workspaceId ? { workspaceId: q.workspaceId } : {}) } }));
      try {
        if (prepared.update) await storeContent(caller, created.id, prepared.update);
        await recreateComments(ctx, created.id, prepared.comments);
      } catch (err) {
        // Half an import is worse than none: the new document goes to the importer's trash.
        await callRpcOk(nc, rpc.docs.trash, onBehalf(ctx, { id: created.id })).catch((trashErr: unknown) => log.error({ err: trashErr, docId: created.id }, "could not trash a half-imported document"));
        throw err;
      }
      log.info({ docId: created.id, format: q.format, bytes: prepared.update?.byteLength ?? 0, comments: prepared.comments.length }, "document imported");
      return { status: 201, body: created };
    },
  };
}
