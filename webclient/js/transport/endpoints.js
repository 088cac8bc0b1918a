// Where the Socket.IO connection goes, in a cluster (docs/deployment.md).
//
// Every connection starts at the default endpoint: this page's origin and "/socket.io/" (behind the
// front, any live node). A room lives on one node; when a `join` reaches another node its ack is
// {ok: true, redirect: {node, url, path}} and nothing else happened on the server: the client
// connects to `url` with Socket.IO `path` (same token) and sends the same `join` there.
// RoomConnection follows at most MAX_REDIRECTS in a row, and goes back to the default endpoint
// when a node it was sent to cannot be reached again (failover: placement then finds the room's
// new owner). Pure functions, tested under node (tests/browser/js/endpoints.test.mjs).

/** Redirects followed for one join before giving up (a loop between nodes, or a confused cluster). */
export const MAX_REDIRECTS = 3;

/** Failed (re)connection attempts to a redirected node before going back to the default endpoint. */
export const FAILOVER_AFTER = 1;

/**
 * The endpoint a join redirect names, or null when it is not one we can use.
 * @param {unknown} redirect the ack's `redirect` field
 * @param {string} [base] URL that a relative `url` is resolved against (the default endpoint's)
 * @returns {{node: string, url: string, path: string} | null} url is an origin (socket.io reads
 *   a path in it as a namespace), path is absolute and ends with "/"
 */
export function parseRedirect(redirect, base = globalThis.location?.origin) {
  if (!redirect || typeof redirect !== "object") return null;
  const { node, url, path } = redirect;
  if (typeof node !== "string" || !node || node.length > 128) return null;
  if (typeof path !== "string" || !path.startsWith("/") || path.startsWith("//") || path.length > 256) return null;
  let parsed;
  try {
    parsed = new URL(typeof url === "string" && url ? url : ".", base);
  } catch {
    return null;
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return null;
  return { node, url: parsed.origin, path: path.endsWith("/") ? path : `${path}/` };
}

