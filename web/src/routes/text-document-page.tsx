import { useEffect } from "react";
import type { ReactNode } from "react";
import { Navigate, useParams } from "react-router-dom";
import { EditorContent, useEditor } from "@tiptap/react";
import StarterKit from "@tiptap/starter-kit";
import Collaboration from "@tiptap/extension-collaboration";
import CollaborationCaret from "@tiptap/extension-collaboration-caret";
import type { DocSummary } from "../api/types";
import { canEdit } from "../api/types";
import type { CollabConnection, PresenceUser } from "../collab/collab-provider";
import { useCollabConnection, useCollabState, usePresence, useSelfPresence } from "../collab/use-collab";
import { EditorToolbar } from "../components/editor-toolbar";
import { documentPath } from "../lib/paths";
import { DocumentFrame, DocumentLoading, DocumentUnavailable } from "./document-frame";
import { useDocument } from "./use-document";

/** The Yjs XmlFragment that holds rich text; every client of the platform agrees on it. */
const TEXT_FIELD = "default";

interface EditorProps {
  connection: CollabConnection;
  user: PresenceUser;
  editable: boolean;
  loaded: boolean;
}

function CollaborativeEditor({ connection, user, editable, loaded }: EditorProps): ReactNode {
  const editor = useEditor(
    {
      extensions: [
        // Yjs keeps the undo history (per user, shared-document aware), so ProseMirror's must be off.
        StarterKit.configure({ undoRedo: false }),
        Collaboration.configure({ document: connection.doc, field: TEXT_FIELD }),
        CollaborationCaret.configure({ provider: connection.provider, user }),
      ],
      editable,
      editorProps: {
        attributes: { "aria-label": "Document text", spellcheck: "true" },
      },
    },
    // A new connection means a new Y.Doc, and the editor is bound to its document for life.
    [connection],
  );

  useEffect(() => {
    if (editor.isEditable !== editable) editor.setEditable(editable);
  }, [editor, editable]);

  return (
    <>
      {editable && <EditorToolbar editor={editor} />}
      <main className="editor-scroll">
        <div
          className={`editor-surface${editable ? "" : " editor-readonly"}`}
          data-testid="editor"
          data-loaded={loaded ? "true" : "false"}
        >
          <EditorContent editor={editor} />
        </div>
      </main>
    </>
  );
}

function TextDocument({ doc }: { doc: DocSummary }): ReactNode {
  const user = useSelfPresence();
  const connection = useCollabConnection(doc.id, user);
  const collab = useCollabState(connection);
  const peers = usePresence(connection);
  const editable = canEdit(doc.role) && collab.problem === null;

  return (
    <DocumentFrame doc={doc} status={collab.status} peers={peers} problem={collab.problem}>
      {connection && user ? (
        <CollaborativeEditor key={connection.docId} connection={connection} user={user} editable={editable} loaded={collab.loaded} />
      ) : (
        <main className="editor-scroll" aria-busy="true" />
      )}
    </DocumentFrame>
  );
}

export default function TextDocumentPage(): ReactNode {
  const { id } = useParams();
  const load = useDocument(id);

  if (load.state === "loading") return <DocumentLoading />;
  if (load.state === "error") return <DocumentUnavailable status={load.status} message={load.message} />;
  // Links are shareable, so a board opened at /d/ still lands on the right screen.
  if (load.doc.kind === "board") return <Navigate to={documentPath(load.doc)} replace />;
  return <TextDocument doc={load.doc} />;
}
