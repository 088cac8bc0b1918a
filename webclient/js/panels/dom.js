// Small DOM helpers shared by the panels. Text always goes in through textContent, never HTML.

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

export function button(text, className = "btn small") {
  const b = el("button", className, text);
  b.type = "button";
  return b;
}
