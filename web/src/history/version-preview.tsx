// An old version shown as rich text by a read-only editor with the live editor's own schema,
// so headings, lists and code look exactly as they did.

import { useEffect } from "react";
import type { ReactNode } from "react";
import { EditorContent, useEditor } from "@tiptap/react";
import type { Extensions, JSONContent } from "@tiptap/react";

export function VersionPreview({ extensions, content, label = "The document at this version" }: { extensions: Extensions; content: JSONContent | null; label?: string }): ReactNode {
  const editor = useEditor(
    {
      extensions,
      // The Content-Security-Policy refuses injected <style> elements: the base styles ship in tiptap-base.css.
      injectCSS: false,
      editable: false,
      content: content ?? "",
      // A plain div may carry neither a label nor aria-readonly: as a read-only multi-line
      // textbox, screen readers read it like the live editor and say it cannot be changed.
      editorProps: { attributes: { role: "textbox", "aria-multiline": "true", "aria-readonly": "true", "aria-label": label } },
    },
    [extensions],
  );

  useEffect(() => {
    // Replaying a version is not an edit of anything: no update events, no history.
    if (content) editor.commands.setContent(content, { emitUpdate: false });
  }, [editor, content]);

  return <EditorContent editor={editor} />;
}
