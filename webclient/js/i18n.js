// UI texts in zh-CN and en. One instance per page, handed to whoever renders text.
//
// Markup declares its texts with attributes and `apply(root)` fills them in:
//   data-i18n="key"              → textContent
//   data-i18n-aria-label="key"   → aria-label
//   data-i18n-placeholder="key"  → placeholder
//   data-i18n-title="key"        → title
// Code calls `t(key, params)`; `{name}` in a text is replaced by params.name.
// Server texts that come in both languages ({"zh-CN": ..., "en": ...}) go through `pick()`.

import en from "./i18n/en.js";
import zhCN from "./i18n/zh-CN.js";

const DICTS = { "zh-CN": zhCN, en };
const STORAGE_KEY = "metahall.lang";
const ATTRS = [
  ["data-i18n-aria-label", "aria-label"],
  ["data-i18n-placeholder", "placeholder"],
  ["data-i18n-title", "title"],
];

export const LANGUAGES = Object.freeze(["zh-CN", "en"]);

/** The language to start with: a saved choice, else the browser's preference, else English. */
export function preferredLanguage(storage = globalThis.localStorage, navigatorLike = globalThis.navigator) {
  try {
    const saved = storage?.getItem(STORAGE_KEY);
    if (LANGUAGES.includes(saved)) return saved;
  } catch { /* storage may be disabled */ }
  for (const tag of navigatorLike?.languages ?? [navigatorLike?.language ?? ""]) {
    const lower = String(tag).toLowerCase();
    if (lower.startsWith("zh")) return "zh-CN";
    if (lower.startsWith("en")) return "en";
  }
  return "en";
}

export class I18n {
  /** @param {string} lang one of LANGUAGES */
  constructor(lang = "en", storage = globalThis.localStorage) {
    this._lang = LANGUAGES.includes(lang) ? lang : "en";
    this._storage = storage;
  }

  get lang() { return this._lang; }

  /** Switches language, re-renders `document`, remembers the choice, announces `metahall:lang-changed`. */
  setLang(lang) {
    if (!LANGUAGES.includes(lang) || lang === this._lang) return;
    this._lang = lang;
    try { this._storage?.setItem(STORAGE_KEY, lang); } catch { /* ignore */ }
    this.apply(document);
    document.dispatchEvent(new CustomEvent("metahall:lang-changed", { detail: { lang } }));
  }

  /** The text for `key` in the current language (English, then the key itself, as fallbacks). */
  t(key, params) {
    let text = DICTS[this._lang][key] ?? DICTS.en[key] ?? key;
    if (params) text = text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
    return text;
  }

  /** Whether `key` has a text (used to map server error codes to texts). */
  has(key) { return key in DICTS.en; }

  /** Chooses from a server-provided {"zh-CN": ..., "en": ...} object (or returns a plain string as is). */
  pick(texts) {
    if (texts == null) return "";
    if (typeof texts === "string") return texts;
    return texts[this._lang] ?? texts.en ?? texts["zh-CN"] ?? Object.values(texts)[0] ?? "";
  }

  /** The localized text for a protocol error code (PROTOCOL.md "Errors on events"). */
  errorText(code, fallbackMessage) {
    const key = `error.${code}`;
    if (this.has(key)) return this.t(key);
    return fallbackMessage ? this.t("error.unknown_with", { message: fallbackMessage }) : this.t("error.unknown");
  }

  /** Fills every data-i18n* attribute under `root`, and sets <html lang>. */
  apply(root = document) {
    if (root === document) document.documentElement.lang = this._lang;
    for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = this.t(el.dataset.i18n);
    for (const [dataAttr, attr] of ATTRS) {
      for (const el of root.querySelectorAll(`[${dataAttr}]`)) el.setAttribute(attr, this.t(el.getAttribute(dataAttr)));
    }
    for (const btn of root.querySelectorAll(".lang-btn")) {
      btn.setAttribute("aria-pressed", String(btn.dataset.lang === this._lang));
    }
  }
}
