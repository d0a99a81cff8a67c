/**
 * The views of a class-size (SFU) call: a speaker view (one person or a shared screen large,
 * the others small) and a grid view, each with at most `PAGE` small tiles and page buttons for
 * the rest. A shared screen is shown large to everyone, whatever the view.
 *
 * The view decides each feed's simulcast layer (`SfuMedia.want`): the large tile gets the
 * largest (substream 2), small tiles on this page the smallest (0), and feeds on other pages
 * the smallest at its lowest frame rate: they stay subscribed, for their sound.
 */

import { h, replace } from "../dom";
import { t } from "../i18n";
import type { Participant, VideoCall } from "../video/call";
import type { Layer } from "../video/sfu";
import { keepFocus } from "./focus";
import { type TileEntry, Tiles } from "./video_tiles";
import "./video_stage.css";

export const PAGE = 9;

type Attempt = (run: () => Promise<unknown>) => void;

export class VideoStage {
  readonly element = h("section", { class: "video-stage" });
  private view: "speaker" | "grid" = "speaker";
  private page = 0;
  private readonly bar = h("div", { class: "row stage-bar" });
  private readonly large = h("ul", { class: "stage-large" });
  private readonly grid = h("ul", { class: "stage-grid" });
  private readonly pager = h("nav", { class: "row pager" });
  private readonly tiles = new Tiles();

  constructor(
    private readonly call: VideoCall,
    private readonly attempt: Attempt,
  ) {
    replace(this.element, this.bar, this.large, this.grid, this.pager);
  }

  render(canShare: boolean): void {
    const session = this.call.session;
    const sfu = this.call.sfu;
    if (!session || !sfu || this.call.seat !== "joined") {
      this.tiles.sync(new Map(), () => undefined);
      replace(this.bar);
      replace(this.pager);
      return;
    }
    const me = this.call.me();
    const group = me?.breakout ?? null;
    const everyone = session.participants.filter((p) => p.state !== "lobby" && (p.breakout ?? null) === group);
    const entries = new Map<string, TileEntry>();
    for (const id of sfu.screens()) {
      const participant = everyone.find((p) => p.participant_id === id);
      const self = id === this.call.participantId;
      const stream = self ? sfu.screen : sfu.stream(id, "screen");
      if (participant) entries.set(`${id}:screen`, { participant, stream, self, screen: true });
    }
    for (const participant of this.ordered(everyone, session.started_by)) {
      const id = participant.participant_id;
      const self = id === this.call.participantId;
      entries.set(`${id}:camera`, { participant, stream: self ? this.call.local : sfu.stream(id, "camera"), self, speaking: sfu.talking.has(id) });
    }
    const largeKey = this.largeKey(entries);
    const small = [...entries.keys()].filter((key) => key !== largeKey);
    const pages = Math.max(1, Math.ceil(small.length / PAGE));
    this.page = Math.min(this.page, pages - 1);
    const shown = new Set(small.slice(this.page * PAGE, (this.page + 1) * PAGE));
    const visible = new Map([...entries].filter(([key]) => key === largeKey || shown.has(key)));
    this.tiles.detachAll();
    this.tiles.sync(visible, (key, tile) => (key === largeKey ? this.large : this.grid).append(tile));
    this.large.hidden = largeKey === null;
    this.large.setAttribute("aria-label", t("video.large_label"));
    this.grid.setAttribute("aria-label", t("video.grid_label"));
    this.element.dataset.view = this.view;
    keepFocus(this.bar, () => this.renderBar(canShare));
    keepFocus(this.pager, () => this.renderPager(pages));
    const layers = new Map<string, Layer>();
    for (const key of entries.keys()) {
      if (key === largeKey) layers.set(key, { substream: 2, temporal: null });
      else if (shown.has(key)) layers.set(key, { substream: 0, temporal: null });
    }
    sfu.want(layers);
  }

  /** Teachers first (they lead the lesson), then everyone in the order they joined. */
  private ordered(everyone: Participant[], startedBy: number): Participant[] {
    const rank = (p: Participant) => (p.user_id === startedBy ? 0 : p.role.startsWith("teacher") ? 1 : 2);
    return [...everyone].sort((a, b) => rank(a) - rank(b) || a.participant_id - b.participant_id);
  }

  /** A screen first; in the speaker view, else the last to speak, else the teacher; never me
   * when someone else is there (I know what I look like). */
  private largeKey(entries: Map<string, TileEntry>): string | null {
    const keys = [...entries.keys()];
    const screen = keys.find((key) => key.endsWith(":screen"));
    if (screen) return screen;
    if (this.view !== "speaker") return null;
    const speaker = this.call.sfu?.lastSpeaker;
    const others = keys.filter((key) => !entries.get(key)?.self);
    if (speaker !== null && speaker !== undefined && entries.has(`${speaker}:camera`)) return `${speaker}:camera`;
    return others[0] ?? null;
  }

  private renderBar(canShare: boolean): void {
    const sfu = this.call.sfu;
    const viewButton = (view: "speaker" | "grid", label: string) =>
      h(
        "button",
        {
          type: "button",
          class: "secondary toggle",
          "data-control": `${view}-view`,
          "aria-pressed": this.view === view ? "true" : "false",
          onclick: () => {
            this.view = view;
            this.page = 0;
            this.render(canShare);
          },
        },
        label,
      );
    const sharing = Boolean(sfu?.screen);
    replace(
      this.bar,
      h("div", { class: "row", role: "group", "aria-label": t("video.view") }, viewButton("speaker", t("video.speaker_view")), viewButton("grid", t("video.grid_view"))),
      canShare
        ? h(
            "button",
            {
              type: "button",
              class: "secondary toggle share-screen",
              "data-control": "screen",
              "aria-pressed": sharing ? "true" : "false",
              onclick: () => this.attempt(async () => (sharing ? sfu?.stopScreen() : sfu?.shareScreen())),
            },
            t("video.share_screen"),
          )
        : null,
    );
  }

  private renderPager(pages: number): void {
    if (pages <= 1) {
      replace(this.pager);
      return;
    }
    const go = (page: number) => {
      this.page = page;
      this.render(this.bar.querySelector(".share-screen") !== null);
      // On the first or last page the button pressed is disabled: the focus goes to the other.
      if (!this.pager.contains(document.activeElement)) this.pager.querySelector<HTMLButtonElement>("button:not([disabled])")?.focus();
    };
    this.pager.setAttribute("aria-label", t("video.pages"));
    replace(
      this.pager,
      h("button", { type: "button", class: "secondary", "data-control": "previous-page", disabled: this.page === 0, onclick: () => go(this.page - 1) }, t("video.previous_page")),
      h("p", { class: "page-of", role: "status" }, t("video.page_of", { page: this.page + 1, pages })),
      h("button", { type: "button", class: "secondary", "data-control": "next-page", disabled: this.page >= pages - 1, onclick: () => go(this.page + 1) }, t("video.next_page")),
    );
  }
}
