/**
 * The video page: start or join the room's session, my camera and microphone (with device
 * choice), the grid of participants, raise hand, and the teacher's controls. Leaving the page
 * leaves the call and lets go of the camera.
 *
 * The teacher's controls and the room's chat sit beside the grid, not below it: with six
 * people the grid fills a school laptop's screen. Presence says "in a video call" only while
 * I hold a seat (or wait in the lobby), not while I merely look at this page.
 */

import { h, replace, uid } from "../dom";
import { t } from "../i18n";
import type { RoomClient } from "../hub/room_client";
import type { RoomFeature } from "./features";
import { VideoCall } from "../video/call";
import { renderModeration } from "./video_moderation";
import { BreakoutPanel, renderGroupNote } from "./video_breakout";
import { VideoStage } from "./video_stage";
import { type TileEntry, Tiles } from "./video_tiles";
import { attempt } from "./feature_errors";
import { keepFocus } from "./focus";
import { ChatView } from "./chat";
import type { Names } from "./features";

/** The room's chat beside the call: the channel every member reads. */
const CALL_CHANNEL = "general";

export class VideoView implements RoomFeature {
  private readonly call: VideoCall;
  private readonly status = h("p", { class: "form-error", role: "alert" });
  private readonly notice = h("p", { class: "hint", role: "status" });
  private readonly top = h("div", { class: "video-top" });
  private readonly controls = h("div", { class: "video-controls" });
  private readonly grid = h("ul", { class: "video-grid" });
  private readonly moderation = h("section", { class: "video-moderation" });
  private readonly chatPanel = h("section", { class: "video-chat" });
  private chat: ChatView | null = null;
  /** The device pickers, filled when my devices change, so a redraw never closes an open list. */
  private readonly devicesRow = h("div", { class: "row devices" });
  /** Tiles keep their <video> across redraws, so playback never restarts. */
  private readonly tiles = new Tiles();
  /** Class-size (SFU) sessions: speaker and grid views, paging, screen share, groups. */
  private readonly stage: VideoStage;
  private readonly breakouts: BreakoutPanel;
  private readonly groupNote = h("p", { class: "group-note", role: "status" });
  private readonly broadcastNote = h("p", { class: "broadcast-note", role: "alert" });
  /** The start options outlive redraws: a push between ticking one and pressing Start keeps it. */
  private readonly lobbyOption = h("input", { type: "checkbox", id: uid("lobby"), class: "inline-check" });
  private readonly classOption = h("input", { type: "checkbox", id: uid("class"), class: "inline-check whole-class" });
  private readonly unsubscribe: () => void;

  constructor(
    readonly key: string,
    private readonly host: HTMLElement,
    private readonly client: RoomClient,
    private readonly names: Names,
  ) {
    this.call = new VideoCall(client);
    this.stage = new VideoStage(this.call, (run) => void this.attempt(run));
    this.breakouts = new BreakoutPanel(this.call, (run) => void this.attempt(run));
    const stop = this.call.on((event) => {
      if (event === "muted") this.notice.textContent = t("video.muted_by_teacher");
      // The top line says it (and offers no Join); an old notice would only repeat or mislead.
      if (event === "removed" || event === "ended") this.clearNotices();
      if (event === "media") this.fillDevices();
      this.render();
    });
    const off = client.on((event) => {
      if (event.kind === "permissions" || event.kind === "link") this.render();
    });
    this.unsubscribe = () => {
      stop();
      off();
    };
    this.refresh();
  }

  refresh(): void {
    this.grid.setAttribute("aria-label", t("video.grid_label"));
    this.chatPanel.setAttribute("aria-label", t("video.chat"));
    this.chat?.detach();
    this.chat = this.client.can("chat.read") ? new ChatView(this.chatPanel, this.client, CALL_CHANNEL, this.names, { embedded: true }) : null;
    replace(
      this.host,
      h("h1", {}, t("video.title")),
      this.top,
      this.controls,
      this.status,
      this.notice,
      this.groupNote,
      this.broadcastNote,
      h(
        "div",
        { class: "video-layout" },
        h("div", { class: "video-main" }, this.grid, this.stage.element),
        h("div", { class: "video-side" }, this.moderation, this.breakouts.element, this.chat ? this.chatPanel : null),
      ),
    );
    this.render();
  }

  detach(): void {
    this.unsubscribe();
    this.chat?.detach();
    this.call.close();
  }

  private clearNotices(): void {
    this.notice.textContent = "";
    this.status.textContent = "";
  }

  private async attempt(run: () => Promise<unknown>): Promise<void> {
    await attempt(this.status, run);
    this.render();
  }

  private render(): void {
    const where = this.call.seat === null ? "home" : "video";
    if (this.client.location.kind !== where) this.client.setLocation({ kind: where });
    // The join button is redrawn whenever someone joins or leaves: a keyboard user on it stays.
    keepFocus(this.top, () => this.renderTop());
    keepFocus(this.controls, () => this.renderControls());
    const sfu = this.call.sfuSession();
    this.grid.hidden = sfu;
    this.stage.element.hidden = !sfu;
    this.renderGrid();
    this.stage.render(this.client.can("video.share_screen"));
    renderGroupNote(this.groupNote, this.broadcastNote, this.call);
    if (this.call.session && this.client.can("video.moderate")) {
      keepFocus(this.moderation, () => renderModeration(this.moderation, this.call, (run) => void this.attempt(run)));
      keepFocus(this.breakouts.element, () => this.breakouts.render());
    } else {
      replace(this.moderation);
      this.breakouts.element.hidden = true;
    }
  }

  private renderTop(): void {
    const session = this.call.session;
    if (!session) {
      const lobby = this.lobbyOption;
      const wholeClass = this.classOption;
      replace(
        this.top,
        h("p", {}, t("video.none")),
        this.client.can("video.start")
          ? h(
              "div",
              { class: "row" },
              h("label", { class: "check" }, lobby, " ", t("video.lobby_option")),
              h("label", { class: "check" }, wholeClass, " ", t("video.class_option")),
              h("button", { type: "button", class: "start-video", "data-control": "start", onclick: () => void this.attempt(() => this.call.start(lobby.checked, wholeClass.checked)) }, t("video.start")),
              h("p", { class: "hint" }, t("video.start_joins")),
            )
          : null,
      );
      return;
    }
    const count = this.call.seatedCount();
    if (this.call.seat === null && this.call.removed) {
      replace(this.top, h("p", { class: "removed-note" }, t("video.removed")));
    } else if (this.call.seat === null && this.call.full()) {
      replace(
        this.top,
        h("p", { class: "full-note" }, h("strong", {}, t("video.full", { count, max: session.max_participants }))),
        h("p", { class: "hint" }, t("video.full_what_to_do")),
      );
    } else if (this.call.seat === null) {
      replace(
        this.top,
        h("p", {}, t("video.running", { count })),
        this.client.can("video.join")
          ? h("button", { type: "button", class: "join-video", "data-control": "join", onclick: () => void this.attempt(() => this.call.join()) }, t("video.join"))
          : null,
      );
    } else if (this.call.seat === "lobby") {
      replace(
        this.top,
        h("p", { role: "status" }, t("video.waiting")),
        h("button", { type: "button", class: "secondary", "data-control": "leave-lobby", onclick: () => void this.attempt(() => this.call.leave()) }, t("video.leave")),
      );
    } else {
      replace(this.top, h("p", {}, t("video.in_call", { count })));
    }
  }

  private renderControls(): void {
    const me = this.call.me();
    if (!me || this.call.seat !== "joined") {
      replace(this.controls);
      return;
    }
    const hasMic = (this.call.local?.getAudioTracks().length ?? 0) > 0;
    const hasCamera = (this.call.local?.getVideoTracks().length ?? 0) > 0;
    // A lock (or `publish: "moderators"`) keeps a pupil's device off: turning it on is refused.
    const session = this.call.session;
    const free = this.client.can("video.moderate");
    const micLocked = !free && Boolean(session?.locks.mic);
    const cameraLocked = !free && Boolean(session?.locks.camera || session?.publish === "moderators");
    const toggle = (name: string, pressed: boolean, label: string, disabled: boolean, run: () => Promise<unknown>) =>
      h("button", { type: "button", class: `secondary toggle ${name}`, "data-control": name, "aria-pressed": pressed ? "true" : "false", disabled, onclick: () => void this.attempt(run) }, label);
    replace(
      this.controls,
      h(
        "div",
        { class: "row", role: "group", "aria-label": t("video.my_controls") },
        toggle("mic", me.media.mic, t("video.mic"), !hasMic || (!me.media.mic && micLocked), () => this.call.setMedia({ mic: !me.media.mic })),
        toggle("camera", me.media.camera, t("video.camera"), !hasCamera || (!me.media.camera && cameraLocked), () => this.call.setMedia({ camera: !me.media.camera })),
        toggle("hand", me.hand, t("video.raise_hand"), false, () => this.call.hand(!me.hand)),
        h("button", { type: "button", class: "danger leave-video", "data-control": "leave", onclick: () => void this.attempt(() => this.call.leave()) }, t("video.leave")),
      ),
      this.devicesRow,
    );
    if (!this.devicesRow.hasChildNodes()) this.fillDevices();
  }

  /** Camera and microphone pickers; filled once the browser lists the devices. */
  private fillDevices(): void {
    const row = this.devicesRow;
    void this.call.devices().then((devices) => {
      const pick = (kind: MediaDeviceKind, label: string, apply: (id: string) => Promise<void>) => {
        const found = devices.filter((d) => d.kind === kind);
        if (found.length === 0) return null;
        const id = uid("device");
        const current = (kind === "videoinput" ? this.call.local?.getVideoTracks() : this.call.local?.getAudioTracks())?.[0]?.getSettings().deviceId;
        const select = h(
          "select",
          { id, onchange: () => void this.attempt(() => apply(select.value)) },
          ...found.map((d, index) => h("option", { value: d.deviceId, selected: d.deviceId === current }, d.label || t("video.device_n", { n: index + 1 }))),
        );
        return h("div", {}, h("label", { for: id }, label), select);
      };
      replace(
        row,
        pick("videoinput", t("video.choose_camera"), (id) => this.call.openDevices(id, null)),
        pick("audioinput", t("video.choose_mic"), (id) => this.call.openDevices(null, id)),
      );
    });
  }

  /** The mesh's grid: everyone seated, each with the stream of our peer connection. */
  private renderGrid(): void {
    const session = this.call.session;
    const seated = this.call.seat === "joined" && session !== null && !this.call.sfuSession();
    const shown = new Map<string, TileEntry>();
    if (seated && session) {
      for (const participant of session.participants) {
        if (participant.state === "lobby") continue;
        const self = participant.participant_id === this.call.participantId;
        const stream = self ? this.call.local : (this.call.peers.get(participant.participant_id)?.remote ?? null);
        shown.set(String(participant.participant_id), { participant, stream, self });
      }
    }
    this.tiles.sync(shown, (_, tile) => {
      if (tile.parentElement !== this.grid) this.grid.append(tile);
    });
  }
}
