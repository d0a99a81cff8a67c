/**
 * The upload part of an album or folder: a file picker that is also a drop zone, the statement
 * that the uploader may share the files (eTwinning asks for it; the server stores it), and one
 * row per upload with its progress, its state in words, and pause, resume, retry and cancel.
 */

import { append, arrange, h, replace, uid } from "../dom";
import { type Key, formatSize, t, tk } from "../i18n";
import type { Collection } from "../materials/api";
import { type UploadItem, type UploadState, uploadsOf } from "../materials/uploads";
import { featureErrorText } from "./feature_errors";
import { keepFocus } from "./focus";
import type { MaterialsHost } from "./materials";
import { ApiError } from "../api";

const STATE: Record<UploadState, Key> = {
  uploading: tk("materials.state_uploading"),
  paused: tk("materials.state_paused"),
  waiting: tk("materials.state_waiting"),
  failed: tk("materials.state_failed"),
  processing: tk("materials.state_processing"),
  done: tk("materials.state_done"),
  refused: tk("materials.state_refused"),
};

export class UploadPanel {
  readonly element: HTMLElement;
  private readonly list = h("ul", { class: "upload-list" });
  private readonly declared: HTMLInputElement;
  private readonly stop: () => void;

  constructor(
    private readonly host: MaterialsHost,
    readonly collection: Collection,
  ) {
    const uploads = uploadsOf(host.client.projectId);
    const pickId = uid("files");
    const declareId = uid("declare");
    this.declared = h("input", { type: "checkbox", id: declareId, class: "inline-check" });
    const picker = h("input", {
      type: "file",
      id: pickId,
      multiple: true,
      accept: collection.kind === "album" ? "image/jpeg,image/png,image/webp,image/gif" : null,
      onchange: () => {
        this.start([...(picker.files ?? [])]);
        picker.value = "";
      },
    });
    const zone = h(
      "div",
      { class: "drop-zone" },
      h("label", { for: pickId }, collection.kind === "album" ? t("materials.choose_photos") : t("materials.choose_files")),
      picker,
      h("p", { class: "hint" }, t("materials.drop")),
    );
    zone.addEventListener("dragover", (event) => {
      event.preventDefault();
      zone.classList.add("dragging");
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("dragging");
      this.start([...(event.dataTransfer?.files ?? [])]);
    });
    this.element = h(
      "section",
      { class: "upload-panel", "aria-labelledby": `${pickId}-heading` },
      h("h2", { id: `${pickId}-heading` }, t("materials.upload_title")),
      h("p", {}, h("label", { class: "check", for: declareId }, this.declared, t("materials.declaration"))),
      zone,
      this.list,
    );
    this.stop = uploads.on(() => this.render());
    this.render();
  }

  detach(): void {
    this.stop();
  }

  private start(files: File[]): void {
    if (files.length === 0) return;
    if (!this.declared.checked) {
      this.host.status.textContent = t("materials.declaration_needed");
      this.declared.focus();
      return;
    }
    this.host.status.textContent = "";
    const uploads = uploadsOf(this.host.client.projectId);
    for (const file of files) void uploads.add(file, this.collection.id, t("materials.declaration"));
  }

  /** Rows are kept per upload and changed in place: progress comes many times a second, and
   * a row rebuilt under the pointer would swallow a click on Pause. */
  private readonly rows = new Map<UploadItem, { row: HTMLElement; progress: HTMLProgressElement; state: HTMLElement; actions: HTMLElement; shown: string }>();

  private render(): void {
    const uploads = uploadsOf(this.host.client.projectId);
    const mine = uploads.items.filter((item) => item.collectionId === this.collection.id);
    for (const item of [...this.rows.keys()]) if (!mine.includes(item)) this.rows.delete(item);
    keepFocus(this.list, () => arrange(this.list, ...mine.map((item) => this.row(item))));
  }

  private row(item: UploadItem): HTMLElement {
    let held = this.rows.get(item);
    if (!held) {
      const nameId = uid("upload");
      held = {
        row: h("li", { id: item.key }),
        progress: h("progress", { max: 100, "aria-labelledby": nameId }),
        state: h("p", { class: "upload-state" }),
        actions: h("div", { class: "row-actions" }),
        shown: "",
      };
      append(held.row, h("p", { class: "upload-name", id: nameId }, h("bdi", {}, item.name)), held.progress, held.state, held.actions);
      this.rows.set(item, held);
    }
    held.row.className = `upload-row state-${item.state}`;
    held.progress.value = item.total > 0 ? Math.floor((item.sent / item.total) * 100) : 100;
    held.state.textContent = [
      t("materials.progress", { sent: formatSize(item.sent), total: formatSize(item.total) }),
      " · ",
      t(STATE[item.state]),
      item.error ? ` ${errorOf(item.error)}` : "",
    ].join("");
    const shown = `${item.state}:${item.error ?? ""}`;
    if (held.shown !== shown) {
      held.shown = shown;
      replace(held.actions, ...this.actions(item));
    }
    return held.row;
  }

  private actions(item: UploadItem): HTMLElement[] {
    const uploads = uploadsOf(this.host.client.projectId);
    const button = (label: Key, control: string, run: () => void, kind = "secondary") =>
      h("button", { type: "button", class: kind, "data-control": control, onclick: run }, t(label));
    const actions: HTMLElement[] = [];
    if (item.state === "uploading") actions.push(button(tk("materials.pause"), "toggle", () => uploads.pause(item)));
    if (item.state === "paused") actions.push(button(tk("materials.resume"), "toggle", () => uploads.resume(item), ""));
    if (item.state === "waiting" || item.state === "failed") actions.push(button(tk("materials.retry"), "toggle", () => uploads.resume(item), ""));
    if (["uploading", "paused", "waiting", "failed"].includes(item.state)) {
      actions.push(button(tk("materials.cancel"), "cancel", () => uploads.cancel(item)));
    } else if (item.state !== "processing") {
      actions.push(button(tk("materials.dismiss"), "dismiss", () => uploads.dismiss(item)));
    }
    return actions;
  }
}

function errorOf(code: string): string {
  return code === "network" ? t("materials.error_network") : featureErrorText(new ApiError(code, code));
}
