/**
 * Breakout groups of a class-size (SFU) call: the teacher's panel (split into groups mixed by
 * school, visit a group, call everyone back, a message to every group), and what each
 * participant is told (which group they are in, and the teacher's messages).
 */

import { h, replace, uid } from "../dom";
import { t } from "../i18n";
import type { VideoCall } from "../video/call";

type Attempt = (run: () => Promise<unknown>) => void;

/** The most groups `rtc.breakout` takes. */
const MOST_GROUPS = 20;

/** The teacher's breakout panel. Its inputs live across redraws: a session change while the
 * teacher types a message or a number must not wipe it. */
export class BreakoutPanel {
  readonly element = h("section", { class: "video-breakouts" });
  private readonly groups = h("div", {});
  private readonly count = h("input", { id: uid("groups"), type: "number", min: "1", max: String(MOST_GROUPS), value: "2", class: "group-count" });
  private readonly message = h("input", { id: uid("broadcast"), type: "text", maxlength: "1000", class: "broadcast-text" });
  private readonly heading = h("h2", {});
  private readonly countLabel = h("label", { for: this.count.id });
  private readonly messageLabel = h("label", { for: this.message.id });
  private readonly send = h("button", { type: "submit", class: "secondary", "data-control": "broadcast" });

  constructor(
    private readonly call: VideoCall,
    private readonly attempt: Attempt,
  ) {
    const form = h("form", { class: "row broadcast", onsubmit: (event: Event) => this.broadcast(event) }, this.messageLabel, this.message, this.send);
    replace(this.element, this.heading, this.groups, form);
  }

  private broadcast(event: Event): void {
    event.preventDefault();
    const text = this.message.value.trim();
    if (!text) return;
    this.attempt(async () => {
      await this.call.moderate("rtc.broadcast", { text });
      this.message.value = "";
    });
  }

  render(): void {
    const call = this.call;
    const session = call.session;
    this.element.hidden = !session || session.topology !== "sfu" || call.seat !== "joined";
    if (!session || this.element.hidden) return;
    const open = session.breakouts ?? 0;
    const mine = call.me()?.breakout ?? null;
    this.element.setAttribute("aria-label", t("video.breakouts"));
    this.heading.textContent = t("video.breakouts");
    this.countLabel.textContent = t("video.group_count");
    this.messageLabel.textContent = t("video.broadcast_label");
    this.send.textContent = t("video.broadcast_send");
    const attempt = this.attempt;
    const split = () => {
      const count = Math.min(MOST_GROUPS, Math.max(1, Math.round(Number(this.count.value)) || 2));
      attempt(() => call.moderate("rtc.breakout", { count }));
    };
    if (open === 0) {
      replace(this.groups, h("div", { class: "row" }, this.countLabel, this.count, h("button", { type: "button", "data-control": "split", onclick: split }, t("video.split"))));
      return;
    }
    const numbers = Array.from({ length: open }, (_, index) => index + 1);
    replace(
      this.groups,
      h(
        "ul",
        { class: "group-list" },
        ...numbers.map((group) => {
          const names = session.participants.filter((p) => p.breakout === group).map((p) => p.display_name);
          return h(
            "li",
            { id: `group-${group}` },
            h("strong", {}, t("video.group_n", { n: group })),
            ` ${names.join(", ")} `,
            mine === group
              ? h("span", { class: "hint" }, t("video.visiting"))
              : h("button", { type: "button", class: "secondary", "data-control": "visit", onclick: () => attempt(() => call.moderate("rtc.visit", { group })) }, t("video.visit", { n: group })),
          );
        }),
      ),
      h(
        "div",
        { class: "row" },
        mine !== null
          ? h("button", { type: "button", class: "secondary", "data-control": "main-room", onclick: () => attempt(() => call.moderate("rtc.visit", { group: null })) }, t("video.back_to_main"))
          : null,
        h("button", { type: "button", "data-control": "recall", onclick: () => attempt(() => call.moderate("rtc.recall")) }, t("video.recall")),
      ),
    );
  }
}

/** Which group I am in (while groups are open), and the teacher's last message to all. */
export function renderGroupNote(note: HTMLElement, alert: HTMLElement, call: VideoCall): void {
  const session = call.session;
  const me = call.me();
  const open = session?.topology === "sfu" && (session.breakouts ?? 0) > 0 && call.seat === "joined" && me;
  const group = me?.breakout ?? null;
  note.textContent = !open ? "" : group === null ? t("video.in_main_room") : t("video.in_group", { n: group });
  const broadcast = call.broadcast;
  alert.textContent = broadcast ? t("video.broadcast_from", { name: broadcast.name, text: broadcast.text }) : "";
}
