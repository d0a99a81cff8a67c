/**
 * Forum and bulletin posts as list items, and the server's HTML (post bodies, search snippets)
 * rebuilt element by element from an allow-list, so nothing beyond PROTOCOL.md's light markup
 * can reach the page even if the server were wrong.
 */

import { h } from "../dom";
import { formatTime, t } from "../i18n";
import { boards, type Post } from "../forums/api";
import { ask } from "./dialog";
import { REACTIONS } from "./message";

const ALLOWED = new Set(["P", "BR", "STRONG", "EM", "CODE", "A", "UL", "LI", "BLOCKQUOTE", "MARK"]);
const SAFE_LINK = /^(https?:|mailto:)/i;

/** Copies `html` into a fragment keeping only allowed elements (others become their text). */
export function safeFragment(html: string, allowed: Set<string> = ALLOWED): DocumentFragment {
  const parsed = new DOMParser().parseFromString(html, "text/html").body;
  const out = document.createDocumentFragment();
  const copy = (from: Node, to: Node): void => {
    for (const child of from.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) {
        to.appendChild(document.createTextNode(child.textContent ?? ""));
      } else if (child instanceof Element && allowed.has(child.tagName)) {
        const element = document.createElement(child.tagName.toLowerCase());
        const href = child.getAttribute("href");
        if (child.tagName === "A" && href && SAFE_LINK.test(href)) {
          element.setAttribute("href", href);
          element.setAttribute("rel", "nofollow noopener");
        }
        copy(child, element);
        to.appendChild(element);
      } else {
        copy(child, to);
      }
    }
  };
  copy(parsed, out);
  return out;
}

export const SNIPPET_TAGS = new Set(["MARK"]);

/** What a post needs from its page: who reads, what they may do, and how. */
export interface PostContext {
  selfId: number;
  writable: boolean;
  moderator: boolean;
  nameOf(userId: number): string;
  quoted(postId: number): Post | undefined;
  reply: ((post: Post) => void) | null;
  /** A forum post's attached materials, drawn (absent or null: none, as on the bulletin). */
  attachments?(post: Post): HTMLElement | null;
  run(action: "react" | "edit" | "delete" | "report", post: Post, emoji?: string, on?: boolean): void;
}

function button(control: string, label: string, run: () => void): HTMLElement {
  return h("button", { type: "button", class: "link", "data-control": control, onclick: run }, label);
}

export function renderPost(post: Post, context: PostContext): HTMLElement {
  const mine = post.author_id === context.selfId;
  const meta = h(
    "p",
    { class: "meta" },
    h("strong", {}, context.nameOf(post.author_id)),
    " ",
    h("time", { datetime: post.created_at }, formatTime(post.created_at)),
    post.edited_at && !post.deleted ? ` ${t("chat.edited")}` : "",
  );
  const id = `post-${post.id}`;
  if (post.deleted) return h("li", { class: "post deleted", id }, meta, h("p", { class: "body" }, t("forums.post_deleted")));
  const quoted = post.reply_to === null ? undefined : context.quoted(post.reply_to);
  const body = h("div", { class: "body", dir: "auto" });
  body.append(safeFragment(post.html));
  const given = Object.entries(post.reactions).filter(([, users]) => users.length > 0);
  const { writable } = context;
  return h(
    "li",
    { class: `post${mine ? " mine" : ""}`, id },
    meta,
    quoted ? h("p", { class: "reply-quote", dir: "auto" }, t("chat.reply_to", { name: context.nameOf(quoted.author_id), text: excerpt(quoted) })) : null,
    body,
    context.attachments?.(post) ?? null,
    given.length > 0
      ? h(
          "div",
          { class: "reactions" },
          ...given.map(([emoji, users]) =>
            h(
              "button",
              {
                type: "button",
                class: "reaction",
                "data-control": `reaction ${emoji}`,
                "aria-pressed": users.includes(context.selfId) ? "true" : "false",
                "aria-label": t("chat.reaction_label", { emoji, count: users.length }),
                disabled: !writable,
                onclick: () => context.run("react", post, emoji, !users.includes(context.selfId)),
              },
              `${emoji} ${users.length}`,
            ),
          ),
        )
      : null,
    h(
      "div",
      { class: "actions" },
      writable && context.reply ? button("reply", t("chat.reply"), () => context.reply?.(post)) : null,
      writable
        ? h(
            "details",
            { class: "react-menu" },
            h("summary", { "data-control": "react" }, t("chat.react")),
            h("div", { class: "react-choices" }, ...REACTIONS.map((emoji) => h("button", { type: "button", "data-control": `react ${emoji}`, "aria-label": t("chat.react_with", { emoji }), onclick: () => context.run("react", post, emoji, true) }, emoji))),
          )
        : null,
      (writable && mine) || context.moderator ? button("edit", t("chat.edit"), () => context.run("edit", post)) : null,
      mine || context.moderator ? button("delete", t("chat.delete"), () => context.run("delete", post)) : null,
      mine ? null : button("report", t("chat.report"), () => context.run("report", post)),
    ),
  );
}

export function excerpt(post: Post): string {
  if (post.deleted) return t("forums.post_deleted");
  return post.body.length > 80 ? `${post.body.slice(0, 80)}…` : post.body;
}

/** Runs a post action by REST, asking first where needed; resolves to the changed post. */
export async function postAction(projectId: number, action: "react" | "edit" | "delete" | "report", post: Post, emoji = "", on = true): Promise<Post | null> {
  switch (action) {
    case "react":
      return boards.react(projectId, post.id, emoji, on);
    case "edit": {
      const body = await ask({ title: t("chat.edit_title"), label: t("chat.edit_label"), value: post.body, confirm: t("common.save") });
      return body ? boards.edit(projectId, post.id, body) : null;
    }
    case "delete": {
      const ok = await ask({ title: t("forums.delete_title"), confirm: t("chat.delete"), danger: true });
      return ok === null ? null : boards.remove(projectId, post.id);
    }
    case "report": {
      const reason = await ask({ title: t("chat.report_title"), label: t("chat.report_label"), confirm: t("chat.report_send") });
      if (reason) await boards.report(projectId, post.id, reason.slice(0, 500));
      return null;
    }
  }
}

/** Keeps the newer of two states of a post (a REST answer and a push may cross). */
export function mergePost(posts: Map<number, Post>, post: Post): boolean {
  const held = posts.get(post.id);
  if (held && held.version >= post.version) return false;
  posts.set(post.id, post);
  return true;
}

/**
 * The form that writes a post: its labelled field (kept by the page, so a redraw keeps the
 * draft), the markup hint, and `send`, after which the field is emptied.
 */
export function postForm(field: HTMLTextAreaElement, label: string, submit: string, send: (body: string) => Promise<void>, attempt: (run: () => Promise<unknown>) => Promise<void>, before: HTMLElement | null = null, after: HTMLElement | null = null): HTMLElement {
  return h(
    "form",
    {
      class: "board-form",
      onsubmit: (event: Event) => {
        event.preventDefault();
        const body = field.value.trim();
        if (!body) return;
        void attempt(async () => {
          await send(body);
          field.value = "";
        });
      },
    },
    before,
    h("label", { for: field.id }, label),
    field,
    h("p", { class: "hint" }, t("forums.markup_hint")),
    after,
    h("button", { type: "submit" }, submit),
  );
}
