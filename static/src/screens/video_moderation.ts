/** The teacher's side panel of a video session: lobby, raised hands in order, and controls. */

import { h, replace } from "../dom";
import { t } from "../i18n";
import type { Participant, VideoCall } from "../video/call";

type Attempt = (run: () => Promise<unknown>) => void;

export function renderModeration(panel: HTMLElement, call: VideoCall, attempt: Attempt): void {
  const session = call.session;
  if (!session) return;
  const byId = new Map(session.participants.map((p) => [p.participant_id, p]));
  const waiting = session.participants.filter((p) => p.state === "lobby");
  const others = session.participants.filter((p) => p.state !== "lobby" && p.participant_id !== call.participantId);
  const hands = session.hands.map((id) => byId.get(id)).filter((p): p is Participant => p !== undefined);
  const lock = (kind: "mic" | "camera", label: string) =>
    h(
      "label",
      { class: "check" },
      h("input", {
        type: "checkbox",
        class: `inline-check lock-${kind}`,
        "data-control": `lock-${kind}`,
        checked: session.locks[kind],
        onchange: (event: Event) => attempt(() => call.moderate("rtc.lock", { [kind]: (event.target as HTMLInputElement).checked })),
      }),
      " ",
      label,
    );
  panel.setAttribute("aria-label", t("video.moderation"));
  replace(
    panel,
    h("h2", {}, t("video.moderation")),
    h("h3", {}, t("video.hands")),
    hands.length === 0
      ? h("p", { class: "hint" }, t("video.no_hands"))
      : h("ol", { class: "hands" }, ...hands.map((p) => h("li", {}, p.display_name))),
    session.lobby ? h("h3", {}, t("video.lobby")) : null,
    session.lobby && waiting.length === 0 ? h("p", { class: "hint" }, t("video.lobby_empty")) : null,
    waiting.length > 0
      ? h(
          "ul",
          { class: "lobby-list" },
          ...waiting.map((p) =>
            h(
              "li",
              { id: `waiting-${p.participant_id}` },
              p.display_name,
              " ",
              h("button", { type: "button", "data-control": "admit", onclick: () => attempt(() => call.moderate("rtc.admit", { participant_id: p.participant_id })) }, t("video.admit", { name: p.display_name })),
            ),
          ),
        )
      : null,
    h("h3", {}, t("video.participants")),
    others.length === 0
      ? h("p", { class: "hint" }, t("video.alone"))
      : h(
          "ul",
          { class: "participant-list" },
          ...others.map((p) =>
            h(
              "li",
              { id: `participant-${p.participant_id}` },
              h("span", {}, p.display_name),
              " ",
              h("button", { type: "button", class: "secondary mute-one", "data-control": "mute", disabled: !p.media.mic, onclick: () => attempt(() => call.moderate("rtc.mute", { participant_id: p.participant_id })) }, t("video.mute", { name: p.display_name })),
              " ",
              h("button", { type: "button", class: "link", "data-control": "remove", onclick: () => attempt(() => call.moderate("rtc.remove", { participant_id: p.participant_id })) }, t("video.remove", { name: p.display_name })),
            ),
          ),
        ),
    h(
      "div",
      { class: "row" },
      h("button", { type: "button", class: "secondary mute-all", "data-control": "mute-all", onclick: () => attempt(() => call.moderate("rtc.mute")) }, t("video.mute_all")),
      lock("mic", t("video.lock_mics")),
      lock("camera", t("video.lock_cameras")),
      h("button", { type: "button", class: "danger end-video", onclick: () => attempt(() => call.moderate("rtc.end")) }, t("video.end")),
    ),
  );
}
