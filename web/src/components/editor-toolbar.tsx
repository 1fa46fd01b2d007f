import { useCallback, useEffect, useRef } from "react";
import type { ReactNode } from "react";
import { useEditorState } from "@tiptap/react";
import type { Editor } from "@tiptap/react";
import { LinkPopover } from "./link-popover";

interface ToolbarState {
  bold: boolean;
  italic: boolean;
  h1: boolean;
  h2: boolean;
  h3: boolean;
  bulletList: boolean;
  orderedList: boolean;
  taskList: boolean;
  blockquote: boolean;
  codeBlock: boolean;
  link: boolean;
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

interface EditorToolbarProps {
  editor: Editor;
  /** The document is read-only for me; the tools stay visible but inert. */
  disabled?: boolean;
  /** Whether the link box is open (Mod-K in the text opens it too). */
  linkOpen: boolean;
  onLinkOpenChange: (open: boolean) => void;
}

export function EditorToolbar({ editor, disabled = false, linkOpen, onLinkOpenChange }: EditorToolbarProps): ReactNode {
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
      taskList: e.isActive("taskList"),
      blockquote: e.isActive("blockquote"),
      codeBlock: e.isActive("codeBlock"),
      link: e.isActive("link"),
      canUndo: e.can().undo(),
      canRedo: e.can().redo(),
    }),
  });

  const chain = () => editor.chain().focus();
  const linkAnchor = useRef<HTMLSpanElement>(null);
  const closeLink = useCallback(() => onLinkOpenChange(false), [onLinkOpenChange]);
  // Made a viewer while the link box was open: it closes rather than coming back later.
  useEffect(() => {
    if (disabled && linkOpen) onLinkOpenChange(false);
  }, [disabled, linkOpen, onLinkOpenChange]);

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
        <ToolButton label="H1, heading 1" disabled={disabled} active={state.h1} onRun={() => chain().toggleHeading({ level: 1 }).run()}>
          H1
        </ToolButton>
        <ToolButton label="H2, heading 2" disabled={disabled} active={state.h2} onRun={() => chain().toggleHeading({ level: 2 }).run()}>
          H2
        </ToolButton>
        <ToolButton label="H3, heading 3" disabled={disabled} active={state.h3} onRun={() => chain().toggleHeading({ level: 3 }).run()}>
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
        <ToolButton label="Checklist" disabled={disabled} shortcut={isMac ? "⇧⌘9" : "Ctrl+Shift+9"} active={state.taskList} onRun={() => chain().toggleTaskList().run()}>
          <svg viewBox="0 0 20 20" aria-hidden="true">
            <rect x="2.5" y="3" width="4.5" height="4.5" rx="1" />
            <path d="m3.4 14 1.3 1.3 2.3-2.6M9.5 5.25H17M9.5 14H17" />
          </svg>
        </ToolButton>
      </div>
      <div className="tool-group">
        <ToolButton label="Quote" disabled={disabled} active={state.blockquote} onRun={() => chain().toggleBlockquote().run()}>
          <svg viewBox="0 0 20 20" aria-hidden="true"><path d="M4 4.5v11M8 6.5h8M8 10h8M8 13.5h5" /></svg>
        </ToolButton>
        <ToolButton label="Code block" disabled={disabled} active={state.codeBlock} onRun={() => chain().toggleCodeBlock().run()}>
          <svg viewBox="0 0 20 20" aria-hidden="true"><path d="M7 6 3 10l4 4M13 6l4 4-4 4" /></svg>
        </ToolButton>
        <span className="tool-anchor" ref={linkAnchor}>
          <ToolButton
            label="Link"
            disabled={disabled}
            shortcut={`${mod}K`}
            active={state.link || (linkOpen && !disabled)}
            onRun={() => onLinkOpenChange(!linkOpen)}
          >
            <svg viewBox="0 0 20 20" aria-hidden="true">
              <path d="M8.5 11.5a3.2 3.2 0 0 0 4.6 0l2.6-2.6a3.2 3.2 0 0 0-4.6-4.6l-1 1M11.5 8.5a3.2 3.2 0 0 0-4.6 0l-2.6 2.6a3.2 3.2 0 0 0 4.6 4.6l1-1" />
            </svg>
          </ToolButton>
          {linkOpen && !disabled && <LinkPopover editor={editor} anchor={linkAnchor} onClose={closeLink} />}
        </span>
      </div>
    </div>
  );
}
