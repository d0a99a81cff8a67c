/** Display names of the server's enums, in the reader's language. */

import { type Key, t, tk } from "../i18n";

const ROLES: Record<string, Key> = {
  teacher_admin: tk("role.teacher_admin"),
  teacher: tk("role.teacher"),
  expert: tk("role.expert"),
  observer: tk("role.observer"),
  pupil_admin: tk("role.pupil_admin"),
  pupil: tk("role.pupil"),
};

const STATUSES: Record<string, Key> = {
  active: tk("status.active"),
  archived: tk("status.archived"),
  closed: tk("status.closed"),
};

export const TEACHER_ROLES = ["teacher_admin", "teacher", "expert", "observer"] as const;
export const PUPIL_ROLES = ["pupil_admin", "pupil"] as const;

export function roleName(role: string): string {
  return ROLES[role] ? t(ROLES[role]) : role;
}

export function statusName(status: string): string {
  return STATUSES[status] ? t(STATUSES[status]) : status;
}

/** The default channels every room starts with: their titles in the reader's language, as long
 * as nobody renamed them (custom channels and titles keep the words their teacher chose). */
const DEFAULT_CHANNELS: Record<string, { title: string; key: Key }> = {
  general: { title: "General", key: tk("channel.general") },
  teachers: { title: "Teachers' room", key: tk("channel.teachers") },
  pupils: { title: "Pupils", key: tk("channel.pupils") },
};

export function channelTitle(info: { name: string; title: string }): string {
  const known = DEFAULT_CHANNELS[info.name];
  return known && known.title === info.title ? t(known.key) : info.title;
}

/** A channel's title by name, from what the room holds (the name itself if unknown). */
export function titleOf(channels: Map<string, { info: { name: string; title: string } }>, name: string): string {
  const state = channels.get(name);
  return state ? channelTitle(state.info) : name;
}
