/** Materials over REST, as far as the client uses them: a found or new material opened in a
 * new tab, and the mark that the materials so far are seen. */

import { call } from "../api";

/** The variant shown when a material is opened: the image, the video or sound, or the file. */
const OPEN_FIRST = ["display", "media", "file", "large", "small", "poster"];

export const materialsApi = {
  /** Short-lived signed links (an `<a>` cannot send the token), one per stored variant. */
  links: (p: number, id: number) => call<{ expires_in: number; variants: Record<string, string> }>("GET", `/api/projects/${p}/materials/${id}/links`),
  /** The materials added so far are seen: they leave "What's new". */
  read: (p: number) => call<unknown>("POST", `/api/projects/${p}/materials/read`),
};

/** Opens a material the member may see in a new tab, through a fresh signed link. */
export async function openMaterial(p: number, id: number): Promise<void> {
  const { variants } = await materialsApi.links(p, id);
  const variant = OPEN_FIRST.find((name) => variants[name]) ?? Object.keys(variants)[0];
  if (variant) window.open(variants[variant], "_blank", "noopener");
}
