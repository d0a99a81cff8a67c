/** Who is here: each person once, active or away, where they are, and whether they type. */

import { h, replace } from "../dom";
import { formatTime, t } from "../i18n";
import type { Location, PresenceUser, RoomClient } from "../hub/room_client";
import { errorText } from "./errors";
import { disclosureMenu, muteChoices } from "./message";
import { roleName, titleOf } from "./names";

interface Names {
  nameOf(userId: number): string;
}

const muteStatus = h("p", { class: "hint", role: "status" });

export function renderPresence(side: HTMLElement, client: RoomClient, names: Names): void {
  const people = [...client.presence.values()].sort((a, b) => a.display_name.localeCompare(b.display_name));
  side.setAttribute("aria-label", t("presence.title"));
  replace(
    side,
    h("h2", {}, t("presence.title")),
    client.can("chat.moderate") ? muteStatus : null,
    people.length === 0
      ? h("p", { class: "hint" }, t("presence.nobody"))
      : h("ul", { class: "people" }, ...people.map((user) => person(user, client, names))),
  );
}

function person(user: PresenceUser, client: RoomClient, names: Names): HTMLElement {
  const typing = client.typing.get(user.user_id);
  const channelTitle = (name: string) => titleOf(client.channels, name);
  const where = whereabouts(user, channelTitle);
  return h(
    "li",
    { class: `person ${user.status}` },
    h("span", { class: "dot", "aria-hidden": "true" }),
    h(
      "div",
      {},
      h("strong", {}, user.user_id === client.selfId ? t("presence.you", { name: user.display_name }) : names.nameOf(user.user_id) || user.display_name),
      h("span", { class: "role" }, roleName(user.role)),
      h(
        "span",
        { class: "where" },
        user.status === "away" ? t("presence.away") : t("presence.active"),
        where ? ` · ${where}` : "",
      ),
      typing ? h("span", { class: "is-typing" }, t("presence.typing_in", { channel: channelTitle(typing.channel) })) : null,
    ),
    client.can("chat.moderate") && user.user_id !== client.selfId ? muteMenu(user, client, names) : null,
  );
}

/** A moderator pauses (or lets again) a member's messages from the list of who is here. */
function muteMenu(user: PresenceUser, client: RoomClient, names: Names): HTMLElement {
  const name = names.nameOf(user.user_id) || user.display_name;
  const mute = (userId: number, minutes: number) => {
    muteStatus.textContent = "";
    client
      .request("chat.mute", { user_id: userId, minutes })
      .then((ack) => {
        muteStatus.textContent =
          minutes === 0 ? t("mute.lifted", { name }) : t("mute.done", { name, time: formatTime(String(ack.until)) });
      })
      .catch((error: unknown) => (muteStatus.textContent = errorText(error)));
  };
  return disclosureMenu(
    "message-menu person-menu",
    h("summary", { "aria-label": t("mute.member", { name }) }, h("span", { "aria-hidden": "true" }, "⋯")),
    [muteChoices(user.user_id, { mute })],
  );
}

/** The location of the person's most recent active device. */
function whereabouts(user: PresenceUser, channelTitle: (name: string) => string): string {
  const device = user.devices.find((d) => d.status === "active" && d.location) ?? user.devices.find((d) => d.location);
  const place: Location | null | undefined = device?.location;
  if (!place) return "";
  switch (place.kind) {
    case "channel":
      // A channel the reader may not read comes without its name (`ref: null`, issue 17).
      return place.ref ? t("presence.in_channel", { channel: channelTitle(place.ref) }) : t("presence.in_a_channel");
    case "doc":
      return t("presence.in_document");
    case "video":
      return t("presence.in_video");
    case "forum":
      return t("presence.in_forum");
    default:
      return t("presence.in_room");
  }
}
