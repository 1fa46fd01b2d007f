import { useEffect, useId, useRef, useState } from "react";
import type { FormEvent, KeyboardEvent, ReactNode, RefObject } from "react";
import type { Editor } from "@tiptap/react";
import { isAllowedLinkUri, linkHref } from "../editor/link-address";

interface LinkPopoverProps {
  editor: Editor;
  /** The toolbar button that opened it: a click on it toggles rather than closes and reopens. */
  anchor: RefObject<HTMLElement | null>;
  onClose: () => void;
}

/**
 * The link box: adds a link to the selected text (or inserts the address as a link where the
 * caret is), edits the link under the caret, or removes it. Only web and email addresses.
 */
export function LinkPopover({ editor, anchor, onClose }: LinkPopoverProps): ReactNode {
  const current = editor.isActive("link") ? String(editor.getAttributes("link").href ?? "") : "";
  const [address, setAddress] = useState(current);
  const [problem, setProblem] = useState("");
  const box = useRef<HTMLFormElement>(null);
  const input = useRef<HTMLInputElement>(null);
  const inputId = useId();
  const problemId = useId();

  useEffect(() => {
    input.current?.focus();
    input.current?.select();
  }, []);

  useEffect(() => {
    const onPointerDown = (event: PointerEvent): void => {
      const target = event.target;
      if (!(target instanceof Node)) return;
      if (box.current?.contains(target) || anchor.current?.contains(target)) return;
      onClose();
    };
    document.addEventListener("pointerdown", onPointerDown);
    return () => document.removeEventListener("pointerdown", onPointerDown);
  }, [anchor, onClose]);

  const close = (): void => {
    onClose();
    editor.commands.focus();
  };

  const apply = (event: FormEvent): void => {
    event.preventDefault();
    const href = linkHref(address);
    if (href === null) {
      setProblem("Enter a web address (https://…) or an email address.");
      return;
    }
    const { empty } = editor.state.selection;
    if (empty && !editor.isActive("link")) {
      // Nothing selected: the address itself becomes the linked text, and typing after it is plain.
      const text = href.startsWith("mailto:") ? href.slice("mailto:".length) : href;
      editor
        .chain()
        .focus()
        .insertContent({ type: "text", text, marks: [{ type: "link", attrs: { href } }] })
        .unsetMark("link")
        .run();
    } else {
      editor.chain().focus().extendMarkRange("link").setLink({ href }).run();
    }
    onClose();
  };

  const remove = (): void => {
    editor.chain().focus().extendMarkRange("link").unsetLink().run();
    onClose();
  };

  const onKeyDown = (event: KeyboardEvent): void => {
    if (event.key !== "Escape") return;
    event.preventDefault();
    close();
  };

  return (
    <form ref={box} className="link-popover" role="dialog" aria-label={current ? "Edit link" : "Add link"} onSubmit={apply} onKeyDown={onKeyDown}>
      <label htmlFor={inputId}>Link address</label>
      <input
        ref={input}
        id={inputId}
        type="text"
        inputMode="url"
        autoComplete="url"
        spellCheck={false}
        placeholder="https://example.com"
        value={address}
        aria-invalid={problem !== ""}
        aria-describedby={problem ? problemId : undefined}
        onChange={(event) => {
          setAddress(event.target.value);
          setProblem("");
        }}
      />
      {problem && (
        <p id={problemId} className="link-popover-problem" role="alert">
          {problem}
        </p>
      )}
      <div className="link-popover-actions">
        <button type="submit" className="button button-primary button-compact">
          {current ? "Update" : "Add link"}
        </button>
        {current && (
          <>
            {/* The address came from the shared document: offer to open only what may be opened. */}
            {isAllowedLinkUri(current) && (
              <a className="button button-compact" href={current} target="_blank" rel="noopener noreferrer">
                Open
              </a>
            )}
            <button type="button" className="button button-compact" onClick={remove}>
              Remove link
            </button>
          </>
        )}
        <button type="button" className="button button-compact" onClick={close}>
          Cancel
        </button>
      </div>
    </form>
  );
}
