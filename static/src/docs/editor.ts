/**
 * One open document: a Y.Doc bound to the server's Yjs socket through the stock y-websocket
 * `WebsocketProvider`, and a ProseMirror view bound to its `content` XmlFragment by
 * y-prosemirror (text, remote cursors from awareness, undo of one's own edits only).
 */

import { baseKeymap, chainCommands, exitCode, setBlockType, toggleMark, wrapIn } from "prosemirror-commands";
import { keymap } from "prosemirror-keymap";
import { type Command, EditorState } from "prosemirror-state";
import { EditorView, type NodeViewConstructor } from "prosemirror-view";
import { liftListItem, sinkListItem, splitListItem, wrapInList } from "prosemirror-schema-list";
import { redoCommand, undoCommand, yCursorPlugin, ySyncPlugin, yUndoPlugin } from "y-prosemirror";
import { WebsocketProvider } from "y-websocket";
import * as Y from "yjs";
import { schema } from "./schema";

/** How the document's link to the server stands, for the indicator. */
export type DocLink = "connecting" | "synced" | "offline" | "ended";

export interface Person {
  clientId: number;
  name: string;
  color: string;
  self: boolean;
}

export interface EditorHooks {
  /** The link changed, or the people in the document did. */
  changed(): void;
  /** The server closed the socket for good (4401 token, 4403 no access, 4404 deleted). */
  ended(code: number): void;
}

/** Close codes after which reconnecting cannot help (docs/PROTOCOL.md, the Yjs socket). */
const FINAL_CLOSES = [4401, 4403, 4404, 4413, 4422];

/** Dark enough for white names on them (WCAG AA), and told apart by a dot in the people list. */
const COLORS = ["#b3261e", "#0b5cad", "#1e7a3c", "#8e24aa", "#a05a00", "#00695c", "#ad1457", "#4a5361"];

function colorOf(userId: number): string {
  return COLORS[userId % COLORS.length];
}

export class DocEditor {
  readonly ydoc = new Y.Doc();
  readonly provider: WebsocketProvider;
  readonly view: EditorView;
  link: DocLink = "connecting";
  /** Edits made while the socket was down: the indicator says they wait to be sent. */
  unsent = false;
  private editable: boolean;

  constructor(
    host: HTMLElement,
    projectId: number,
    docName: string,
    token: string,
    user: { id: number; name: string },
    editable: boolean,
    label: string,
    private readonly hooks: EditorHooks,
    nodeViews: Record<string, NodeViewConstructor> = {},
  ) {
    this.editable = editable;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    this.provider = new WebsocketProvider(`${scheme}//${location.host}/yjs/${projectId}`, docName, this.ydoc, {
      params: { token },
      // One tab, one socket: another tab (perhaps another person's session) syncs via the server.
      disableBc: true,
      maxBackoffTime: 10_000,
      shouldReconnect: (event) => !FINAL_CLOSES.includes(event.code),
    });
    this.provider.awareness.setLocalStateField("user", { name: user.name, color: colorOf(user.id) });
    this.provider.on("status", () => this.refreshLink());
    this.provider.on("sync", () => this.refreshLink());
    this.provider.on("closed", (event) => {
      this.link = "ended";
      hooks.ended(event.code);
    });
    this.provider.awareness.on("change", () => hooks.changed());
    this.ydoc.on("update", (_update: Uint8Array, origin: unknown) => {
      if (origin !== this.provider && !this.provider.synced) {
        this.unsent = true;
        hooks.changed();
      }
    });
    window.addEventListener("offline", this.goOffline);
    window.addEventListener("online", this.goOnline);

    const fragment = this.ydoc.getXmlFragment("content");
    this.view = new EditorView(host, {
      state: EditorState.create({
        schema,
        plugins: [
          ySyncPlugin(fragment),
          yCursorPlugin(this.provider.awareness, { cursorBuilder: cursorLabel }),
          yUndoPlugin(),
          keymap(editingKeys()),
          keymap(baseKeymap),
        ],
      }),
      editable: () => this.editable,
      nodeViews,
      attributes: () => ({
        role: "textbox",
        "aria-multiline": "true",
        "aria-label": label,
        "aria-readonly": String(!this.editable),
        class: "doc-body",
        dir: "auto",
      }),
    });
  }

  /** Observers and archived rooms read only; the server refuses their updates anyway. */
  setEditable(editable: boolean): void {
    if (editable === this.editable) return;
    this.editable = editable;
    this.view.setProps({});
    // The server decides at the handshake whether a socket may write: ask again.
    this.provider.disconnect();
    this.provider.connect();
  }

  get canEdit(): boolean {
    return this.editable;
  }

  people(): Person[] {
    const found: Person[] = [];
    for (const [clientId, state] of this.provider.awareness.getStates()) {
      const user = (state as { user?: { name?: unknown; color?: unknown } }).user;
      if (typeof user?.name !== "string" || typeof user.color !== "string") continue;
      found.push({ clientId, name: user.name, color: user.color, self: clientId === this.ydoc.clientID });
    }
    return found.sort((a, b) => Number(b.self) - Number(a.self) || a.name.localeCompare(b.name));
  }

  /** Runs a toolbar command on the editor, keeping the keyboard focus in the text. */
  run(command: (view: EditorView) => boolean): void {
    command(this.view);
    this.view.focus();
  }

  destroy(): void {
    window.removeEventListener("offline", this.goOffline);
    window.removeEventListener("online", this.goOnline);
    this.view.destroy();
    this.provider.destroy();
    this.ydoc.destroy();
  }

  private refreshLink(): void {
    if (this.link === "ended") return;
    if (this.provider.wsconnected && this.provider.synced) {
      this.link = "synced";
      this.unsent = false;
    } else {
      this.link = navigator.onLine && this.provider.shouldConnect ? "connecting" : "offline";
    }
    this.hooks.changed();
  }

  /** The browser says the network is gone: drop the socket now instead of after 30 s. */
  private readonly goOffline = (): void => {
    this.provider.disconnect();
    this.link = "offline";
    this.hooks.changed();
  };

  private readonly goOnline = (): void => {
    if (this.link === "ended") return;
    this.provider.connect();
    this.refreshLink();
  };
}

/** The remote caret with the writer's name; screen readers get the people list instead. */
function cursorLabel(user: { name: string; color: string }): HTMLElement {
  const caret = document.createElement("span");
  caret.className = "ProseMirror-yjs-cursor";
  caret.style.borderColor = user.color;
  caret.setAttribute("aria-hidden", "true");
  const name = document.createElement("span");
  name.className = "cursor-name";
  name.style.backgroundColor = user.color;
  name.textContent = user.name;
  caret.append(name);
  return caret;
}

function editingKeys(): Record<string, Command> {
  const { bold, italic, strike, code } = schema.marks;
  const { listItem, paragraph, heading, hardBreak } = schema.nodes;
  const breakLine: Command = (state, dispatch) => {
    dispatch?.(state.tr.replaceSelectionWith(hardBreak.create()).scrollIntoView());
    return true;
  };
  return {
    "Mod-z": undoCommand,
    "Mod-y": redoCommand,
    "Mod-Shift-z": redoCommand,
    "Mod-b": toggleMark(bold),
    "Mod-i": toggleMark(italic),
    "Mod-Shift-x": toggleMark(strike),
    "Mod-e": toggleMark(code),
    "Mod-Alt-0": setBlockType(paragraph),
    "Mod-Alt-1": setBlockType(heading, { level: 1 }),
    "Mod-Alt-2": setBlockType(heading, { level: 2 }),
    "Mod-Shift-8": wrapInList(schema.nodes.bulletList),
    "Mod-Shift-7": wrapInList(schema.nodes.orderedList),
    "Mod-Shift-b": wrapIn(schema.nodes.blockquote),
    "Shift-Enter": chainCommands(exitCode, breakLine),
    Enter: splitListItem(listItem),
    // Tab stays the way out of the editor for keyboard users; lists indent with Mod-[ and ].
    "Mod-]": sinkListItem(listItem),
    "Mod-[": liftListItem(listItem),
  };
}
