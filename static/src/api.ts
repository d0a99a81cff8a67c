/** The REST API (docs/PROTOCOL.md): JSON in and out, errors as `{error: {code, message}}`. */

import { currentSession, type User } from "./session";

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryAfter: number | null = null,
  ) {
    super(message);
  }
}

export type Role = "teacher_admin" | "teacher" | "expert" | "observer" | "pupil_admin" | "pupil";
export type ProjectStatus = "active" | "archived" | "closed";

export interface Project {
  id: number;
  name: string;
  description: string;
  status: ProjectStatus;
  founder_id: number;
  created_at: string;
  role: Role;
  permissions: string[];
}

export interface MemberInfo {
  user_id: number;
  username: string;
  display_name: string;
  kind: "teacher" | "pupil";
  country: string | null;
  role: Role;
  is_founder: boolean;
  joined_at: string;
}

export interface PupilLogin {
  user_id: number;
  username: string;
  display_name: string;
  password: string;
}

export interface AuditEntry {
  id: number;
  actor_id: number;
  action: string;
  target_user_id: number | null;
  details: Record<string, unknown>;
  created_at: string;
}

/** An export or erasure request (docs/PRIVACY.md); `download` is a fresh signed link once done. */
export interface PrivacyJob {
  id: number;
  kind: "export" | "erase";
  state: "pending" | "running" | "done" | "expired";
  created_at: string;
  finished_at: string | null;
  download: string | null;
  download_expires: number | null;
}

export interface PrivacySettings {
  erase_mode: "blank" | "delete";
  chat_days: number;
  materials_days: number;
  journal_days: number;
  closed_months: number;
  audit_years: number;
  closed_since: string | null;
}

/** One row the next retention run removes: a material's file name, a post's first words. */
export interface DueItem {
  id: number;
  label: string;
  created_at: string;
}

export interface RetentionPreview {
  removed: { chat_messages: number; materials: number; journal_posts: number; audit_log: number };
  project_deleted: boolean;
  listed: { materials: DueItem[]; journal_posts: DueItem[] };
}

export interface LoginEntry {
  at: string;
  outcome: "ok" | "failed" | "throttled";
  address: string;
  client: string;
}

/** An account's sign-ins and failed sign-ins, newest first, kept `kept_days`. */
export interface LoginHistory {
  logins: LoginEntry[];
  kept_days: number;
}

/** Called when the server says the session is over (expired or revoked token). */
let onSessionEnded: () => void = () => undefined;
/** Called when the server says this account must first replace its one-time password. */
let onPasswordChangeRequired: () => void = () => undefined;

export function whenSessionEnds(handler: () => void): void {
  onSessionEnded = handler;
}

export function whenPasswordChangeRequired(handler: () => void): void {
  onPasswordChangeRequired = handler;
}

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await send(method, path, body);
  return (await response.json().catch(() => ({}))) as T;
}

/** One request; a refusal becomes an `ApiError`, a success is handed back unread (JSON or bytes). */
export async function send(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = {};
  const session = currentSession();
  if (session) headers.Authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError("network", "network error");
  }
  if (response.ok) return response;
  const data = (await response.json().catch(() => ({}))) as {
    error?: { code: string; message: string; retry_after?: number };
  };
  const error = data.error ?? { code: "internal_error", message: response.statusText };
  if (session && ["token_expired", "token_invalid"].includes(error.code)) onSessionEnded();
  if (session && error.code === "password_change_required") onPasswordChangeRequired();
  throw new ApiError(error.code, error.message, error.retry_after ?? null);
}

const project = (id: number) => `/api/projects/${id}`;

export const api = {
  login: (username: string, password: string) =>
    call<{ token: string; expires_at: string; user: User }>("POST", "/api/auth/login", {
      username,
      password,
    }),
  changePassword: (current: string, next: string) =>
    call<User & { token: string; expires_at: string }>("POST", "/api/me/password", {
      current_password: current,
      new_password: next,
    }),
  unlock: (id: number, userId: number) =>
    call<unknown>("POST", `${project(id)}/pupils/${userId}/unlock`),
  projects: () => call<{ projects: Project[] }>("GET", "/api/projects"),
  createProject: (name: string) => call<Project>("POST", "/api/projects", { name }),
  project: (id: number) => call<Project>("GET", project(id)),
  setStatus: (id: number, status: ProjectStatus) =>
    call<Project>("PATCH", project(id), { status }),
  members: (id: number) => call<{ members: MemberInfo[] }>("GET", `${project(id)}/members`),
  invite: (id: number, username: string, role: Role) =>
    call<MemberInfo>("POST", `${project(id)}/members`, { username, role }),
  setRole: (id: number, userId: number, role: Role) =>
    call<MemberInfo>("PATCH", `${project(id)}/members/${userId}`, { role }),
  remove: (id: number, userId: number) =>
    call<unknown>("DELETE", `${project(id)}/members/${userId}`),
  createPupils: (id: number, names: string[], role: Role) =>
    call<{ pupils: PupilLogin[] }>("POST", `${project(id)}/pupils`, {
      display_names: names,
      role,
    }),
  resetPassword: (id: number, userId: number) =>
    call<PupilLogin>("POST", `${project(id)}/pupils/${userId}/reset-password`),
  exportMember: (id: number, userId: number, language: string) =>
    call<PrivacyJob>("POST", `${project(id)}/members/${userId}/export`, { language }),
  eraseMember: (id: number, userId: number) =>
    call<PrivacyJob>("POST", `${project(id)}/members/${userId}/erase`),
  exportAccount: (language: string) => call<PrivacyJob>("POST", "/api/account/export", { language }),
  eraseAccount: () => call<PrivacyJob>("POST", "/api/account/erase"),
  myLogins: () => call<LoginHistory>("GET", "/api/me/logins"),
  pupilLogins: (id: number, userId: number) =>
    call<LoginHistory>("GET", `${project(id)}/members/${userId}/logins`),
  privacyJob: (jobId: number) => call<PrivacyJob>("GET", `/api/privacy/jobs/${jobId}`),
  privacy: (id: number) => call<PrivacySettings>("GET", `${project(id)}/privacy`),
  setPrivacy: (id: number, changes: Partial<PrivacySettings>) =>
    call<PrivacySettings>("PUT", `${project(id)}/privacy`, changes),
  retentionPreview: (id: number) =>
    call<RetentionPreview>("GET", `${project(id)}/privacy/retention`),
  audit: (id: number, before: number | null) =>
    call<{ entries: AuditEntry[]; next_before: number | null }>(
      "GET",
      `${project(id)}/audit?limit=50${before === null ? "" : `&before=${before}`}`,
    ),
};
