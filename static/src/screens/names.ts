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
