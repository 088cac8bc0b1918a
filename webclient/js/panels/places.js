// "Places": the labelled features of the room (counters, desks, booths, stage, signs) as a list;
// choosing one walks the avatar there. The keyboard way to get around a big room.

const TYPE_KEYS = {
  counter: "place.counter", desk: "place.desk", booth: "place.booth",
  stage: "place.stage", sign: "place.sign",
};
const TYPE_ORDER = ["desk", "counter", "stage", "booth", "sign"];

export const placesPanel = {
  id: "places",
  titleKey: "panel.places.title",
  icon: "pin",
  order: 10,
  when: (ctx) => ctx.layout.places().length > 0,
  mount(container, ctx) {
    const { i18n } = ctx;
    const filter = document.createElement("input");
    filter.type = "search";
    filter.className = "panel-filter";
    filter.setAttribute("aria-label", i18n.t("panel.places.filter"));
    filter.placeholder = i18n.t("panel.places.filter");
    const list = document.createElement("ul");
    list.className = "item-list";
    container.append(filter, list);

    const places = ctx.layout.places()
      .filter((f) => f.type !== "sign" || !/^\s*\d+\s*$/.test(f.label?.en ?? "")) // numbered signs duplicate counters
      .sort((a, b) => TYPE_ORDER.indexOf(a.type) - TYPE_ORDER.indexOf(b.type));
    const rows = places.map((f) => {
      const li = document.createElement("li");
      li.className = "item";
      const btn = document.createElement("button");
      btn.type = "button";
      btn.className = "item-main";
      const name = document.createElement("span");
      name.className = "item-name";
      const meta = document.createElement("span");
      meta.className = "item-meta";
      btn.append(name, meta);
      btn.addEventListener("click", () => {
        const p = ctx.layout.approachPoint(f);
        ctx.walkTo(p.x, p.z, i18n.pick(f.label));
        ctx.toast("panel.places.walking", { name: i18n.pick(f.label) });
        ctx.focusView();
      });
      li.append(btn);
      list.append(li);
      return { f, li, name, meta };
    });

    const render = () => {
      const q = filter.value.trim().toLowerCase();
      for (const r of rows) {
        const label = i18n.pick(r.f.label);
        r.name.textContent = label;
        const dist = Math.hypot(r.f.x - ctx.local.x, r.f.z - ctx.local.z);
        r.meta.textContent = `${i18n.t(TYPE_KEYS[r.f.type] ?? "place.other")} · ${i18n.t("unit.metres", { n: Math.round(dist) })}`;
        r.li.hidden = Boolean(q) && !label.toLowerCase().includes(q) && !(r.f.label?.en ?? "").toLowerCase().includes(q);
      }
    };
    filter.addEventListener("input", render);
    filter.addEventListener("keydown", (e) => {
      if (e.key === "Enter") rows.find((r) => !r.li.hidden)?.li.querySelector("button").click();
    });
    document.addEventListener("metahall:lang-changed", render);
    render();
    return {
      update: render,
      unmount: () => document.removeEventListener("metahall:lang-changed", render),
    };
  },
};
