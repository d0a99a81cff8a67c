/** The documents' REST calls (docs/PROTOCOL.md, "Shared documents (Yjs)"). */

import { call, send } from "../api";

export interface DocInfo {
  id: number;
  name: string;
  title: string;
  kind: "richtext" | "text";
  created_by: number;
  created_at: string;
  last_edited_at: string | null;
  last_edited_by: number | null;
}

export interface Version {
  id: number;
  name: string;
  auto: boolean;
  created_by: number | null;
  created_at: string;
}

const docs = (projectId: number) => `/api/projects/${projectId}/docs`;

export const docsApi = {
  list: (projectId: number) => call<{ documents: DocInfo[] }>("GET", docs(projectId)),
  get: (projectId: number, docId: number) => call<DocInfo>("GET", `${docs(projectId)}/${docId}`),
  /** Opened: its changes so far leave "What's new". */
  read: (projectId: number, docId: number) => call<unknown>("POST", `${docs(projectId)}/${docId}/read`),
  create: (projectId: number, name: string, title: string) =>
    call<DocInfo>("POST", docs(projectId), { name, title, kind: "richtext" }),
  rename: (projectId: number, docId: number, title: string) =>
    call<DocInfo>("PATCH", `${docs(projectId)}/${docId}`, { title }),
  remove: (projectId: number, docId: number) => call<unknown>("DELETE", `${docs(projectId)}/${docId}`),
  versions: (projectId: number, docId: number) =>
    call<{ versions: Version[] }>("GET", `${docs(projectId)}/${docId}/versions`),
  saveVersion: (projectId: number, docId: number, name: string) =>
    call<Version>("POST", `${docs(projectId)}/${docId}/versions`, { name }),
  restore: (projectId: number, docId: number, versionId: number) =>
    call<{ stored: boolean }>("POST", `${docs(projectId)}/${docId}/versions/${versionId}/restore`),
  /** A version's binary Yjs state, shown by the editor's own schema. */
  versionState: async (projectId: number, docId: number, versionId: number) => {
    const response = await send("GET", `${docs(projectId)}/${docId}/versions/${versionId}/content?format=update`);
    return new Uint8Array(await response.arrayBuffer());
  },
};

/** A document name (the socket's path) from its title: `Our river story` → `our-river-story-k3f9`. */
export function nameFor(title: string): string {
  const slug = title
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40);
  const suffix = Math.random().toString(36).slice(2, 6);
  return slug ? `${slug}-${suffix}` : `doc-${suffix}`;
}
