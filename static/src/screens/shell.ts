/** The frame around every screen: skip link, title, language picker, who is signed in. */

import { h, replace, uid } from "../dom";
import { LANGUAGES, language, setLanguage, t } from "../i18n";
import { signOut, type User } from "../session";

export function renderShell(root: HTMLElement, user: User | null): HTMLElement {
  const main = h("main", { id: "main", tabindex: "-1" });
  const pickerId = uid("language");
  const picker = h(
    "select",
    {
      id: pickerId,
      onchange: (event: Event) => setLanguage((event.target as HTMLSelectElement).value),
    },
    ...Object.entries(LANGUAGES).map(([code, lang]) =>
      h("option", { value: code, lang: code, selected: code === language() }, lang.name),
    ),
  );
  const account = user
    ? h(
        "div",
        { class: "account" },
        h("span", { class: "who" }, t("shell.signed_in_as", { name: user.display_name })),
        h("a", { class: "account-link", href: "#/password" }, t("shell.password")),
        h("a", { class: "account-link", href: "#/account" }, t("shell.my_data")),
        h(
          "button",
          {
            type: "button",
            class: "secondary",
            onclick: () => {
              signOut();
              location.hash = "#/";
              window.dispatchEvent(new HashChangeEvent("hashchange"));
            },
          },
          t("shell.sign_out"),
        ),
      )
    : null;
  replace(
    root,
    h("div", { class: "skip-links" }, h("a", { class: "skip-link", href: "#main", onclick: skipToMain }, t("shell.skip"))),
    h(
      "header",
      { class: "topbar" },
      h("a", { class: "brand", href: user ? "#/projects" : "#/" }, t("app.name")),
      h(
        "div",
        { class: "topbar-tools" },
        h("label", { for: pickerId, class: "picker-label" }, t("shell.language")),
        picker,
        account,
      ),
    ),
    main,
  );
  return main;
}

function skipToMain(event: Event): void {
  event.preventDefault();
  document.getElementById("main")?.focus();
}

/**
 * A second skip link while a screen offers one (the chat's message box): placed right after
 * "Skip to the main content", removed by calling the returned function.
 */
export function addSkipLink(label: string, target: () => HTMLElement | null): () => void {
  const link = h("a", {
    class: "skip-link",
    href: "#main",
    onclick: (event: Event) => {
      event.preventDefault();
      target()?.focus();
    },
  }, label);
  document.querySelector(".skip-links")?.append(link);
  return () => link.remove();
}
