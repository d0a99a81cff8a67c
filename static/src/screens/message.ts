/** One chat message as a list item: author, time, quote, text, reactions and its actions. */

import { h } from "../dom";
import { type Key, formatTime, t, tk } from "../i18n";
import type { Message, Outgoing } from "../hub/channel";

export const REACTIONS = ["👍", "❤️", "😂", "🎉", "😮"];

/** What a message needs from its channel view: who reads, what they may do, and how. */
export interface MessageContext {
  selfId: number;
  writable: boolean;
  moderator: boolean;
  nameOf(userId: number): string;
  /** The author writes as a teacher here: their name carries the staff mark. */
  staff(userId: number): boolean;
  quoted(seq: number): Message | undefined;
  /** The message's attached materials, drawn (null: none). */
  attachments(message: Message): HTMLElement | null;
  reply(message: Message): void;
  react(message: Message, emoji: string, on: boolean): void;
  edit(message: Message): void;
  remove(message: Message): void;
  report(message: Message): void;
  mute(userId: number, minutes: number): void;
  discard(key: string): void;
}

/** A moderator's choices for pausing someone's messages (0 lifts a pause). */
export const MUTE_CHOICES: { minutes: number; label: Key }[] = [
  { minutes: 10, label: tk("mute.ten_minutes") },
  { minutes: 60, label: tk("mute.hour") },
  { minutes: 24 * 60, label: tk("mute.day") },
  { minutes: 0, label: tk("mute.lift") },
];

/** Controls carry `data-control`, by which the view gives the focus back after a redraw. */
function action(control: string, label: string, run: () => void): HTMLElement {
  return h("button", { type: "button", class: "link", "data-control": control, onclick: run }, label);
}

export function renderMessage(message: Message, context: MessageContext): HTMLElement {
  const mine = message.author_id === context.selfId;
  const meta = h(
    "p",
    { class: "meta" },
    h("strong", {}, context.nameOf(message.author_id)),
    " ",
    context.staff(message.author_id) ? h("span", { class: "badge staff-mark" }, t("chat.staff_mark")) : null,
    context.staff(message.author_id) ? " " : null,
    h("time", { datetime: message.created_at }, formatTime(message.created_at)),
    message.edited_at && !message.deleted ? h("span", { class: "edited" }, ` ${t("chat.edited")}`) : null,
  );
  const id = `msg-${message.seq}`;
  if (message.deleted) {
    return h("li", { class: "message deleted", id }, meta, h("p", { class: "text" }, t("chat.deleted")));
  }
  const { writable } = context;
  const actions = [
    writable ? action("reply", t("chat.reply"), () => context.reply(message)) : null,
    writable ? reactChoices(message, context) : null,
    writable && mine ? action("edit", t("chat.edit"), () => context.edit(message)) : null,
    (writable && mine) || context.moderator ? action("delete", t("chat.delete"), () => context.remove(message)) : null,
    mine ? null : action("report", t("chat.report"), () => context.report(message)),
    context.moderator && !mine ? muteChoices(message.author_id, context) : null,
  ].filter((item): item is HTMLElement => item !== null);
  return h(
    "li",
    { class: `message${mine ? " mine" : ""}`, id },
    meta,
    quote(message, context),
    h("p", { class: "text", dir: "auto" }, message.text),
    context.attachments(message),
    reactions(message, context),
    actions.length > 0 ? actionMenu(message, context, actions) : null,
  );
}

/**
 * A message's actions behind one button, so the keyboard passes a message in one Tab stop
 * instead of six (issue 17). Escape closes the menu and gives the focus back to its button.
 */
function actionMenu(message: Message, context: MessageContext, actions: HTMLElement[]): HTMLElement {
  const summary = h(
    "summary",
    { "data-control": "menu", "aria-label": t("chat.actions_for", { name: context.nameOf(message.author_id) }) },
    h("span", { "aria-hidden": "true" }, "⋯"),
  );
  return disclosureMenu("message-menu", summary, actions);
}

/**
 * A menu behind one button (`<details>`), for a message's actions and for a person in "Here
 * now": a chosen action closes it (reply moves the focus to the box, edit opens a dialog), and
 * Escape closes it and gives the focus back to its button.
 */
export function disclosureMenu(className: string, summary: HTMLElement, items: HTMLElement[]): HTMLElement {
  const menu = h("details", { class: className }, summary, h("div", { class: "menu-items" }, ...items));
  menu.addEventListener("click", (event) => {
    if (event.target instanceof HTMLElement && event.target.closest(".menu-items button")) menu.open = false;
  });
  menu.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && menu.open) {
      menu.open = false;
      summary.focus();
    }
  });
  return menu;
}

export function muteChoices(userId: number, context: Pick<MessageContext, "mute">): HTMLElement {
  return h(
    "div",
    { class: "mute-choices", role: "group", "aria-label": t("mute.title") },
    h("span", { class: "menu-label", "aria-hidden": "true" }, t("mute.title")),
    ...MUTE_CHOICES.map((choice) =>
      action(`mute ${choice.minutes}`, t(choice.label), () => context.mute(userId, choice.minutes)),
    ),
  );
}

function quote(message: Message, context: MessageContext): HTMLElement | null {
  if (message.reply_to === null) return null;
  const quoted = context.quoted(message.reply_to);
  return h(
    "p",
    { class: "reply-quote", dir: "auto" },
    quoted
      ? t("chat.reply_to", { name: context.nameOf(quoted.author_id), text: snippet(quoted) })
      : t("chat.reply_to_older"),
  );
}

function reactions(message: Message, context: MessageContext): HTMLElement | null {
  const given = Object.entries(message.reactions).filter(([, users]) => users.length > 0);
  if (given.length === 0) return null;
  return h(
    "div",
    { class: "reactions" },
    ...given.map(([emoji, users]) => {
      const mineToo = users.includes(context.selfId);
      return h(
        "button",
        {
          type: "button",
          class: "reaction",
          "data-control": `reaction ${emoji}`,
          "aria-pressed": mineToo ? "true" : "false",
          "aria-label": t("chat.reaction_label", { emoji, count: users.length }),
          disabled: !context.writable,
          onclick: () => context.react(message, emoji, !mineToo),
        },
        `${emoji} ${users.length}`,
      );
    }),
  );
}

function reactChoices(message: Message, context: MessageContext): HTMLElement {
  return h(
    "div",
    { class: "react-choices", role: "group", "aria-label": t("chat.react") },
    ...REACTIONS.map((emoji) =>
      h(
        "button",
        {
          type: "button",
          "aria-label": t("chat.react_with", { emoji }),
          "data-control": `react ${emoji}`,
          onclick: () => context.react(message, emoji, true),
        },
        emoji,
      ),
    ),
  );
}

/** A message in the outbox: sending, or refused (then it can be removed). */
export function renderOutgoing(item: Outgoing, context: MessageContext): HTMLElement {
  return h(
    "li",
    { class: `message mine pending${item.failed ? " failed" : ""}` },
    h(
      "p",
      { class: "meta" },
      h("strong", {}, context.nameOf(context.selfId)),
      " ",
      item.failed ? t("chat.failed") : t("chat.sending"),
    ),
    h("p", { class: "text", dir: "auto" }, item.text),
    item.mutedUntil ? h("p", { class: "form-error muted-note" }, mutedText(item.mutedUntil)) : null,
    item.failed
      ? h("div", { class: "actions" }, action("discard", t("chat.discard"), () => context.discard(item.key)))
      : null,
  );
}

export function snippet(message: Message): string {
  if (message.deleted) return t("chat.deleted");
  return message.text.length > 80 ? `${message.text.slice(0, 80)}…` : message.text;
}

/** What a muted pupil reads: a teacher paused their messages, and until when. */
export function mutedText(until: Date): string {
  return t("chat.muted_until", { time: formatTime(until.toISOString()) });
}
