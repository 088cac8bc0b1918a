// Pure parts of the stage panel: question order, the organiser form's time field, i18n keys.
import assert from "node:assert/strict";
import test from "node:test";

import en from "../../../webclient/js/i18n/stage.en.js";
import zh from "../../../webclient/js/i18n/stage.zh-CN.js";
import { localInputValue } from "../../../webclient/js/panels/stage-admin.js";
import { sortQuestions } from "../../../webclient/js/panels/stage-qa.js";

test("questions: open first, most votes first, then the oldest; answered and hidden after", () => {
  const q = (id, status, votes, created_at) => ({ id, status, votes, created_at });
  const order = sortQuestions([
    q("a", "open", 1, 5), q("b", "answered", 9, 1), q("c", "open", 3, 9), q("d", "open", 3, 2),
    q("e", "hidden", 20, 0), q("f", "open", 0, 0),
  ]).map((x) => x.id);
  assert.deepEqual(order, ["d", "c", "a", "f", "b", "e"]);
});

test("the start field shows local time in the datetime-local format", () => {
  const ms = new Date(2026, 4, 7, 9, 5).getTime();
  assert.equal(localInputValue(ms), "2026-05-07T09:05");
});

test("every stage text exists in both languages and keeps its placeholders", () => {
  assert.deepEqual(Object.keys(zh).sort(), Object.keys(en).sort());
  for (const key of Object.keys(en)) {
    const names = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    assert.deepEqual(names(zh[key]), names(en[key]), key);
  }
});
