// Texts of the moderator dashboard in zh-CN and en; `data-i18n` elements are filled by apply().

const TEXTS = {
  en: {
    title: "Moderation", language: "Language", signOut: "Sign out", liveHint: "Live updates",
    signInTitle: "Moderator sign-in", username: "Username", password: "Password", signIn: "Sign in",
    badLogin: "Wrong username or password.", notModerator: "This account is not a moderator.",
    network: "The server cannot be reached.", open: "Open", closed: "Closed", noCases: "No cases.",
    appeals: "Appeals", noAppeals: "No open appeals.", pickCase: "Pick a case on the left.",
    chat: "Chat", play: "Play", pause: "Pause", speed: "Speed", verdicts: "Verdicts",
    reports: "Reports", actions: "Actions", takeAction: "Take action", action: "Action",
    user: "User", message: "Message", duration: "Duration", reason: "Reason",
    note: "Note (required; the user reads it)", apply: "Apply", noteRequired: "Write a note first.",
    done: "Done: {action} applied.", a_warn: "Warn", a_mute: "Mute", a_kick: "Kick", a_ban: "Ban",
    a_redact: "Remove message", a_lock: "Lock room", a_unlock: "Unlock room", a_dismiss: "Dismiss case",
    a_unmute: "Unmute", a_unban: "Unban",
    d_10m: "10 minutes", d_1h: "1 hour", d_1d: "1 day", d_7d: "7 days", d_perm: "Permanent (admin)",
    r_spam: "Spam", r_harassment: "Harassment", r_hate: "Hate", r_scam: "Scam",
    r_sexual: "Sexual content", r_privacy: "Privacy", r_disruption: "Disruption", r_other: "Other",
    sev1: "low", sev2: "medium", sev3: "high", ago: "{n} min ago", justNow: "just now",
    caseTitle: "{room} · {reason}", caseMeta: "Opened {opened} · severity {sev} · {status}",
    none: "None", uphold: "Uphold", overturn: "Overturn", appealBy: "Appeal of {action}",
    decisionNote: "Decision note", involved: "involved", noEvidence: "No room evidence (not in a room).",
    status_open: "open", status_actioned: "actioned", status_dismissed: "dismissed",
  },
  "zh-CN": {
    title: "内容审核", language: "语言", signOut: "退出", liveHint: "实时更新",
    signInTitle: "审核员登录", username: "用户名", password: "密码", signIn: "登录",
    badLogin: "用户名或密码错误。", notModerator: "该账号没有审核权限。",
    network: "无法连接服务器。", open: "待处理", closed: "已处理", noCases: "暂无案件。",
    appeals: "申诉", noAppeals: "暂无待处理申诉。", pickCase: "请在左侧选择一个案件。",
    chat: "聊天记录", play: "播放", pause: "暂停", speed: "速度", verdicts: "审核结果",
    reports: "举报", actions: "处理记录", takeAction: "处理", action: "操作",
    user: "用户", message: "消息", duration: "时长", reason: "原因",
    note: "说明（必填，用户会看到）", apply: "执行", noteRequired: "请先填写说明。",
    done: "已执行：{action}。", a_warn: "警告", a_mute: "禁言", a_kick: "请出房间", a_ban: "封禁",
    a_redact: "删除消息", a_lock: "锁定房间", a_unlock: "解锁房间", a_dismiss: "驳回案件",
    a_unmute: "解除禁言", a_unban: "解除封禁",
    d_10m: "10 分钟", d_1h: "1 小时", d_1d: "1 天", d_7d: "7 天", d_perm: "永久（仅管理员）",
    r_spam: "垃圾信息", r_harassment: "骚扰辱骂", r_hate: "仇恨言论", r_scam: "诈骗",
    r_sexual: "色情低俗", r_privacy: "泄露隐私", r_disruption: "扰乱秩序", r_other: "其他",
    sev1: "低", sev2: "中", sev3: "高", ago: "{n} 分钟前", justNow: "刚刚",
    caseTitle: "{room} · {reason}", caseMeta: "{opened} 开立 · 严重程度 {sev} · {status}",
    none: "无", uphold: "维持", overturn: "撤销处罚", appealBy: "对「{action}」的申诉",
    decisionNote: "处理说明", involved: "涉事", noEvidence: "无房间证据（当时不在房间内）。",
    status_open: "待处理", status_actioned: "已处理", status_dismissed: "已驳回",
  },
};

export class I18n {
  constructor(lang) {
    this.lang = I18n.pick(lang);
  }

  /** "zh-CN" for any Chinese preference, else "en". */
  static pick(lang) {
    return String(lang || "").toLowerCase().startsWith("zh") ? "zh-CN" : "en";
  }

  t(key, vars = {}) {
    let text = TEXTS[this.lang][key] ?? TEXTS.en[key] ?? key;
    for (const [name, value] of Object.entries(vars)) text = text.replaceAll(`{${name}}`, String(value));
    return text;
  }

  /** Fill every [data-i18n] (text) and [data-i18n-title] (title) under `root`. */
  apply(root = document) {
    document.documentElement.lang = this.lang;
    for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = this.t(el.dataset.i18n);
    for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = this.t(el.dataset.i18nTitle);
  }
}
