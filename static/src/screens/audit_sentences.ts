/**
 * Each audit entry as one sentence in the reader's language ("Ana muted Kacper for 10 minutes"),
 * built from the action, the two people and the details the server recorded
 * (docs/PROTOCOL.md, "Audit log"). A new action the client does not know yet still reads as a
 * sentence naming who did it, with the action's code.
 */

import type { AuditEntry } from "../api";
import { type Key, t, tk } from "../i18n";
import { roleName } from "./names";

interface Names {
  nameOf(userId: number): string;
}

type Vars = Record<string, string | number>;

/** Actions whose sentence needs nothing beyond who did it, to whom, and the details as text. */
const PLAIN: Record<string, Key> = {
  "project.create": tk("audit.s.project.create"),
  "project.update": tk("audit.s.project.update"),
  "member.remove": tk("audit.s.member.remove"),
  "pupil.create": tk("audit.s.pupil.create"),
  "pupil.reset_password": tk("audit.s.pupil.reset_password"),
  "pupil.unlock": tk("audit.s.pupil.unlock"),
  "chat.report": tk("audit.s.chat.report"),
  "chat.delete": tk("audit.s.chat.delete"),
  "chat.channel.create": tk("audit.s.chat.channel.create"),
  "doc.create": tk("audit.s.doc.create"),
  "doc.delete": tk("audit.s.doc.delete"),
  "doc.update": tk("audit.s.doc.update"),
  "doc.version": tk("audit.s.doc.version"),
  "doc.restore": tk("audit.s.doc.restore"),
  "forum.create": tk("audit.s.forum.create"),
  "forum.update": tk("audit.s.forum.update"),
  "forum.delete": tk("audit.s.forum.delete"),
  "forum.thread.renamed": tk("audit.s.forum.thread.renamed"),
  "forum.thread.moved": tk("audit.s.forum.thread.moved"),
  "forum.post.edit": tk("audit.s.forum.post.edit"),
  "forum.post.delete": tk("audit.s.forum.post.delete"),
  "bulletin.post.delete": tk("audit.s.bulletin.post.delete"),
  "forum.report": tk("audit.s.forum.report"),
  "bulletin.report": tk("audit.s.forum.report"),
  "journal.report": tk("audit.s.journal.report"),
  "journal.edit": tk("audit.s.journal.edit"),
  "journal.delete": tk("audit.s.journal.delete"),
  "journal.approve": tk("audit.s.journal.approve"),
  "journal.pupil_posts": tk("audit.s.journal.pupil_posts"),
  "page.create": tk("audit.s.page.create"),
  "page.delete": tk("audit.s.page.delete"),
  "page.rename": tk("audit.s.page.rename"),
  "page.moved": tk("audit.s.page.moved"),
  "page.published": tk("audit.s.page.published"),
  "page.unpublished": tk("audit.s.page.unpublished"),
  "page.visibility": tk("audit.s.page.visibility"),
  "showcase.publish": tk("audit.s.showcase.publish"),
  "showcase.update": tk("audit.s.showcase.update"),
  "showcase.unpublish": tk("audit.s.showcase.unpublish"),
  "privacy.settings": tk("audit.s.privacy.settings"),
  "privacy.export": tk("audit.s.privacy.export"),
  "privacy.export.download": tk("audit.s.privacy.export.download"),
  "privacy.erase": tk("audit.s.privacy.erase"),
  "video.start": tk("audit.s.video.start"),
  "video.admit": tk("audit.s.video.admit"),
  "video.lock": tk("audit.s.video.lock"),
  "video.remove": tk("audit.s.video.remove"),
  "video.end": tk("audit.s.video.end"),
};

const RESOLUTIONS: Record<string, Key> = {
  dismissed: tk("audit.s.chat.report_dismissed"),
  deleted: tk("audit.s.chat.report_deleted"),
  muted: tk("audit.s.chat.report_muted"),
};

export function auditSentence(entry: AuditEntry, names: Names): string {
  const d = entry.details;
  const text = (name: string) => (typeof d[name] === "string" || typeof d[name] === "number" ? String(d[name]) : "");
  const vars: Vars = {
    actor: names.nameOf(entry.actor_id),
    target: entry.target_user_id === null ? t("audit.someone") : names.nameOf(entry.target_user_id),
    channel: `#${text("channel")}`,
    name: text("name") || text("display_name"),
    title: text("title"),
    was: text("was"),
    reason: text("reason"),
    action: entry.action,
  };
  switch (entry.action) {
    case "member.invite":
      return t("audit.s.member.invite", { ...vars, role: roleName(text("role")) });
    case "member.role":
      return t("audit.s.member.role", { ...vars, old: roleName(text("old")), new: roleName(text("new")) });
    case "chat.mute":
      return muteSentence(Number(d.minutes ?? 0), vars);
    case "chat.report_resolved": {
      const key = RESOLUTIONS[text("resolution")];
      return key ? t(key, vars) : t("audit.s.unknown", vars);
    }
    case "forum.thread.pinned":
      return t(d.pinned ? tk("audit.s.forum.thread.pinned") : tk("audit.s.forum.thread.unpinned"), vars);
    case "forum.thread.locked":
      return t(d.locked ? tk("audit.s.forum.thread.locked") : tk("audit.s.forum.thread.unlocked"), vars);
    case "journal.pin":
      return t(d.pinned ? tk("audit.s.journal.pinned") : tk("audit.s.journal.unpinned"), vars);
    case "video.mute":
      return t(entry.target_user_id === null ? tk("audit.s.video.mute_all") : tk("audit.s.video.mute"), vars);
  }
  const key = PLAIN[entry.action];
  return t(key ?? "audit.s.unknown", vars);
}

/** Zero minutes lifted the mute; otherwise the largest whole unit: days, hours or minutes. */
function muteSentence(minutes: number, vars: Vars): string {
  if (minutes <= 0) return t("audit.s.chat.unmute", vars);
  if (minutes % 1440 === 0) return t("audit.s.chat.mute_days", { ...vars, days: minutes / 1440 });
  if (minutes % 60 === 0) return t("audit.s.chat.mute_hours", { ...vars, hours: minutes / 60 });
  return t("audit.s.chat.mute_minutes", { ...vars, minutes });
}
