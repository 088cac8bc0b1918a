// HTTP API of the metahall server (PROTOCOL.md "Identity", "Rooms"; docs/contracts-wip.md).
// Every error body is {"error": {"code", "message"}}; failures are thrown as ApiError.

export class ApiError extends Error {
  /** @param {string} code protocol error code, or "network" when the server was not reached */
  constructor(code, message, status = 0) {
    super(message || code);
    this.name = "ApiError";
    this.code = code;
    this.status = status;
  }
}

export class Api {
  constructor(baseUrl = "") {
    this.baseUrl = baseUrl;
    this.token = null;
  }

  guest(displayName) {
    return this._request("POST", "/api/auth/guest", { display_name: displayName });
  }

  login(username, password) {
    return this._request("POST", "/api/auth/login", { username, password });
  }

  register(username, password, displayName) {
    return this._request("POST", "/api/auth/register", { username, password, display_name: displayName });
  }

  /** → [{id, kind, name: {"zh-CN","en"}, members, capacity, public}] */
  rooms() {
    return this._request("GET", "/api/rooms");
  }

  /** → {id, kind, bounds: {min_x,max_x,min_z,max_z}, spawn: [x,y,z,yaw], features: [...]} */
  layout(roomId) {
    return this._request("GET", `/api/rooms/${encodeURIComponent(roomId)}/layout`);
  }

  async _request(method, path, body) {
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
      const code = data?.error?.code ?? codeForStatus(response.status);
      throw new ApiError(code, data?.error?.message ?? response.statusText, response.status);
    }
    return data;
  }
}

function codeForStatus(status) {
  if (status === 401) return "auth";
  if (status === 403) return "forbidden";
  if (status === 404) return "not_found";
  if (status === 422 || status === 400) return "bad_request";
  if (status === 429) return "rate_limited";
  return "server";
}
