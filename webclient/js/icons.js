// Small line icons drawn as SVG elements (no emoji: many devices lack an emoji font).

const SVG_NS = "http://www.w3.org/2000/svg";

/** 24×24 path data per icon name. */
const PATHS = {
  pin: ["M12 21s-7-6.2-7-11.5A7 7 0 0 1 19 9.5C19 14.8 12 21 12 21z", "M12 12.2a2.6 2.6 0 1 0 0-5.2 2.6 2.6 0 0 0 0 5.2z"],
  people: ["M9 11a3.5 3.5 0 1 0 0-7 3.5 3.5 0 0 0 0 7z", "M2.5 20c0-3.6 2.9-6 6.5-6s6.5 2.4 6.5 6", "M16 4.3a3.3 3.3 0 0 1 0 6.4", "M18 14.3c2.1.7 3.5 2.7 3.5 5.2"],
  ticket: ["M4 7h16v3a2 2 0 0 0 0 4v3H4v-3a2 2 0 0 0 0-4z", "M14 7v10"],
  booth: ["M3 20V8l9-4 9 4v12", "M7 20v-7h10v7", "M3 20h18"],
  shield: ["M12 3l8 3v6c0 4.5-3.4 7.8-8 9-4.6-1.2-8-4.5-8-9V6z", "M8.5 12l2.5 2.5 4.5-5"],
  spaces: ["M3 12a9 9 0 1 0 18 0 9 9 0 0 0-18 0z", "M7.5 10.5h.01", "M16.5 10.5h.01", "M8 15c1 1.3 2.4 2 4 2s3-.7 4-2"], // social
  table: ["M4 9h16", "M6 9l-1.5 10", "M18 9l1.5 10", "M8 5.5a1.5 1.5 0 1 0 3 0 1.5 1.5 0 0 0-3 0", "M13 5.5a1.5 1.5 0 1 0 3 0 1.5 1.5 0 0 0-3 0"], // social
  dot: ["M12 14a2 2 0 1 0 0-4 2 2 0 0 0 0 4z"],
};

/** An <svg> element for `name`, decorative (aria-hidden). */
export function icon(name, size = 22) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", String(size));
  svg.setAttribute("height", String(size));
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("fill", "none");
  svg.setAttribute("stroke", "currentColor");
  svg.setAttribute("stroke-width", "1.8");
  svg.setAttribute("stroke-linecap", "round");
  svg.setAttribute("stroke-linejoin", "round");
  for (const d of PATHS[name] ?? PATHS.dot) {
    const path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}
