// The voice controls over the room view in social spaces: join/leave voice, mute, deafen, and
// who we are connected to. Texts from js/i18n/social.*.js (keys `voice.*`).

import { VoiceStatus } from "./proximity-voice.js";

export class VoiceBar {
  /**
   * @param {HTMLElement} host where the bar goes (#app)
   * @param {import("./proximity-voice.js").ProximityVoice} voice
   * @param {import("../i18n.js").I18n} i18n
   */
  constructor(host, voice, i18n) {
    this.voice = voice;
    this.i18n = i18n;
    const root = document.createElement("section");
    root.className = "voice-bar";
    root.id = "voice-bar";
    root.hidden = true;
    root.setAttribute("aria-labelledby", "voice-bar-title");
    const title = document.createElement("h2");
    title.id = "voice-bar-title";
    title.className = "visually-hidden";
    title.dataset.i18n = "voice.title";
    this.state = document.createElement("span");
    this.state.className = "voice-state";
    this.state.setAttribute("role", "status");
    this.state.setAttribute("aria-live", "polite");
    this.join = this._button("voice-join", () => {
      if (voice.status === VoiceStatus.OFF) voice.enable();
      else voice.disable();
    });
    this.mute = this._button("voice-mute", () => voice.setMuted(!voice.muted));
    this.deafen = this._button("voice-deafen", () => voice.setDeafened(!voice.deafened));
    this.dot = document.createElement("span");
    this.dot.className = "voice-dot";
    this.dot.setAttribute("aria-hidden", "true");
    root.append(title, this.dot, this.state, this.join, this.mute, this.deafen);
    host.append(root);
    this.root = root;
    document.addEventListener("metahall:voice", () => this.render());
    document.addEventListener("metahall:lang-changed", () => this.render());
    this.render();
  }

  show(on) {
    this.root.hidden = !on;
    this.render();
  }

  /** Called every frame while shown: only the talking dot changes that fast. */
  tick() {
    this.dot.classList.toggle("talking", this.voice.selfTalking);
  }

  render() {
    const v = this.voice;
    const t = (k, p) => this.i18n.t(k, p);
    this.i18n.apply(this.root);
    const on = v.status === VoiceStatus.ON;
    this.root.dataset.status = v.status;
    const n = [...v.peers.values()].filter((p) => p.peer.state === "connected").length;
    let text;
    if (v.status === VoiceStatus.UNSUPPORTED) text = t("voice.unsupported");
    else if (v.status === VoiceStatus.JOINING) text = t("voice.joining");
    else if (!on) text = v.code === "replaced" ? t("voice.replaced") : t("voice.off");
    else if (v.hostMuted) text = t("voice.host_muted");
    else if (v.micState !== "live") text = t(v.micState === "denied" ? "voice.no_mic_permission" : "voice.listen_only", { n });
    else text = n ? t("voice.connected", { n }) : t("voice.nobody_near", { m: Math.round(v.config.radius) });
    this.state.textContent = text;
    this.join.textContent = t(on || v.status === VoiceStatus.JOINING ? "voice.leave" : "voice.join");
    this.join.disabled = v.status === VoiceStatus.UNSUPPORTED;
    this.join.classList.toggle("primary", !on);
    this.mute.hidden = !on || v.micState !== "live";
    this.deafen.hidden = !on;
    this.mute.textContent = t(v.muted ? "voice.unmute" : "voice.mute");
    this.mute.setAttribute("aria-pressed", String(v.muted));
    this.mute.disabled = v.hostMuted;
    this.deafen.textContent = t(v.deafened ? "voice.undeafen" : "voice.deafen");
    this.deafen.setAttribute("aria-pressed", String(v.deafened));
  }

  _button(cls, onClick) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = `btn small ${cls}`;
    b.addEventListener("click", onClick);
    return b;
  }
}
