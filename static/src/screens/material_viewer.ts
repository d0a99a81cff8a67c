/**
 * The viewer: one material at a time in a native modal <dialog> (focus stays inside, Escape
 * closes), with previous and next (also the arrow keys), the image, a video or audio player
 * that seeks (the server answers Range), or a download for files; the bytes come through
 * short-lived signed links. Report, delete, and for a pending upload approve and reject.
 */

import { h, replace, uid } from "../dom";
import { formatSize, language, LANGUAGES, t } from "../i18n";
import { type Material, linksOf, materials } from "../materials/api";
import { ask } from "./dialog";
import { attempt } from "./feature_errors";
import { type MaterialsHost, byline } from "./materials";

export function openViewer(host: MaterialsHost, all: Material[], start: number): void {
  const list = [...all];
  let index = Math.max(0, start);
  const titleId = uid("viewer-title");
  const heading = h("h2", { id: titleId });
  const stage = h("div", { class: "viewer-stage" });
  const about = h("div", { class: "viewer-about" });
  const status = h("p", { class: "form-error", role: "alert" });
  const counter = h("p", { class: "meta", "aria-live": "polite" });
  const previous = h("button", { type: "button", class: "secondary", onclick: () => go(-1) }, t("materials.previous"));
  const next = h("button", { type: "button", class: "secondary", onclick: () => go(1) }, t("materials.next"));
  const actions = h("div", { class: "row-actions" });
  const dialog = h(
    "dialog",
    { class: "viewer", "aria-labelledby": titleId },
    h("div", { class: "viewer-head" }, heading, h("button", { type: "button", class: "secondary", onclick: () => dialog.close() }, t("materials.close"))),
    stage,
    h("div", { class: "viewer-nav" }, previous, counter, next),
    about,
    status,
    actions,
  );

  function go(step: number): void {
    const target = index + step;
    if (target < 0 || target >= list.length) return;
    index = target;
    show();
  }

  function show(): void {
    const material = list[index];
    heading.replaceChildren(h("bdi", {}, material.title || material.filename));
    counter.textContent = t("materials.position", { index: index + 1, count: list.length });
    previous.disabled = index === 0;
    next.disabled = index === list.length - 1;
    replace(stage, h("p", { role: "status" }, t("common.loading")));
    replace(
      about,
      material.description ? h("p", { dir: "auto" }, material.description) : null,
      h("p", { class: "meta" }, byline(host.names, material), " · ", h("bdi", {}, material.filename), " · ", formatSize(material.size)),
      material.status === "pending" ? h("p", { class: "tag" }, t("materials.pending")) : null,
    );
    replace(actions, ...buttons(material));
    const shown = material;
    void linksOf(host.client.projectId, material)
      .then((links) => {
        if (list[index] === shown) replace(stage, media(shown, links), download(shown, links));
      })
      .catch(() => replace(stage, h("p", {}, t("materials.no_preview"))));
  }

  function buttons(material: Material): HTMLElement[] {
    const client = host.client;
    const p = client.projectId;
    const out: HTMLElement[] = [];
    if (material.status === "pending" && client.can("materials.review")) {
      for (const verdict of ["approve", "reject"] as const) {
        out.push(
          h("button", {
            type: "button",
            class: verdict === "reject" ? "secondary" : "",
            onclick: () =>
              void attempt(status, async () => {
                await materials.review(p, material.id, verdict);
                host.notice.textContent = verdict === "approve" ? t("materials.approved") : t("materials.rejected");
                dialog.close();
                await host.reload();
              }),
          }, verdict === "approve" ? t("materials.approve") : t("materials.reject")),
        );
      }
    }
    if (client.can("content.report") && material.uploader_id !== client.selfId) {
      out.push(
        h("button", {
          type: "button",
          class: "secondary",
          onclick: () =>
            void attempt(status, async () => {
              const reason = await ask({ title: t("materials.report_title"), label: t("materials.report_reason"), confirm: t("materials.report_send") });
              if (reason === null || reason === "") return;
              await materials.report(p, material.id, reason);
              host.notice.textContent = t("materials.reported");
            }),
        }, t("materials.report")),
      );
    }
    if (client.can("materials.manage")) {
      for (const [field, label] of [["title", t("materials.rename")], ["description", t("materials.describe")]] as const) {
        out.push(
          h("button", {
            type: "button",
            class: "secondary",
            onclick: () =>
              void attempt(status, async () => {
                const question = field === "title" ? t("materials.collection_title") : t("materials.collection_description");
                const value = await ask({ title: label, label: question, value: material[field], confirm: t("common.save") });
                if (value === null) return;
                const changed = await materials.changeMaterial(p, material.id, { [field]: value });
                list[index] = changed;
                show();
                await host.reload();
              }),
          }, label),
        );
      }
    }
    const own = material.uploader_id === client.selfId && material.status === "pending";
    if (client.can("materials.manage") || own) {
      out.push(
        h("button", {
          type: "button",
          class: "danger",
          onclick: () =>
            void attempt(status, async () => {
              const sure = await ask({ title: t("materials.delete_confirm", { title: material.title || material.filename }), confirm: t("materials.delete"), danger: true });
              if (sure === null) return;
              await materials.remove(p, material.id);
              dialog.close();
              await host.reload();
            }),
        }, t("materials.delete")),
      );
    }
    return out;
  }

  dialog.addEventListener("keydown", (event) => {
    if (!(event.target instanceof HTMLElement) || event.target.closest("video, audio, textarea, input, select")) return;
    const forward = LANGUAGES[language()].dir === "rtl" ? "ArrowLeft" : "ArrowRight";
    const back = forward === "ArrowLeft" ? "ArrowRight" : "ArrowLeft";
    if (event.key === forward) go(1);
    else if (event.key === back) go(-1);
    else return;
    event.preventDefault();
  });
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  show();
  dialog.showModal();
}

function media(material: Material, links: Record<string, string>): HTMLElement {
  const label = material.title || material.filename;
  if (material.kind === "image" && links.large) {
    return h("img", { src: links.large, alt: label, class: "viewer-image" });
  }
  if (material.kind === "video" && links.media) {
    return h("video", { src: links.media, poster: links.poster ?? null, controls: true, preload: "metadata", "aria-label": label });
  }
  if (material.kind === "audio" && links.media) {
    return h("audio", { src: links.media, controls: true, preload: "metadata", "aria-label": label });
  }
  return h("p", {}, t("materials.no_preview"));
}

/** Files are always downloads (the server says so too); images and media may be kept. */
function download(material: Material, links: Record<string, string>): HTMLElement | null {
  const href = links.file ?? links.display ?? links.media;
  return href ? h("a", { href, download: material.filename, class: "download" }, t("materials.download")) : null;
}
