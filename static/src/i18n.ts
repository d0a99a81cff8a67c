/** Languages: every UI string comes from `locales/<lang>.json`; dates and numbers from `Intl`.
 *
 * A message that counts something is an ICU plural (`{count, plural, one {# post} other {# posts}}`),
 * formatted by FormatJS's intl-messageformat on `Intl.PluralRules`: Arabic has six forms, English
 * two, and each language lists the ones it needs. */

import { IntlMessageFormat } from "intl-messageformat";

import ar from "./locales/ar.json";
import ca from "./locales/ca.json";
import da from "./locales/da.json";
import en from "./locales/en.json";
import it from "./locales/it.json";
import tr from "./locales/tr.json";

export type Key = keyof typeof en;
type Messages = Record<Key, string>;

interface Language {
  name: string;
  dir: "ltr" | "rtl";
  messages: Messages;
}

export const LANGUAGES: Record<string, Language> = {
  en: { name: "English", dir: "ltr", messages: en },
  ar: { name: "العربية", dir: "rtl", messages: ar },
  tr: { name: "Türkçe", dir: "ltr", messages: tr },
  it: { name: "Italiano", dir: "ltr", messages: it },
  ca: { name: "Català", dir: "ltr", messages: ca },
  da: { name: "Dansk", dir: "ltr", messages: da },
};

const STORAGE_KEY = "twinspace.language";
let current = pickLanguage();
const listeners = new Set<() => void>();

function pickLanguage(): string {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved && saved in LANGUAGES) return saved;
  for (const tag of navigator.languages ?? [navigator.language]) {
    const base = tag.toLowerCase().split("-")[0];
    if (base in LANGUAGES) return base;
  }
  return "en";
}

/** Marks a string as a locale key without translating it yet (tests check every marked key). */
export function tk(key: Key): Key {
  return key;
}

export function t(key: Key, vars: Record<string, string | number> = {}): string {
  const text = LANGUAGES[current].messages[key] ?? en[key];
  if (text.includes(", plural,")) return plural(key, text, vars);
  return text.replace(/\{(\w+)\}/g, (_, name: string) =>
    name in vars ? formatValue(vars[name]) : `{${name}}`,
  );
}

const compiled = new Map<string, IntlMessageFormat>();

function plural(key: Key, text: string, vars: Record<string, string | number>): string {
  const id = `${current}:${key}`;
  let format = compiled.get(id);
  if (!format) {
    format = new IntlMessageFormat(text, current);
    compiled.set(id, format);
  }
  return String(format.format(vars));
}

function formatValue(value: string | number): string {
  return typeof value === "number" ? formatNumber(value) : value;
}

export function language(): string {
  return current;
}

export function setLanguage(code: string): void {
  if (!(code in LANGUAGES) || code === current) return;
  current = code;
  localStorage.setItem(STORAGE_KEY, code);
  applyToDocument();
  for (const listener of listeners) listener();
}

export function onLanguageChange(listener: () => void): void {
  listeners.add(listener);
}

export function applyToDocument(): void {
  document.documentElement.lang = current;
  document.documentElement.dir = LANGUAGES[current].dir;
}

export function formatNumber(value: number): string {
  return new Intl.NumberFormat(current).format(value);
}

/** A file's size in the reader's language: bytes, kB, or MB with one decimal. */
export function formatSize(bytes: number): string {
  const [unit, value] =
    bytes < 1000 ? ["byte", bytes] : bytes < 1000 * 1000 ? ["kilobyte", bytes / 1000] : ["megabyte", bytes / (1000 * 1000)];
  return new Intl.NumberFormat(current, { style: "unit", unit, maximumFractionDigits: 1 }).format(value);
}

export function formatDateTime(iso: string): string {
  return new Intl.DateTimeFormat(current, { dateStyle: "medium", timeStyle: "short" }).format(
    new Date(iso),
  );
}

export function formatTime(iso: string): string {
  const date = new Date(iso);
  const sameDay = date.toDateString() === new Date().toDateString();
  return sameDay
    ? new Intl.DateTimeFormat(current, { timeStyle: "short" }).format(date)
    : formatDateTime(iso);
}
