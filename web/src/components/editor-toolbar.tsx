import type { ReactNode } from "react";
import { useEditorState } from "@tiptap/react";
import type { Editor } from "@tiptap/react";

interface ToolbarState {
  bold: boolean;
  italic: boolean;
  h1: boolean;
  h2: boolean;
  h3: boolean;
  bulletList: boolean;
  orderedList: boolean;
  codeBlock: boolean;
  canUndo: boolean;
  canRedo: boolean;
}

const isMac = typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.userAgent);
const mod = isMac ? "⌘" : "Ctrl+";

interface ToolButtonProps {
  label: string;
  shortcut?: string;
  active?: boolean;
  disabled?: boolean;
  onRun: () => void;
  children: ReactNode;
}

function ToolButton({ label, shortcut, active, disabled, onRun, children }: ToolButtonProps): ReactNode {
  return (
    <button
      type="button"
      className={`tool${active ? " tool-active" : ""}`}
      aria-label={label}
      aria-pressed={active === undefined ? undefined : active}
      title={shortcut ? `${label} (${shortcut})` : label}
      disabled={disabled}
      // Keep the text selection: a click on the toolbar must not blur the editor first.
      onMouseDown={(event) => event.preventDefault()}
      onClick={onRun}
    >
      {children}
    </button>
  );
}

/** `disabled`: the document is read-only for me; the tools stay visible but inert. */
export function EditorToolbar({ editor, disabled = false }: { editor: Editor; disabled?: boolean }): ReactNode {
  const state = useEditorState<ToolbarState>({
    editor,
    selector: ({ editor: e }) => ({
      bold: e.isActive("bold"),
      italic: e.isActive("italic"),
      h1: e.isActive("heading", { level: 1 }),
      h2: e.isActive("heading", { level: 2 }),
      h3: e.isActive("heading", { level: 3 }),
      bulletList: e.isActive("bulletList"),
      orderedList: e.isActive("orderedList"),
      codeBlock: e.isActive("codeBlock"),
      canUndo: e.can().undo(),
      canRedo: e.can().redo(),
    }),
  });

  const chain = () => editor.chain().focus();

  return (
    <div
      className={`toolbar${disabled ? " toolbar-disabled" : ""}`}
      role="toolbar"
      aria-label="Formatting"
      aria-disabled={disabled}
      title={disabled ? "View only: you can read this document but not change it" : undefined}
    >
      <div className="tool-group">
        <ToolButton label="Undo" shortcut={`${mod}Z`} disabled={disabled || !state.canUndo} onRun={() => chain().undo().run()}>
          <svg viewBox="0 0 20 20" aria-hidden="true"><path d="M7 5 3 9l4 4M3.5 9H12a4.5 4.5 0 0 1 0 9h-2" /></svg>
        </ToolButton>
        <ToolButton label="Redo" shortcut={isMac ? "⇧⌘Z" : "Ctrl+Y"} disabled={disabled || !state.canRedo} onRun={() => chain().redo().run()}>
          <svg viewBox="0 0 20 20" aria-hidden="true"><path d="m13 5 4 4-4 4M16.5 9H8a4.5 4.5 0 0 0 0 9h2" /></svg>
        </ToolButton>
      </div>
      <div className="tool-group">
        <ToolButton label="Bold" disabled={disabled} shortcut={`${mod}B`} active={state.bold} onRun={() => chain().toggleBold().run()}>
          <strong>B</strong>
        </ToolButton>
        <ToolButton label="Italic" disabled={disabled} shortcut={`${mod}I`} active={state.italic} onRun={() => chain().toggleItalic().run()}>
          <em>I</em>
        </ToolButton>
      </div>
      <div className="tool-group">
        <ToolButton label="Heading 1" disabled={disabled} active={state.h1} onRun={() => chain().toggleHeading({ level: 1 }).run()}>
          H1
        </ToolButton>
        <ToolButton label="Heading 2" disabled={disabled} active={state.h2} onRun={() => chain().toggleHeading({ level: 2 }).run()}>
          H2
        </ToolButton>
        <ToolButton label="Heading 3" disabled={disabled} active={state.h3} onRun={() => chain().toggleHeading({ level: 3 }).run()}>
          H3
        </ToolButton>
      </div>
      <div className="tool-group">
        <ToolButton label="Bulleted list" disabled={disabled} active={state.bulletList} onRun={() => chain().toggleBulletList().run()}>
          <svg viewBox="0 0 20 20" aria-hidden="true">
            <circle cx="4" cy="5.5" r="1.2" className="fill" />
            <circle cx="4" cy="10" r="1.2" className="fill" />
            <circle cx="4" cy="14.5" r="1.2" className="fill" />
            <path d="M8 5.5h9M8 10h9M8 14.5h9" />
          </svg>
        </ToolButton>
        <ToolButton label="Numbered list" disabled={disabled} active={state.orderedList} onRun={() => chain().toggleOrderedList().run()}>
          <svg viewBox="0 0 20 20" aria-hidden="true">
            <path d="M3 4h1.5v4M3 8h3M3 12.5c0-1 3-1 3 0 0 .8-3 2-3 3h3M8.5 5.5h8.5M8.5 10h8.5M8.5 14.5h8.5" />
          </svg>
        </ToolButton>
        <ToolButton label="Code block" disabled={disabled} active={state.codeBlock} onRun={() => chain().toggleCodeBlock().run()}>
          <svg viewBox="0 0 20 20" aria-hidden="true"><path d="M7 6 3 10l4 4M13 6l4 4-4 4" /></svg>
        </ToolButton>
      </div>
    </div>
  );
}
