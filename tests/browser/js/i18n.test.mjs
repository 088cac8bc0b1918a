import assert from "node:assert/strict";
import { test } from "node:test";
import en from "../../../webclient/js/i18n/en.js";
import zh from "../../../webclient/js/i18n/zh-CN.js";
import { I18n, preferredLanguage } from "../../../webclient/js/i18n.js";

test("both languages have the same keys and no empty texts", () => {
  assert.deepEqual(Object.keys(zh).sort(), Object.keys(en).sort());
  for (const [k, v] of [...Object.entries(en), ...Object.entries(zh)]) assert.ok(v.trim(), k);
});

test("placeholders match between languages", () => {
  const names = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
  for (const k of Object.keys(en)) assert.deepEqual(names(zh[k]), names(en[k]), k);
});

test("every protocol error code has a text", () => {
  for (const code of ["bad_request", "auth", "forbidden", "not_found", "full", "rate_limited", "blocked", "muted", "banned"]) {
    assert.ok(`error.${code}` in en, code);
  }
});

test("the browser's language picks the default", () => {
  const none = { getItem: () => null };
  assert.equal(preferredLanguage(none, { languages: ["zh-TW", "en"] }), "zh-CN");
  assert.equal(preferredLanguage(none, { languages: ["de-DE", "en-GB"] }), "en");
  assert.equal(preferredLanguage(none, { languages: ["fr"] }), "en");
  assert.equal(preferredLanguage({ getItem: () => "zh-CN" }, { languages: ["en"] }), "zh-CN");
});

test("t() interpolates and pick() chooses the language", () => {
  const i = new I18n("zh-CN", null);
  assert.equal(i.t("unit.metres", { n: 5 }), "5 米");
  assert.equal(i.pick({ "zh-CN": "大厅", en: "Hall" }), "大厅");
  assert.equal(new I18n("en", null).pick({ "zh-CN": "大厅" }), "大厅");
  assert.equal(i.errorText("no_such_code"), zh["error.unknown"]);
});
