/**
 * The room: navigation (channels with unread badges, admin), the open view, and presence.
 * One `RoomClient` (one hub socket) lives as long as the person stays in this project.
 */

import { api, type MemberInfo, type Project } from "../api";
import { h, replace } from "../dom";
import { type Key, formatNumber, t, tk } from "../i18n";
import { RoomClient } from "../hub/room_client";
import type { User } from "../session";
import { renderAdmin } from "./admin";
import { channelTitle, titleOf } from "./names";
import { renderAudit } from "./audit";
import { ChatView } from "./chat";
import { DocumentsView } from "./documents";
import { errorText } from "./errors";
import { type RoomFeature, openFeature } from "./features";
import { renderPresence } from "./presence";
import { ReportWatch, ReportsView } from "./reports";

/** The room's pages beside chat; each shows in the navigation to members it is allowed to. */
const FEATURES: { view: string; label: Key; permission: string }[] = [
  { view: "documents", label: tk("nav.documents"), permission: "doc.read" },
  { view: "pages", label: tk("nav.pages"), permission: "page.read" },
  { view: "journal", label: tk("nav.journal"), permission: "journal.read" },
  { view: "forums", label: tk("nav.forums"), permission: "forum.read" },
  { view: "materials", label: tk("nav.materials"), permission: "materials.read" },
  { view: "bulletin", label: tk("nav.bulletin"), permission: "bulletin.read" },
  { view: "search", label: tk("nav.search"), permission: "project.view" },
  { view: "activity", label: tk("nav.activity"), permission: "project.view" },
  { view: "video", label: tk("nav.video"), permission: "video.join" },
];

export class RoomScreen {
  static onSessionEnded: () => void = () => undefined;
  private client: RoomClient | null = null;
  private project: Project | null = null;
  readonly members = new Map<number, MemberInfo>();
  private view = "chat";
  private ref: string | null = null;
  private chat: ChatView | null = null;
  private documents: DocumentsView | null = null;
  private feature: RoomFeature | null = null;
  private reports: ReportWatch | null = null;
  private nav = h("nav", { class: "room-nav", id: "room-nav" });
  /** On phones the room menu hides behind this one button (issue 17). */
  private menuToggle = h("button", {
    type: "button",
    class: "secondary menu-toggle",
    "aria-controls": "room-nav",
    "aria-expanded": "false",
    onclick: () => this.toggleMenu(),
  });
  private content = h("section", { class: "room-content" });
  private side = h("aside", { class: "presence" });
  private banner = h("div", { class: "banners" });

  constructor(
    private main: HTMLElement,
    readonly projectId: number,
    private readonly token: string,
    readonly user: User,
  ) {
    replace(main, h("p", { role: "status" }, t("common.loading")));
    // Choosing a place closes the phone menu, even when it is the page already open.
    this.nav.addEventListener("click", (event) => {
      if (event.target instanceof Element && event.target.closest("a")) this.toggleMenu(false);
    });
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      this.project = await api.project(this.projectId);
      await this.loadMembers();
    } catch (error) {
      replace(this.main, h("p", { role: "alert" }, errorText(error)), h("a", { href: "#/projects" }, t("room.back")));
      return;
    }
    const project = this.project;
    this.client = new RoomClient(this.projectId, this.token, project.role, project.status, new Set(project.permissions));
    this.client.selfId = this.user.id;
    this.client.on((event) => {
      if (event.kind === "ended") {
        if (event.code === 4401) RoomScreen.onSessionEnded();
        else location.hash = "#/projects";
        return;
      }
      if (event.kind === "permissions" && this.project) {
        this.project.status = this.client?.status as Project["status"];
        this.project.role = this.client?.role as Project["role"];
        this.project.permissions = [...(this.client?.permissions ?? [])];
      }
      if (event.kind === "permissions") this.watchReports();
      if (["channels", "permissions", "link"].includes(event.kind)) this.renderFrame();
      if (event.kind === "presence" || event.kind === "typing") this.renderSide();
    });
    document.addEventListener("visibilitychange", this.visibility);
    this.watchReports();
    this.remount(this.main);
  }

  async loadMembers(): Promise<void> {
    const { members } = await api.members(this.projectId);
    this.members.clear();
    for (const member of members) this.members.set(member.user_id, member);
  }

  /** Called on a language change: rebuild every element from the state held. */
  remount(main: HTMLElement): void {
    this.main = main;
    if (!this.client || !this.project) return;
    replace(
      main,
      h("div", { class: "room" }, this.menuToggle, this.nav, h("div", { class: "room-main" }, this.banner, this.content), this.side),
    );
    this.renderFrame();
    this.renderSide();
    this.renderView();
  }

  private toggleMenu(open = this.menuToggle.getAttribute("aria-expanded") !== "true"): void {
    this.menuToggle.setAttribute("aria-expanded", String(open));
    this.nav.closest(".room")?.classList.toggle("nav-open", open);
    if (open) this.nav.querySelector<HTMLElement>("a")?.focus();
  }

  show(view: string, ref: string | null): void {
    this.toggleMenu(false);
    this.view = view;
    this.ref = ref;
    if (this.client) {
      this.renderFrame();
      this.renderView();
    }
  }

  /** Moderators follow the reports inbox wherever they are in the room. */
  private watchReports(): void {
    const client = this.client;
    if (!client) return;
    if (client.can("chat.moderate") && !this.reports) {
      this.reports = new ReportWatch(client, () => {
        this.renderFrame();
        if (this.feature instanceof ReportsView) this.feature.render();
      });
    } else if (!client.can("chat.moderate") && this.reports) {
      this.reports.close();
      this.reports = null;
    }
  }

  close(): void {
    this.reports?.close();
    document.removeEventListener("visibilitychange", this.visibility);
    this.documents?.detach();
    this.feature?.detach();
    this.client?.close();
  }

  private readonly visibility = (): void => {
    this.client?.setAway(document.visibilityState !== "visible");
  };

  private renderView(): void {
    const client = this.client;
    if (!client || !this.project) return;
    this.chat?.detach();
    this.chat = null;
    this.documents?.detach();
    this.documents = null;
    const key = `${this.view}/${this.ref ?? ""}`;
    if (this.feature?.key === key) {
      this.feature.refresh();
      return;
    }
    this.feature?.detach();
    const host = this.viewHost();
    if (this.view === "reports" && this.reports) {
      client.setLocation({ kind: "home" });
      this.feature = new ReportsView(key, host, client, this.reports, this);
      this.renderFrame();
      return;
    }
    this.feature = openFeature(this.view, this.ref, host, client, this);
    if (this.feature) return;
    if (this.view === "admin" && this.canAdmin()) {
      client.setLocation({ kind: "home" });
      void renderAdmin(host, this.project, this, (project) => {
        this.project = project;
        this.renderFrame();
        this.renderView();
      });
    } else if (this.view === "audit" && client.can("audit.read")) {
      client.setLocation({ kind: "home" });
      void renderAudit(host, this.projectId, this);
    } else if (this.view === "documents" && client.can("doc.read")) {
      const docId = /^\d+$/.test(this.ref ?? "") ? Number(this.ref) : null;
      this.documents = new DocumentsView(host, client, this.token, this.user, this, docId);
    } else {
      const channel = this.ref ?? "general";
      client.setLocation({ kind: "channel", ref: channel });
      this.chat = new ChatView(host, client, channel, this);
    }
  }

  /** A new element for the view being opened: a view left behind that finishes loading late
   * draws into its own element, now out of the page, never over its successor (a title being
   * typed in the pages form was wiped so on a busy machine). */
  private viewHost(): HTMLElement {
    const host = h("div", { class: "view-host" });
    replace(this.content, host);
    return host;
  }

  canAdmin(): boolean {
    return Boolean(this.client && (this.client.can("members.manage") || this.client.can("pupils.create") || this.client.can("project.manage")));
  }

  knows(userId: number): boolean {
    return this.members.has(userId);
  }

  isStaff(userId: number): boolean {
    return this.members.get(userId)?.kind === "teacher";
  }

  nameOf(userId: number): string {
    return this.members.get(userId)?.display_name ?? this.client?.presence.get(userId)?.display_name ?? t("chat.someone");
  }

  private renderFrame(): void {
    const client = this.client;
    const project = this.project;
    if (!client || !project) return;
    const current = (view: string, ref: string | null = null) =>
      this.view === view && (ref === null || (this.ref ?? "general") === ref) ? "page" : null;
    const channelLinks = [...client.channels.values()].map((state) =>
      h(
        "li",
        {},
        h(
          "a",
          { href: `#/p/${project.id}/chat/${encodeURIComponent(state.info.name)}`, "aria-current": current("chat", state.info.name) },
          h("span", { class: "channel-name" }, h("span", { class: "hash", "aria-hidden": "true" }, "#"), h("bdi", {}, channelTitle(state.info))),
          state.unread > 0
            ? h("span", { class: "badge unread" }, formatNumber(state.unread), h("span", { class: "visually-hidden" }, ` ${t("nav.unread")}`))
            : null,
        ),
      ),
    );
    const features = FEATURES.filter((f) => client.can(f.permission)).map((f) =>
      h("li", {}, h("a", { href: `#/p/${project.id}/${f.view}`, "aria-current": current(f.view) }, t(f.label))),
    );
    const admin = [
      this.canAdmin() ? h("li", {}, h("a", { href: `#/p/${project.id}/admin`, "aria-current": current("admin") }, t("nav.admin"))) : null,
      this.reports
        ? h(
            "li",
            {},
            h(
              "a",
              { href: `#/p/${project.id}/reports`, "aria-current": current("reports") },
              t("nav.reports"),
              this.reports.open > 0
                ? h("span", { class: "badge unread" }, formatNumber(this.reports.open), h("span", { class: "visually-hidden" }, ` ${t("reports.open")}`))
                : null,
            ),
          )
        : null,
      client.can("showcase.manage") ? h("li", {}, h("a", { href: `#/p/${project.id}/showcase`, "aria-current": current("showcase") }, t("nav.showcase"))) : null,
      client.can("audit.read") ? h("li", {}, h("a", { href: `#/p/${project.id}/audit`, "aria-current": current("audit") }, t("nav.audit"))) : null,
    ];
    replace(
      this.nav,
      h("p", { class: "room-title" }, h("a", { href: "#/projects" }, t("room.back")), h("strong", {}, project.name)),
      h("h2", { class: "nav-heading" }, t("nav.channels")),
      h("ul", { "aria-label": t("nav.channels") }, ...channelLinks),
      features.length > 0 ? h("ul", {}, ...features) : null,
      admin.some(Boolean) ? h("h2", { class: "nav-heading" }, t("nav.teachers")) : null,
      admin.some(Boolean) ? h("ul", {}, ...admin) : null,
    );
    this.nav.setAttribute("aria-label", t("nav.room"));
    this.menuToggle.textContent = t("nav.menu");
    const banners: HTMLElement[] = [];
    if (client.link !== "online") {
      banners.push(h("p", { class: `banner link-${client.link}`, role: "status" }, client.link === "offline" ? t("room.offline") : t("room.connecting")));
    }
    if (project.status !== "active") {
      banners.push(h("p", { class: "banner readonly" }, project.status === "closed" ? t("room.closed") : t("room.archived")));
    } else if (!client.can("chat.send")) {
      banners.push(h("p", { class: "banner readonly" }, t("room.observer")));
    }
    const alert = this.reports?.alert;
    if (alert && this.view !== "reports") {
      const channel = titleOf(client.channels, alert.channel);
      banners.push(
        h(
          "p",
          { class: "banner report-alert", role: "alert" },
          t("reports.alert", { name: this.nameOf(alert.reporter_id), channel }),
          " ",
          h("a", { href: `#/p/${project.id}/reports` }, t("reports.open_inbox")),
        ),
      );
    }
    replace(this.banner, ...banners);
    this.chat?.refreshComposer();
  }

  private renderSide(): void {
    if (this.client) renderPresence(this.side, this.client, this);
  }
}
