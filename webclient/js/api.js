// HTTP API of the metahall server (PROTOCOL.md "Identity", "Rooms"; docs/protocol.md).
// Every error body is {"error": {"code", "message", ...details}}; failures are thrown as ApiError.
// Features call the API through get / post / put / delete (or request) with a path under /api/.

export class ApiError extends Error {
  /**
   * @param {string} code protocol error code, or "network" when the server was not reached
   * @param {string} message the server's message (English) or a description
   * @param {number} status HTTP status (0 when there was none)
   * @param {object} details the error body's other fields, e.g. {field: "name.en"}
   */
  constructor(code, message, status = 0, details = {}) {
    super(message || code);
    this.name = "ApiError";
    this.code = code;
    this.status = status;
    this.details = details;
    /** The request field the server blamed, when it named one. */
    this.field = typeof details?.field === "string" ? details.field : null;
  }
}

export class Api {
  constructor(baseUrl = "") {
    this.baseUrl = baseUrl;
    this.token = null;
  }

  guest(displayName) {
    return this.request("POST", "/api/auth/guest", { display_name: displayName });
  }

  login(username, password) {
    return this.request("POST", "/api/auth/login", { username, password });
  }

  register(username, password, displayName) {
    return this.request("POST", "/api/auth/register", { username, password, display_name: displayName });
  }

  /** → [{id, kind, name: {"zh-CN","en"}, members, capacity, public}] */
  rooms() {
    return this.request("GET", "/api/rooms");
  }

  /** → {id, kind, bounds: {min_x,max_x,min_z,max_z}, spawn: [x,y,z,yaw], features: [...]} */
  layout(roomId) {
    return this.request("GET", `/api/rooms/${encodeURIComponent(roomId)}/layout`);
  }

  /** GET `path` (e.g. "/api/hall/counters") with the session's token; resolves with the JSON body. */
  get(path) {
    return this.request("GET", path);
  }

  /** POST `body` as JSON to `path`. */
  post(path, body = {}) {
    return this.request("POST", path, body);
  }

  /** PUT `body` as JSON to `path`. */
  put(path, body = {}) {
    return this.request("PUT", path, body);
  }

  /** DELETE `path`. */
  delete(path) {
    return this.request("DELETE", path);
  }

  /**
   * Any call of the HTTP API: `path` starts with "/api/"; `body` (if given) is sent as JSON.
   * Resolves with the parsed JSON; rejects with ApiError (code, message, status, field).
   */
  async request(method, path, body) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    let response;
    try {
      response = await fetch(this.baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "same-origin",
      });
    } catch (err) {
      throw new ApiError("network", String(err?.message ?? err));
    }
    let data = null;
    try {
      data = await response.json();
    } catch {
      if (response.ok) throw new ApiError("bad_response", `invalid JSON from ${path}`, response.status);
    }
    if (!response.ok) {
      const { code = codeForStatus(response.status), message, ...details } = data?.error ?? {};
      throw new ApiError(code, message ?? response.statusText, response.status, details);
    }
    return data;
  }

  /** @deprecated kept for callers written before request() was public. */
  _request(method, path, body) {
    return this.request(method, path, body);
  }
}

function codeForStatus(status) {
  if (status === 401) return "auth";
  if (status === 403) return "forbidden";
  if (status === 404) return "not_found";
  if (status === 409) return "conflict";
  if (status === 422 || status === 400) return "bad_request";
  if (status === 429) return "rate_limited";
  return "server";
}
