/** A chat channel: history with scroll-back, live changes, the composer, message actions. */

import { h, replace, uid } from "../dom";
import { formatTime, t } from "../i18n";
import type { ChannelState, Message } from "../hub/channel";
import type { RoomClient } from "../hub/room_client";
import { HubError } from "../hub/socket";
import { AttachmentDrawings, attachPicker } from "./attachments";
import { ask } from "./dialog";
import { channelTitle, titleOf } from "./names";
import { errorText } from "./errors";
import { type MessageContext, mutedText, renderMessage, renderOutgoing, snippet } from "./message";
import type { Names } from "./features";
import { addSkipLink } from "./shell";

const TYPING_EVERY_MS = 3000;

export class ChatView {
  private readonly list = h("ol", { class: "messages" });
  private readonly scroller: HTMLElement;
  private readonly older = h("button", { type: "button", class: "secondary older", hidden: true }, t("chat.load_older"));
  private readonly typingLine = h("p", { class: "typing", "aria-live": "polite" });
  private readonly composer = h("div", { class: "composer-area" });
  private readonly title: HTMLElement;
  private readonly status = h("p", { class: "form-error", role: "alert" });
  private readonly note = h("p", { class: "hint", role: "status" });
  /** A teacher's pause, told the moment it happens (`chat.paused`), and its lifting. */
  private readonly paused = h("p", { class: "paused-note", role: "status" });
  /** Screen readers hear each new message once; the redrawn list itself is not a live region. */
  private readonly announcer = h("p", { class: "visually-hidden", "aria-live": "polite" });
  private replyTo: number | null = null;
  private lastTyping = 0;
  private loadingOlder = false;
  private readonly unsubscribe: () => void;
  private readonly removeSkipLink: () => void;
  private readonly fieldId = uid("compose");
  private readonly drawings: AttachmentDrawings;
  private draft = "";
  /** The channel opens ready to write: the focus goes to the box once it exists. */
  private focusBox = true;

  constructor(
    host: HTMLElement,
    private readonly client: RoomClient,
    private readonly channel: string,
    private readonly names: Names,
    /** Embedded beside a call: a second heading level, no skip link, and the focus left alone. */
    options: { embedded?: boolean } = {},
  ) {
    const embedded = options.embedded ?? false;
    this.drawings = new AttachmentDrawings(client.projectId);
    this.title = h(embedded ? "h2" : "h1", { class: "channel-title" });
    this.focusBox = !embedded;
    this.scroller = h("div", { class: "scroller", tabindex: "0", "aria-label": t("chat.history_label") }, this.older, this.list);
    this.scroller.addEventListener("scroll", () => {
      if (this.scroller.scrollTop < 40) void this.loadOlder();
      else this.markRead();
    });
    this.older.addEventListener("click", () => void this.loadOlder());
    this.unsubscribe = client.on((event) => {
      if (event.kind === "messages" && event.channel === channel) {
        this.renderMessages();
        if (event.created) this.announce(event.created);
      }
      if (event.kind === "typing" || event.kind === "presence") this.renderTyping();
      if (event.kind === "link" && client.link === "online") void this.ensureLoaded();
      if (event.kind === "channels" || event.kind === "permissions") {
        // Which actions a message offers follows from the role, the status and `writable`.
        this.refreshComposer();
        this.renderMessages();
      }
      if (event.kind === "channels") this.renderTitle();
      if (event.kind === "paused") this.renderPaused(true);
    });
    replace(
      host,
      this.title,
      this.scroller,
      this.typingLine,
      this.paused,
      this.composer,
      this.announcer,
    );
    this.renderPaused(false);
    this.renderTitle();
    this.refreshComposer();
    this.renderMessages();
    this.removeSkipLink = embedded ? () => undefined : addSkipLink(t("chat.skip_to_box"), () => this.field());
    void this.ensureLoaded();
  }

  private field(): HTMLTextAreaElement | null {
    return document.getElementById(this.fieldId) as HTMLTextAreaElement | null;
  }

  private renderTitle(): void {
    const title = titleOf(this.client.channels, this.channel);
    replace(this.title, h("span", { class: "hash", "aria-hidden": "true" }, "#"), h("bdi", {}, title));
  }

  detach(): void {
    this.unsubscribe();
    this.removeSkipLink();
  }

  private get state(): ChannelState | undefined {
    return this.client.channels.get(this.channel);
  }

  private async ensureLoaded(): Promise<void> {
    if (this.client.link !== "online") return;
    if (!this.state) await this.client.discoverChannels().catch(() => undefined);
    const state = this.state;
    if (!state) return this.explainMissing();
    if (state.loaded) return;
    try {
      await this.client.reload(state);
      this.scroller.scrollTop = this.scroller.scrollHeight;
      this.markRead();
    } catch (error) {
      this.status.textContent = errorText(error);
    }
  }

  /**
   * A channel not among those I may read, opened by its address (issue 17): say why, in place
   * of a blank page. The server tells a channel I may not read (`forbidden`) from none at all.
   */
  private async explainMissing(): Promise<void> {
    let text: string;
    try {
      await this.client.request("chat.history", { channel: this.channel, limit: 1 });
      return;
    } catch (error) {
      const code = error instanceof HubError ? error.code : "";
      if (code === "forbidden") {
        text = this.client.can("chat.pupil_channel") ? t("chat.for_teachers") : t("chat.not_for_role");
      } else {
        text = code === "not_found" ? t("chat.no_such_channel") : errorText(error);
      }
    }
    this.scroller.hidden = true;
    replace(this.composer, h("p", { class: "readonly-note channel-closed", role: "status" }, text));
  }

  private async loadOlder(): Promise<void> {
    const state = this.state;
    if (!state || !state.loaded || !state.hasOlder || this.loadingOlder) return;
    this.loadingOlder = true;
    const fromBottom = this.scroller.scrollHeight - this.scroller.scrollTop;
    try {
      await this.client.loadOlder(state);
      this.scroller.scrollTop = this.scroller.scrollHeight - fromBottom;
    } catch (error) {
      this.status.textContent = errorText(error);
    } finally {
      this.loadingOlder = false;
    }
  }

  private markRead(): void {
    const state = this.state;
    const atBottom = this.scroller.scrollHeight - this.scroller.scrollTop - this.scroller.clientHeight < 60;
    if (state && atBottom) this.client.markRead(state);
  }

  private renderMessages(): void {
    const state = this.state;
    if (!state) return;
    const atBottom = this.scroller.scrollHeight - this.scroller.scrollTop - this.scroller.clientHeight < 60;
    const messages = state.ordered();
    this.lookUpAuthors(messages);
    this.older.hidden = !state.loaded || !state.hasOlder;
    const restore = this.rememberFocus();
    const context = this.messageContext(state);
    replace(
      this.list,
      ...messages.map((message) => renderMessage(message, context)),
      ...state.outbox.map((item) => renderOutgoing(item, context)),
    );
    restore();
    if (state.loaded && messages.length === 0 && state.outbox.length === 0) {
      this.list.append(h("li", { class: "empty" }, t("chat.empty")));
    }
    if (atBottom) this.scroller.scrollTop = this.scroller.scrollHeight;
    this.markRead();
  }

  /**
   * The list is redrawn on every change; the keyboard focus and any open reaction menu are
   * carried over by message id and the control's `data-control` name.
   */
  private rememberFocus(): () => void {
    const active = document.activeElement;
    const openMenus = [...this.list.querySelectorAll("details[open]")].map((d) => d.closest("li")?.id);
    const item = active instanceof HTMLElement && this.list.contains(active) ? active.closest("li")?.id : undefined;
    const control = active instanceof HTMLElement ? active.dataset.control : undefined;
    return () => {
      for (const id of openMenus) if (id) document.getElementById(id)?.querySelector("details")?.setAttribute("open", "");
      if (!item || !control) return;
      const controls = document.getElementById(item)?.querySelectorAll<HTMLElement>("[data-control]") ?? [];
      [...controls].find((el) => el.dataset.control === control)?.focus();
    };
  }

  private messageContext(state: ChannelState): MessageContext {
    return {
      selfId: this.client.selfId,
      writable: state.info.writable && this.client.can("chat.send"),
      moderator: this.client.can("chat.moderate"),
      nameOf: (userId) => this.names.nameOf(userId),
      // Teachers step into the pupils' channel (issue 17): the pupils see who speaks as staff.
      staff: (userId) => state.info.rule === "pupils" && this.names.isStaff(userId),
      quoted: (seq) => state.messages.get(seq),
      attachments: (message) => this.drawings.element(`${message.channel}:${message.seq}`, message.materials),
      reply: (message) => this.startReply(message),
      react: (message, emoji, on) => void this.attempt(() => this.react(message, emoji, on)),
      edit: (message) => void this.attempt(() => this.edit(message)),
      remove: (message) => void this.attempt(() => this.remove(message)),
      report: (message) => void this.attempt(() => this.report(message)),
      mute: (userId, minutes) => void this.attempt(() => this.mute(userId, minutes)),
      discard: (key) => this.client.discard(this.channel, key),
    };
  }

  /** Authors missing from the member list (pupils created since it loaded): reload it once. */
  private readonly lookedUp = new Set<number>();

  private lookUpAuthors(messages: Message[]): void {
    const missing = messages.map((m) => m.author_id).filter((id) => !this.lookedUp.has(id) && !this.names.knows(id));
    if (missing.length === 0) return;
    for (const id of missing) this.lookedUp.add(id);
    this.names.loadMembers().then(() => this.renderMessages()).catch(() => undefined);
  }

  private announce(message: Message): void {
    if (message.author_id === this.client.selfId) return;
    this.announcer.textContent = t("chat.new_from", { name: this.names.nameOf(message.author_id), text: snippet(message) });
  }

  /** `changed`: the pause was just set or lifted (a lifted one is said once, then goes). */
  private renderPaused(changed: boolean): void {
    const until = this.client.pausedUntil;
    if (until && until.getTime() > Date.now()) {
      this.paused.textContent = mutedText(until);
    } else {
      this.paused.textContent = changed ? t("chat.unpaused") : "";
    }
  }

  private renderTyping(): void {
    const names = [...this.client.typing.values()].filter((entry) => entry.channel === this.channel).map((entry) => entry.name);
    this.typingLine.textContent = names.length === 0 ? "" : t("chat.typing", { names: names.join(", ") });
  }

  refreshComposer(): void {
    const state = this.state;
    if (!state) return;
    const writable = state.info.writable && this.client.can("chat.send");
    if (!writable) {
      replace(this.composer, h("p", { class: "readonly-note" }, t("chat.read_only")), this.status, this.note);
      return;
    }
    if (this.composer.querySelector("form")) return;
    const field = h("textarea", { id: this.fieldId, rows: 2, maxlength: 4000, dir: "auto", placeholder: t("chat.placeholder") });
    field.value = this.draft;
    field.addEventListener("input", () => {
      this.draft = field.value;
      const now = Date.now();
      if (field.value && now - this.lastTyping > TYPING_EVERY_MS && this.client.link === "online") {
        this.lastTyping = now;
        this.client.request("typing", { channel: this.channel }).catch(() => undefined);
      }
    });
    field.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    const picker = attachPicker(this.client.projectId, this.status);
    const form = h(
      "form",
      {
        class: "composer",
        onsubmit: (event: Event) => {
          event.preventDefault();
          const text = field.value.trim();
          if (!text) return;
          this.client.send(this.channel, text, this.replyTo, this.client.can("materials.read") ? picker.chosen() : []);
          picker.clear();
          field.value = "";
          this.draft = "";
          this.replyTo = null;
          this.renderReplyBanner();
          this.scroller.scrollTop = this.scroller.scrollHeight;
        },
      },
      h("div", { class: "reply-banner" }),
      h("label", { for: this.fieldId, class: "visually-hidden" }, t("chat.message_label", { channel: channelTitle(state.info) })),
      field,
      h("button", { type: "submit" }, t("chat.send")),
      this.client.can("materials.read") ? picker.element : null,
    );
    replace(this.composer, form, this.status, this.note);
    if (this.focusBox) {
      this.focusBox = false;
      field.focus({ preventScroll: true });
    }
  }

  private startReply(message: Message): void {
    this.replyTo = message.seq;
    this.renderReplyBanner();
    (document.getElementById(this.fieldId) as HTMLTextAreaElement | null)?.focus();
  }

  private renderReplyBanner(): void {
    const banner = this.composer.querySelector(".reply-banner");
    if (!banner) return;
    const quoted = this.replyTo === null ? undefined : this.state?.messages.get(this.replyTo);
    replace(
      banner as HTMLElement,
      quoted
        ? h("span", {}, t("chat.replying_to", { name: this.names.nameOf(quoted.author_id) }), " ")
        : null,
      quoted
        ? h("button", { type: "button", class: "link", onclick: () => { this.replyTo = null; this.renderReplyBanner(); } }, t("chat.cancel_reply"))
        : null,
    );
  }

  private async attempt(run: () => Promise<unknown>): Promise<void> {
    this.status.textContent = "";
    this.note.textContent = "";
    try {
      await run();
    } catch (error) {
      this.status.textContent = errorText(error);
    }
  }

  private react(message: Message, emoji: string, on: boolean): Promise<unknown> {
    return this.client.request("chat.react", { channel: this.channel, seq: message.seq, emoji, on });
  }

  private async edit(message: Message): Promise<void> {
    const text = await ask({ title: t("chat.edit_title"), label: t("chat.edit_label"), value: message.text, confirm: t("common.save") });
    if (text) await this.client.request("chat.edit", { channel: this.channel, seq: message.seq, text });
  }

  private async remove(message: Message): Promise<void> {
    const ok = await ask({ title: t("chat.delete_title"), confirm: t("chat.delete"), danger: true });
    if (ok !== null) await this.client.request("chat.delete", { channel: this.channel, seq: message.seq });
  }

  private async mute(userId: number, minutes: number): Promise<void> {
    const ack = await this.client.request("chat.mute", { user_id: userId, minutes });
    const name = this.names.nameOf(userId);
    this.note.textContent =
      minutes === 0 ? t("mute.lifted", { name }) : t("mute.done", { name, time: formatTime(String(ack.until)) });
  }

  private async report(message: Message): Promise<void> {
    const reason = await ask({ title: t("chat.report_title"), label: t("chat.report_label"), confirm: t("chat.report_send") });
    if (reason) {
      await this.client.request("chat.report", { channel: this.channel, seq: message.seq, reason: reason.slice(0, 500) });
      this.note.textContent = t("chat.report_thanks");
    }
  }
}
