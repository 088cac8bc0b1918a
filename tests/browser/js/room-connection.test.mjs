// RoomConnection in a cluster: join redirects followed (at most 3 in a row), failover to the
// default endpoint when a node cannot be reached again, and the single-server reconnection kept.
// A fake transport stands in for SocketIoAdapter; socket.io's own reconnection is imitated.
import assert from "node:assert/strict";
import { mock, test } from "node:test";
import { ConnectionState, RoomConnection } from "../../../webclient/js/room-connection.js";
import { MAX_REDIRECTS, parseRedirect } from "../../../webclient/js/transport/endpoints.js";

const ORIGIN = "http://front.test:8080";
const DEFAULT = `${ORIGIN}|/socket.io/`;
const nodePath = (id) => `/node/${id}/socket.io/`;
const redirectTo = (id) => ({ ok: true, redirect: { node: id, url: ORIGIN, path: nodePath(id) } });
const admitted = (id, room) => ({ ok: true, self: 7, room, instance: `${room}#1`, tick_hz: 10, spawn: [0, 0, 0, 0], members: 1, at: id });

/** A cluster behind one front: endpoint key → {up, join(room)}. */
class FakeCluster {
  constructor() {
    this.endpoints = new Map();
  }
  set(key, spec) { this.endpoints.set(key, { up: true, ...spec }); }
  get(key) { return this.endpoints.get(key) ?? { up: false }; }
}

/** The SocketIoAdapter method list, with socket.io's reconnection imitated (every 500 ms). */
class FakeTransport {
  constructor(cluster) {
    this.cluster = cluster;
    this.url = ORIGIN;
    this.path = "/socket.io/";
    this.endpoint = { url: this.url, path: this.path };
    this.handlers = new Map();
    this.connected = false;
    this.active = false;
    this.connects = [];
    this.requests = [];
    this._timer = null;
  }
  get key() { return `${this.endpoint.url}|${this.endpoint.path}`; }
  get atDefault() { return this.endpoint.url === this.url && this.endpoint.path === this.path; }
  setEndpoint({ url, path, node }) { this.endpoint = { url, path, node }; }
  resetEndpoint() { this.endpoint = { url: this.url, path: this.path }; }
  on(type, handler) {
    if (!this.handlers.has(type)) this.handlers.set(type, new Set());
    this.handlers.get(type).add(handler);
    return () => this.handlers.get(type).delete(handler);
  }
  emit(type, payload) { for (const h of this.handlers.get(type) ?? []) h(payload, type); }
  connect() {
    this.close();
    this.active = true;
    this.connects.push(this.key);
    queueMicrotask(() => this._attempt());
    return Promise.resolve();
  }
  _attempt() {
    if (!this.active) return;
    if (this.cluster.get(this.key).up) {
      this.connected = true;
      this.emit("connect", { recovered: false });
    } else {
      this.emit("connect_error", { code: "network", message: "xhr poll error", willReconnect: true });
      if (this.active) this._timer = setTimeout(() => this._attempt(), 500);
    }
  }
  async request(type, payload) {
    this.requests.push([this.key, type, payload]);
    if (!this.connected) return { ok: false, error: { code: "offline" } };
    if (type === "join") return this.cluster.get(this.key).join(payload.room);
    return { ok: true };
  }
  send() { return this.connected; }
  close() {
    clearTimeout(this._timer);
    this.active = false;
    this.connected = false;
  }
  /** The connection drops; like socket.io, retry on our own unless the server ended it. */
  drop({ serverEnded = false } = {}) {
    this.connected = false;
    this.emit("disconnect", { reason: serverEnded ? "io server disconnect" : "transport close", willReconnect: !serverEnded });
    if (serverEnded) this.active = false;
    else if (this.active) this._timer = setTimeout(() => this._attempt(), 500);
  }
}

function setup() {
  const cluster = new FakeCluster();
  const transport = new FakeTransport(cluster);
  const target = new EventTarget();
  const conn = new RoomConnection({ transport, target });
  const states = [];
  const joined = [];
  target.addEventListener("metahall:connection", (e) => states.push(e.detail));
  target.addEventListener("metahall:joined", (e) => joined.push(e.detail));
  return { cluster, transport, conn, states, joined };
}

/** Lets promises settle and fake time pass in small steps. */
async function run(ms) {
  for (let t = 0; t <= ms; t += 50) {
    for (let i = 0; i < 10; i += 1) await Promise.resolve();
    mock.timers.tick(50);
  }
  for (let i = 0; i < 10; i += 1) await Promise.resolve();
}

test.beforeEach(() => mock.timers.enable({ apis: ["setTimeout"] }));
test.afterEach(() => mock.timers.reset());

test("a join redirected to another node is sent again there and the user only sees the room", async () => {
  const { cluster, transport, conn, states, joined } = setup();
  cluster.set(DEFAULT, { join: () => redirectTo("n2") });
  cluster.set(`${ORIGIN}|${nodePath("n2")}`, { join: (room) => admitted("n2", room) });
  const entered = conn.enter({ token: "t", roomId: "hall:main", avatar: { color: "#123456" } });
  await run(100);
  const ack = await entered;
  assert.equal(ack.at, "n2");
  assert.deepEqual(transport.connects, [DEFAULT, `${ORIGIN}|${nodePath("n2")}`]);
  assert.deepEqual(transport.requests.map(([key, type, p]) => [key, type, p.room, p.avatar?.color]), [
    [DEFAULT, "join", "hall:main", "#123456"],
    [`${ORIGIN}|${nodePath("n2")}`, "join", "hall:main", "#123456"],
  ]);
  assert.deepEqual(states.map((s) => s.state), ["connecting", "joining", "connecting", "joining", "joined"]);
  assert.equal(states[2].node, "n2");
  assert.equal(conn.state, ConnectionState.JOINED);
  assert.equal(conn.redirects, 0); // counted per join
  assert.deepEqual(joined.map((j) => j.rejoin), [false]);
});

test("more than three redirects in a row is an error, not a loop", async () => {
  const { cluster, transport, conn } = setup();
  cluster.set(DEFAULT, { join: () => redirectTo("n1") });
  cluster.set(`${ORIGIN}|${nodePath("n1")}`, { join: () => redirectTo("n2") });
  cluster.set(`${ORIGIN}|${nodePath("n2")}`, { join: () => redirectTo("n1") });
  const entered = conn.enter({ token: "t", roomId: "hall:main" });
  await run(200);
  await assert.rejects(entered, (err) => err.code === "unknown" && /too many redirects/.test(err.message));
  assert.equal(transport.connects.length, 1 + MAX_REDIRECTS);
  assert.equal(conn.state, ConnectionState.REFUSED);
  assert.ok(transport.atDefault && !transport.active);
});

test("a redirect that names no usable place is refused", async () => {
  const { cluster, conn } = setup();
  cluster.set(DEFAULT, { join: () => ({ ok: true, redirect: { node: "n2", url: "javascript:alert(1)", path: "/x/" } }) });
  const entered = conn.enter({ token: "t", roomId: "hall:main" });
  await run(50);
  await assert.rejects(entered, (err) => err.code === "bad_response");
});

test("when the node drops and cannot be reached again, the client rejoins through the default endpoint", async () => {
  const { cluster, transport, conn, states, joined } = setup();
  const n2 = `${ORIGIN}|${nodePath("n2")}`;
  const n1 = `${ORIGIN}|${nodePath("n1")}`;
  cluster.set(DEFAULT, { join: () => redirectTo("n2") });
  cluster.set(n2, { join: (room) => admitted("n2", room) });
  cluster.set(n1, { join: (room) => admitted("n1", room) });
  const entered = conn.enter({ token: "t", roomId: "expo:demo" });
  await run(50);
  await entered;
  // n2 dies; its lease expires and placement now puts the room on n1.
  cluster.get(n2).up = false;
  cluster.get(DEFAULT).join = () => redirectTo("n1");
  transport.drop();
  assert.equal(conn.state, ConnectionState.RECONNECTING);
  await run(3000);
  assert.equal(conn.state, ConnectionState.JOINED);
  assert.equal(conn.joinAck.at, "n1");
  assert.equal(conn.failovers, 1);
  assert.deepEqual(transport.connects, [DEFAULT, n2, DEFAULT, n1]);
  assert.deepEqual(joined.map((j) => j.rejoin), [false, true]); // the UI walks back to where we were
  assert.ok(states.some((s) => s.failover === true));
  assert.ok(!states.some((s) => s.state === "refused"));
});

test("a node that says it is shutting down sends us to the default endpoint at once", async () => {
  const { cluster, transport, conn } = setup();
  const n2 = `${ORIGIN}|${nodePath("n2")}`;
  cluster.set(DEFAULT, { join: () => redirectTo("n2") });
  cluster.set(n2, { join: (room) => admitted("n2", room) });
  const entered = conn.enter({ token: "t", roomId: "hall:main" });
  await run(50);
  await entered;
  cluster.get(DEFAULT).join = (room) => admitted("n1", room); // the room is placed anew, here
  transport.emit("system", { code: "shutdown", level: "warning" });
  cluster.get(n2).up = false;
  transport.drop({ serverEnded: true });
  await run(1500);
  assert.equal(conn.state, ConnectionState.JOINED);
  assert.equal(conn.joinAck.at, "n1");
  assert.deepEqual(transport.connects, [DEFAULT, n2, DEFAULT]); // never tried n2 again
});

test("a single server that restarts is reconnected to and rejoined, without failover", async () => {
  const { cluster, transport, conn, joined } = setup();
  cluster.set(DEFAULT, { join: (room) => admitted("solo", room) });
  const entered = conn.enter({ token: "t", roomId: "hall:main" });
  await run(50);
  await entered;
  cluster.get(DEFAULT).up = false;
  transport.emit("system", { code: "shutdown" });
  transport.drop({ serverEnded: true });
  await run(2500); // down for a while: attempts fail, it keeps trying the same place
  assert.equal(conn.state, ConnectionState.RECONNECTING);
  cluster.get(DEFAULT).up = true;
  await run(9000);
  assert.equal(conn.state, ConnectionState.JOINED);
  assert.equal(conn.failovers, 0);
  assert.ok(transport.connects.every((k) => k === DEFAULT));
  assert.deepEqual(joined.map((j) => j.rejoin), [false, true]);
});

test("a transient drop of the default connection is retried by socket.io as before", async () => {
  const { cluster, transport, conn, joined } = setup();
  cluster.set(DEFAULT, { join: (room) => admitted("solo", room) });
  const entered = conn.enter({ token: "t", roomId: "social:plaza" });
  await run(50);
  await entered;
  transport.drop();
  await run(600);
  assert.equal(conn.state, ConnectionState.JOINED);
  assert.equal(transport.connects.length, 1); // the same socket came back
  assert.deepEqual(joined.map((j) => j.rejoin), [false, true]);
});

test("leaving puts the next room's connection back on the default endpoint", async () => {
  const { cluster, transport, conn } = setup();
  cluster.set(DEFAULT, { join: () => redirectTo("n2") });
  cluster.set(`${ORIGIN}|${nodePath("n2")}`, { join: (room) => admitted("n2", room) });
  const entered = conn.enter({ token: "t", roomId: "hall:main" });
  await run(50);
  await entered;
  assert.ok(!transport.atDefault);
  const left = conn.leave();
  await run(50);
  await left;
  assert.ok(transport.atDefault);
  assert.equal(conn.state, ConnectionState.CLOSED);
});

test("parseRedirect keeps an origin and an absolute socket.io path, and refuses the rest", () => {
  assert.deepEqual(parseRedirect({ node: "n2", url: "http://front.test:8080/ignored?x", path: "/node/n2/socket.io" }, ORIGIN),
    { node: "n2", url: "http://front.test:8080", path: "/node/n2/socket.io/" });
  assert.deepEqual(parseRedirect({ node: "n3", url: "", path: "/node/n3/socket.io/" }, ORIGIN),
    { node: "n3", url: ORIGIN, path: "/node/n3/socket.io/" });
  assert.equal(parseRedirect({ node: "n2", url: "https://b.test", path: "/socket.io/" }, ORIGIN).url, "https://b.test");
  for (const bad of [null, "n2", {}, { node: "", url: ORIGIN, path: "/x/" }, { node: "n2", url: ORIGIN, path: "x/" },
    { node: "n2", url: ORIGIN, path: "//evil.test/socket.io/" }, { node: "n2", url: "ftp://a.test", path: "/x/" },
    { node: "n2", url: "javascript:alert(1)", path: "/x/" }, { node: 5, url: ORIGIN, path: "/x/" }]) {
    assert.equal(parseRedirect(bad, ORIGIN), null, JSON.stringify(bad));
  }
});
