/**
 * The teachers' reports inbox (issue 17): what was flagged in chat, with "delete message",
 * "mute" and "dismiss", and who decided. `ReportWatch` keeps the open count and raises the
 * live alert anywhere in the room; `ReportsView` is the inbox page.
 */

import { h, replace } from "../dom";
import { type Key, formatDateTime, t, tk } from "../i18n";
import type { Frame } from "../hub/socket";
import type { RoomClient } from "../hub/room_client";
import { errorText } from "./errors";
import { titleOf } from "./names";
import type { Names, RoomFeature } from "./features";
import { MUTE_CHOICES } from "./message";

const DECIDED: Record<string, Key> = {
  dismissed: tk("reports.dismissed"),
  deleted: tk("reports.deleted"),
  muted: tk("reports.muted"),
};

export interface ChatReport {
  id: number;
  channel: string;
  seq: number;
  text: string;
  deleted: boolean;
  author_id: number;
  reporter_id: number;
  reason: string;
  created_at: string;
  resolution: "dismissed" | "deleted" | "muted" | null;
  resolved_by: number | null;
  resolved_at: string | null;
}

/** Follows `chat.reported` and `chat.report_resolved` for a moderator's whole stay in the room. */
export class ReportWatch {
  reports: ChatReport[] = [];
  /** The newest report that arrived live, until the teacher opens the inbox or dismisses it. */
  alert: { reporter_id: number; channel: string } | null = null;
  private readonly detach: () => void;

  constructor(
    private readonly client: RoomClient,
    private readonly changed: () => void,
  ) {
    this.detach = client.extend({
      resumed: () => this.load(),
      push: (frame: Frame) => {
        if (frame.type === "chat.reported") {
          this.alert = { reporter_id: frame.reporter_id as number, channel: frame.channel as string };
          void this.load();
        } else if (frame.type === "chat.report_resolved") {
          void this.load();
        }
      },
    });
  }

  get open(): number {
    return this.reports.filter((report) => report.resolution === null).length;
  }

  async load(): Promise<void> {
    const ack = await this.client.request("chat.reports");
    this.reports = ack.reports as ChatReport[];
    this.changed();
  }

  close(): void {
    this.detach();
  }
}

export class ReportsView implements RoomFeature {
  private readonly status = h("p", { class: "form-error", role: "alert" });
  private readonly body = h("div", { class: "reports" });

  constructor(
    readonly key: string,
    private readonly host: HTMLElement,
    private readonly client: RoomClient,
    private readonly watch: ReportWatch,
    private readonly names: Names,
  ) {
    watch.alert = null;
    this.refresh();
  }

  refresh(): void {
    replace(this.host, h("h1", {}, t("reports.title")), this.status, this.body);
    this.render();
  }

  detach(): void {}

  render(): void {
    const open = this.watch.reports.filter((r) => r.resolution === null);
    const decided = this.watch.reports.filter((r) => r.resolution !== null);
    replace(
      this.body,
      open.length === 0 ? h("p", { role: "status" }, t("reports.none")) : h("ul", { class: "report-list" }, ...open.map((r) => this.item(r))),
      decided.length > 0 ? h("h2", {}, t("reports.decided")) : null,
      decided.length > 0 ? h("ul", { class: "report-list decided" }, ...decided.map((r) => this.item(r))) : null,
    );
  }

  private item(report: ChatReport): HTMLElement {
    const name = (id: number | null) => (id === null ? "" : this.names.nameOf(id));
    const channel = titleOf(this.client.channels, report.channel);
    const where = h(
      "a",
      { href: `#/p/${this.client.projectId}/chat/${encodeURIComponent(report.channel)}` },
      t("reports.where", { author: name(report.author_id), channel }),
    );
    const decision = report.resolution
      ? h("p", { class: "decision" }, t(DECIDED[report.resolution], { name: name(report.resolved_by), time: formatDateTime(report.resolved_at ?? report.created_at) }))
      : h(
          "div",
          { class: "row-actions" },
          h("button", { type: "button", class: "danger", onclick: () => this.decide(report, "delete") }, t("reports.delete")),
          ...MUTE_CHOICES.filter((c) => c.minutes > 0).map((choice) =>
            h("button", { type: "button", class: "secondary", onclick: () => this.decide(report, "mute", choice.minutes) }, t("reports.mute", { duration: t(choice.label) })),
          ),
          h("button", { type: "button", class: "secondary", onclick: () => this.decide(report, "dismiss") }, t("reports.dismiss")),
        );
    return h(
      "li",
      { class: "card report" },
      h("p", { class: "meta" }, where, " · ", h("time", { datetime: report.created_at }, formatDateTime(report.created_at))),
      h("blockquote", { dir: "auto" }, report.deleted ? t("chat.deleted") : report.text),
      h("p", {}, t("reports.reason", { name: name(report.reporter_id), reason: report.reason })),
      decision,
    );
  }

  private async decide(report: ChatReport, decision: string, minutes = 0): Promise<void> {
    this.status.textContent = "";
    try {
      await this.client.request("chat.resolve", { report_id: report.id, decision, minutes });
      await this.watch.load();
    } catch (error) {
      this.status.textContent = errorText(error);
      await this.watch.load().catch(() => undefined);
    }
  }
}
