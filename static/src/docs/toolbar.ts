/** The formatting toolbar: one tab stop, arrow keys move along it (the ARIA toolbar pattern). */

import { setBlockType, toggleMark, wrapIn } from "prosemirror-commands";
import type { MarkType } from "prosemirror-model";
import { wrapInList } from "prosemirror-schema-list";
import type { EditorState } from "prosemirror-state";
import type { EditorView } from "prosemirror-view";
import { redoCommand, undoCommand } from "y-prosemirror";
import { h } from "../dom";
import { type Key, t, tk } from "../i18n";
import type { DocEditor } from "./editor";
import { schema } from "./schema";

interface Tool {
  label: Key;
  shortcut: string;
  glyph: string;
  command: (state: EditorState, dispatch?: EditorView["dispatch"]) => boolean;
  mark?: MarkType;
}

const { bold, italic, strike } = schema.marks;
const { paragraph, heading, bulletList, orderedList, blockquote } = schema.nodes;

const TOOLS: Tool[] = [
  { label: tk("docs.bold"), shortcut: "Control+B", glyph: "B", command: toggleMark(bold), mark: bold },
  { label: tk("docs.italic"), shortcut: "Control+I", glyph: "I", command: toggleMark(italic), mark: italic },
  { label: tk("docs.strike"), shortcut: "Control+Shift+X", glyph: "S", command: toggleMark(strike), mark: strike },
  { label: tk("docs.heading"), shortcut: "Control+Alt+1", glyph: "H", command: setBlockType(heading, { level: 1 }) },
  { label: tk("docs.paragraph"), shortcut: "Control+Alt+0", glyph: "¶", command: setBlockType(paragraph) },
  { label: tk("docs.bullet_list"), shortcut: "Control+Shift+8", glyph: "•", command: wrapInList(bulletList) },
  { label: tk("docs.ordered_list"), shortcut: "Control+Shift+7", glyph: "1.", command: wrapInList(orderedList) },
  { label: tk("docs.quote"), shortcut: "Control+Shift+B", glyph: "“", command: wrapIn(blockquote) },
  { label: tk("docs.undo"), shortcut: "Control+Z", glyph: "↶", command: undoCommand },
  { label: tk("docs.redo"), shortcut: "Control+Y", glyph: "↷", command: redoCommand },
];

export function renderToolbar(editor: DocEditor): HTMLElement {
  const buttons = TOOLS.map((tool, index) =>
    h(
      "button",
      {
        type: "button",
        class: `tool tool-${index}`,
        tabindex: index === 0 ? 0 : -1,
        "aria-label": t(tool.label),
        title: `${t(tool.label)} (${tool.shortcut})`,
        "aria-keyshortcuts": tool.shortcut,
        "aria-pressed": tool.mark ? "false" : null,
        // Keep the selection in the text: a mouse press must not move the focus.
        onmousedown: (event: Event) => event.preventDefault(),
        onclick: () => editor.run((view) => tool.command(view.state, view.dispatch)),
        // Drawn by CSS: the accessible name is the label, and no visible text contradicts it.
        "data-glyph": tool.glyph,
      },
    ),
  );
  const bar = h("div", { role: "toolbar", class: "doc-toolbar", "aria-label": t("docs.toolbar") }, ...buttons);
  bar.addEventListener("keydown", (event) => {
    const index = buttons.indexOf(document.activeElement as HTMLButtonElement);
    if (index < 0) return;
    const rtl = getComputedStyle(bar).direction === "rtl";
    const step = { ArrowRight: rtl ? -1 : 1, ArrowLeft: rtl ? 1 : -1, Home: -index, End: buttons.length - 1 - index }[event.key];
    if (step === undefined) return;
    event.preventDefault();
    const next = buttons[(index + step + buttons.length) % buttons.length];
    for (const button of buttons) button.tabIndex = button === next ? 0 : -1;
    next.focus();
  });
  return bar;
}

/** Marks which of bold, italic and strike the selection carries. */
export function refreshToolbar(bar: HTMLElement, editor: DocEditor): void {
  const state = editor.view.state;
  const buttons = [...bar.querySelectorAll<HTMLButtonElement>("button")];
  TOOLS.forEach((tool, index) => {
    const button = buttons[index];
    if (!tool.mark) return;
    const { from, $from, to, empty } = state.selection;
    const active = empty ? Boolean(tool.mark.isInSet(state.storedMarks ?? $from.marks())) : state.doc.rangeHasMark(from, to, tool.mark);
    button.setAttribute("aria-pressed", String(active));
  });
}
