// A WebSocket that stays connected: backoff with jitter, a control queue, token renewal.
//
// The wire object (wires/stream.js or wires/json.js) knows the protocol; this class only knows
// sockets. It emits "event" (normalized protocol events) and "state" (connection state).

import { describeClose, FINAL_CLOSE_CODES } from "../wires/messages.js";
import { Backoff } from "./backoff.js";

const MAX_QUEUE = 64; // control messages kept while disconnected
const CLOSE_UNAUTHORIZED = 4401;
const CLOSE_RATE_LIMITED = 4429;
const RATE_LIMITED_MIN_DELAY_MS = 5_000;

function socketUrl(path, sessionId) {
  const url = new URL(path, window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  // The server keeps a proposed id when it is free, so the conversation carries on.
  if (sessionId) url.searchParams.set("sessionId", sessionId);
  return url;
}

export class SocketTransport extends EventTarget {
  /**
   * @param wire protocol adapter; @param auth Auth; @param setup () => {settings, context}
   * read at each (re)connection, so changed settings and recent history are sent again.
   */
  constructor(wire, auth, setup, { backoff = new Backoff() } = {}) {
    super();
    Object.assign(this, { wire, auth, setup, backoff });
    this.ws = null;
    this.state = "idle"; // idle | connecting | ready | reconnecting | signed_out | ended
    this.queue = [];
    this.sessionId = null;
    this.wanted = false;
    this.timer = null;
    this.reconnects = 0;
    this.authRetried = false;
    this.onOnline = () => {
      if (this.wanted && this.state === "reconnecting") this.open();
    };
  }

  get ready() {
    return this.state === "ready";
  }

  get name() {
    return this.wire.name;
  }

  /** Whether the mic streams all the time (true) or only during a turn. */
  get continuous() {
    return this.wire.continuous;
  }

  get captureFormat() {
    return { rate: this.wire.captureRate, frameMs: this.wire.frameMs };
  }

  beginTurn() {
    this.sendControl(this.wire.beginTurn());
  }

  endTurn() {
    this.sendControl(this.wire.endTurn());
  }

  bargeIn() {
    this.sendControl(this.wire.bargeIn());
  }

  /** New settings or context while connected (they are also sent at every reconnection). */
  configure(settings, context) {
    if (this.ready) this.sendControl(this.wire.configure(settings, context));
  }

  connect() {
    this.wanted = true;
    window.addEventListener("online", this.onOnline);
    this.open();
  }

  disconnect() {
    this.wanted = false;
    window.removeEventListener("online", this.onOnline);
    clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000);
    this.setState("idle");
  }

  /** A control message: sent now, or queued until the session is ready again. */
  sendControl(message) {
    if (!message) return;
    if (this.ready) {
      this.ws.send(JSON.stringify(message));
      return;
    }
    this.queue.push(message);
    if (this.queue.length > MAX_QUEUE) this.queue.shift();
  }

  /** One captured frame; dropped (false) while disconnected, since stale audio is useless. */
  sendAudio(pcm) {
    if (!this.ready) return false;
    this.ws.send(this.wire.encodeAudio(pcm));
    return true;
  }

  setState(state, detail = {}) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: { state, ...detail } }));
  }

  async open() {
    clearTimeout(this.timer);
    this.setState(this.reconnects ? "reconnecting" : "connecting");
    let token;
    try {
      token = await this.auth.accessToken();
    } catch (error) {
      this.onAuthFailure(error);
      return;
    }
    if (!this.wanted) return;
    const ws = new WebSocket(socketUrl(this.wire.path, this.sessionId), ["bearer", token]);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    this.wire.reset();
    let opened = false;
    ws.onopen = () => {
      opened = true;
    };
    ws.onmessage = ({ data }) => {
      if (ws === this.ws) this.wire.decode(data).forEach((event) => this.onEvent(event));
    };
    ws.onclose = ({ code }) => {
      if (ws !== this.ws) return;
      this.ws = null;
      this.onClose(code, opened);
    };
  }

  onEvent(event) {
    if (event.type === "session") {
      // The session is up: send its setup first, then whatever waited for the connection.
      this.sessionId = event.sessionId;
      const { settings, context } = this.setup();
      for (const message of this.wire.setup(settings, context)) {
        this.ws.send(JSON.stringify(message));
      }
      this.setState("ready", { sessionId: event.sessionId });
      const queued = this.queue.splice(0);
      queued.forEach((message) => this.sendControl(message));
      this.backoff.reset();
      this.authRetried = false;
    }
    this.dispatchEvent(new CustomEvent("event", { detail: event }));
  }

  async onClose(code, opened) {
    if (!this.wanted) return;
    this.reconnects += 1;
    // A normal close (1000) the page did not ask for: staff ended the session. Neither it nor a
    // final code is retried; the user starts again by hand.
    if (code === 1000 || FINAL_CLOSE_CODES.has(code)) {
      this.wanted = false;
      this.setState("ended", { problem: describeClose(code), code });
      return;
    }
    if (code === CLOSE_UNAUTHORIZED || !opened) {
      // 4401 after the handshake, or a refused handshake (HTTP 403 on /voice-ws, which the
      // browser cannot see): ask the server whether the token is the problem, and renew it.
      if (await this.renewIfRejected()) {
        if (this.wanted) this.open();
        return;
      }
      if (!this.wanted) return;
    }
    let delay = this.backoff.next();
    if (code === CLOSE_RATE_LIMITED) delay = Math.max(delay, RATE_LIMITED_MIN_DELAY_MS);
    const problem = opened ? describeClose(code) : "The voice server cannot be reached.";
    this.setState("reconnecting", { problem, code, retryInMs: delay });
    this.timer = setTimeout(() => this.open(), delay);
  }

  /** True when the token was rejected and a fresh one is ready for an immediate retry. */
  async renewIfRejected() {
    if (this.authRetried) return false;
    try {
      if (await this.auth.verify()) return false;
      this.authRetried = true;
      await this.auth.refresh();
      return true;
    } catch (error) {
      if (error.kind === "signed_out") this.onAuthFailure(error);
      return false; // unreachable: the backoff handles it
    }
  }

  onAuthFailure(error) {
    if (error.kind === "signed_out") {
      this.wanted = false;
      this.setState("signed_out", { problem: error.message });
      return;
    }
    const delay = this.backoff.next();
    this.setState("reconnecting", { problem: error.message, retryInMs: delay });
    this.timer = setTimeout(() => this.open(), delay);
  }
}
