import assert from "node:assert/strict";
import { test } from "node:test";
import { Api, ApiError } from "../../../webclient/js/api.js";
import { checkCounter, checkService, fieldOf, splitWords } from "../../../webclient/js/panels/hall-admin.js";
import { hallDate, hallDay, hallTime, slotText } from "../../../webclient/js/panels/hall-ui.js";

function fakeFetch(status, body) {
  const calls = [];
  globalThis.fetch = async (url, init) => {
    calls.push({ url, ...init });
    return { ok: status < 400, status, statusText: "x", json: async () => body };
  };
  return calls;
}

test("api.get / put / delete send the token and JSON, and resolve with the body", async () => {
  const api = new Api("http://h");
  api.token = "tok";
  let calls = fakeFetch(200, [{ id: "c1" }]);
  assert.deepEqual(await api.get("/api/hall/counters"), [{ id: "c1" }]);
  assert.equal(calls[0].url, "http://h/api/hall/counters");
  assert.equal(calls[0].method, "GET");
  assert.equal(calls[0].headers.Authorization, "Bearer tok");
  assert.equal(calls[0].body, undefined);
  calls = fakeFetch(200, { id: "tax" });
  await api.put("/api/hall/services/tax", { prefix: "G" });
  assert.equal(calls[0].method, "PUT");
  assert.equal(calls[0].headers["Content-Type"], "application/json");
  assert.deepEqual(JSON.parse(calls[0].body), { prefix: "G" });
  calls = fakeFetch(200, { id: "tax", active: false });
  await api.delete("/api/hall/services/tax");
  assert.equal(calls[0].method, "DELETE");
});

test("an HTTP error becomes an ApiError with its code, status, message and field", async () => {
  const api = new Api();
  fakeFetch(422, { error: { code: "bad_request", message: "prefix taken", field: "prefix" } });
  await assert.rejects(api.put("/api/hall/services/tax", {}), (err) => {
    assert.ok(err instanceof ApiError);
    assert.equal(err.code, "bad_request");
    assert.equal(err.status, 422);
    assert.equal(err.message, "prefix taken");
    assert.equal(err.field, "prefix");
    return true;
  });
  fakeFetch(409, null);
  await assert.rejects(api.post("/api/x", {}), (err) => err.code === "conflict" && err.field === null);
  globalThis.fetch = async () => { throw new TypeError("Failed to fetch"); };
  await assert.rejects(api.get("/api/x"), (err) => err.code === "network");
});

test("server field names map to the form's fields", () => {
  assert.equal(fieldOf("services[tax].name.en"), "name.en");
  assert.equal(fieldOf("services[tax].documents[2].name.zh-CN"), "documents[2].name.zh-CN");
  assert.equal(fieldOf("counters[c13].x"), "x");
  assert.equal(fieldOf("service.id"), "id");
  assert.equal(fieldOf("prefix"), "prefix");
  assert.equal(fieldOf(undefined), null);
});

test("keywords split on Western and Chinese separators", () => {
  assert.deepEqual(splitWords("tax, 个税，发票、 invoice\n\n纳税"), ["tax", "个税", "发票", "invoice", "纳税"]);
  assert.deepEqual(splitWords(""), []);
});

const GOOD = {
  id: "pets", prefix: "P", name: { "zh-CN": "宠物登记", en: "Pet registration" }, description: { "zh-CN": "", en: "" },
  documents: [{ id: "id_card", name: { "zh-CN": "身份证", en: "ID card" } }], keywords: [], avg_service_s: 300,
  slot_minutes: 30, online_url: null,
};

test("a service is checked before it is sent", () => {
  assert.deepEqual(checkService(GOOD, true), []);
  const bad = {
    ...GOOD, id: "Pets!", prefix: "p1", name: { "zh-CN": " ", en: "x".repeat(61) }, avg_service_s: 5, slot_minutes: 7.5,
    online_url: "http://x", documents: [GOOD.documents[0], { id: "id_card", name: { "zh-CN": "x", en: "" } }],
  };
  const fields = checkService(bad, true).map((p) => p.field).sort();
  assert.deepEqual(fields, ["avg_service_s", "documents[1].id", "documents[1].name.en", "id", "name.en", "name.zh-CN",
    "online_url", "prefix", "slot_minutes"].sort());
  // An existing service's id is not checked (it cannot be changed).
  assert.deepEqual(checkService({ ...GOOD, id: "" }, false), []);
});

test("a counter is checked before it is sent", () => {
  const c = { id: "c13", name: { "zh-CN": "13号窗口", en: "Counter 13" }, x: 58, z: -33, services: [], appointments_per_slot: 1 };
  assert.deepEqual(checkCounter(c, true), []);
  const fields = checkCounter({ ...c, x: NaN, z: 2000, appointments_per_slot: -1, name: { "zh-CN": "", en: "C" } }, true).map((p) => p.field);
  assert.deepEqual(fields.sort(), ["appointments_per_slot", "name.zh-CN", "x", "z"]);
});

test("slot times are shown in the hall's time zone, days as calendar days", () => {
  const nineShanghai = Date.UTC(2026, 5, 2, 1, 0); // 09:00 in Asia/Shanghai
  assert.equal(hallTime("en", "Asia/Shanghai", nineShanghai), "09:00");
  assert.equal(hallTime("en", "UTC", nineShanghai), "01:00");
  assert.equal(hallDate("Asia/Shanghai", Date.UTC(2026, 5, 2, 20, 0)), "2026-06-03");
  assert.match(hallDay("en", "2026-06-03"), /Wed.*3.*Jun|Wed.*Jun.*3/);
  assert.match(hallDay("zh-CN", "2026-06-03"), /6月3日/);
  assert.match(slotText("en", "Asia/Shanghai", nineShanghai, nineShanghai + 1_800_000), /09:00–09:30$/);
  assert.equal(hallTime("en", "Not/AZone", nineShanghai).length, 5); // falls back to the browser's zone
});
