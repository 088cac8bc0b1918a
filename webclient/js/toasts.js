// Short notices over the room view (moderation warnings, "walking to …", errors).

export class Toasts {
  constructor(root, { max = 4 } = {}) {
    this.root = root;
    this.max = max;
  }

  /** Shows `text` for `ms` milliseconds. level: "info" | "warn" | "error". */
  show(text, level = "info", ms = 4000) {
    const el = document.createElement("div");
    el.className = `toast toast-${level}`;
    el.setAttribute("role", level === "error" ? "alert" : "status");
    el.textContent = text;
    this.root.append(el);
    while (this.root.childElementCount > this.max) this.root.firstElementChild.remove();
    setTimeout(() => {
      el.classList.add("leaving");
      setTimeout(() => el.remove(), 300);
    }, ms);
    return el;
  }

  clear() { this.root.replaceChildren(); }
}
