// HTTP calls of the dashboard: sign-in and /api/mod/... with the Bearer token (sessionStorage).

const TOKEN_KEY = "metahall.mod.token";

export class ApiError extends Error {
  constructor(code, message, status = 0) {
    super(message || code);
    this.name = "ApiError";
    this.code = code;
    this.status = status;
  }
}

export class ModApi {
  constructor() {
    this.token = sessionStorage.getItem(TOKEN_KEY);
  }

  setToken(token) {
    this.token = token;
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  }

  async login(username, password) {
    const body = await this.request("POST", "/api/auth/login", { username, password });
    this.setToken(body.token);
    return body.user;
  }

  me() { return this.request("GET", "/api/me"); }
  cases(status) { return this.request("GET", `/api/mod/cases?status=${encodeURIComponent(status)}`); }
  caseDetail(id) { return this.request("GET", `/api/mod/cases/${encodeURIComponent(id)}`); }
  layout(roomId) { return this.request("GET", `/api/rooms/${encodeURIComponent(roomId)}/layout`); }
  act(body) { return this.request("POST", "/api/mod/actions", body); }
  appeals() { return this.request("GET", "/api/mod/appeals?status=open"); }
  decide(id, decision, note) {
    return this.request("POST", `/api/mod/appeals/${encodeURIComponent(id)}`, { decision, note });
  }

  async request(method, path, body) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    let response;
    try {
      response = await fetch(path, {
        method, headers, credentials: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new ApiError("network", String(err?.message ?? err));
    }
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    if (!response.ok) {
      const error = data?.error ?? {};
      throw new ApiError(error.code ?? "http", error.message ?? response.statusText, response.status);
    }
    return data;
  }
}
