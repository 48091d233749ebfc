// Direct WebRTC to the AI service with an ephemeral key (PROTOCOL.md section 5;
// reference/openai-wire.md section 6). The server only mints the key; audio flows on media
// tracks and events (GA names, beta names accepted) on the "oai-events" data channel.

import { config } from "../config.js";
import { realtimeTools } from "../tools.js";
import { RtcEventMapper } from "../wires/rtc_events.js";
import { Backoff } from "./backoff.js";

const MAX_QUEUE = 64;

class HttpError extends Error {
  constructor(status, message, retryAfter) {
    super(message);
    Object.assign(this, { status, retryAfter });
  }
}

export class RtcTransport extends EventTarget {
  constructor(auth, microphone, audioElement, setup, { backoff = new Backoff() } = {}) {
    super();
    Object.assign(this, { auth, microphone, audioElement, setup, backoff });
    this.name = "webrtc";
    this.continuous = true; // the media track carries the microphone
    this.captureFormat = { rate: 48000, frameMs: 20 }; // local meter and VAD only
    this.state = "idle";
    this.queue = [];
    this.pc = this.channel = this.track = this.session = null;
    this.wanted = false;
    this.timer = null;
    this.pushToTalk = false;
  }

  get ready() {
    return this.state === "ready";
  }

  setState(state, detail = {}) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: { state, ...detail } }));
  }

  emit(event) {
    this.dispatchEvent(new CustomEvent("event", { detail: event }));
  }

  connect() {
    this.wanted = true;
    this.open();
  }

  disconnect() {
    this.wanted = false;
    clearTimeout(this.timer);
    this.teardown();
    this.setState("idle");
  }

  teardown() {
    this.channel?.close();
    this.pc?.close();
    this.track?.stop();
    this.pc = this.channel = this.track = null;
    this.audioElement.srcObject = null;
  }

  async open() {
    clearTimeout(this.timer);
    this.teardown();
    this.setState("connecting");
    try {
      this.session = await this.requestSession();
      if (!this.wanted) return;
      await this.negotiate(this.session);
    } catch (error) {
      this.fail(error);
    }
  }

  /** POST /api/realtime/session: an ephemeral key and where to send the SDP offer. */
  async requestSession() {
    const { settings } = this.setup();
    // The JSON protocol offers a few more voices (for speech synthesis) than the service has.
    const body = config.realtimeVoices.includes(settings.voiceId) ? { voice: settings.voiceId } : {};
    const response = await this.auth.post("/api/realtime/session", body);
    if (!response.ok) {
      const data = await response.json().catch(() => ({}));
      const retryAfter = Number(response.headers.get("Retry-After")) || 0;
      throw new HttpError(response.status, data.detail || `HTTP ${response.status}`, retryAfter);
    }
    return response.json();
  }

  async negotiate(session) {
    const key = session.client_secret?.value || session.ephemeral_key;
    const pc = new RTCPeerConnection();
    this.pc = pc;
    pc.ontrack = ({ streams }) => {
      this.audioElement.srcObject = streams[0];
    };
    pc.onconnectionstatechange = () => {
      if (pc !== this.pc) return;
      if (pc.connectionState === "failed") this.fail(new Error("The direct connection failed."));
    };
    // A clone, so push-to-talk can mute what is sent without silencing the local level meter.
    this.track = this.microphone.track.clone();
    this.track.enabled = !this.pushToTalk;
    pc.addTrack(this.track, new MediaStream([this.track]));
    const channel = pc.createDataChannel("oai-events");
    this.channel = channel;
    const mapper = new RtcEventMapper();
    channel.onopen = () => this.onChannelOpen();
    channel.onmessage = ({ data }) => {
      let event;
      try {
        event = JSON.parse(data);
      } catch {
        return;
      }
      mapper.map(event).forEach((e) => this.emit(e));
    };
    channel.onclose = () => {
      if (channel === this.channel && this.wanted) this.fail(new Error("The direct connection closed."));
    };
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    const answer = await fetch(session.rtc_url, {
      method: "POST",
      headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/sdp" },
      body: offer.sdp,
      credentials: "omit",
    });
    if (!answer.ok) throw new HttpError(answer.status, "The AI service refused the call.");
    await pc.setRemoteDescription({ type: "answer", sdp: await answer.text() });
    this.setState("negotiated");
  }

  onChannelOpen() {
    this.setState("ready", { sessionId: this.session?.session_id });
    this.emit({ type: "session", sessionId: this.session?.session_id });
    this.send(this.sessionUpdate());
    this.queue.splice(0).forEach((event) => this.send(event));
    this.backoff.reset();
  }

  sessionUpdate() {
    const turnDetection = this.pushToTalk ? null : this.session?.turn_detection || { type: "server_vad" };
    return {
      type: "session.update",
      session: {
        type: "realtime",
        tools: realtimeTools(),
        tool_choice: "auto",
        audio: { input: { turn_detection: turnDetection } },
      },
    };
  }

  fail(error) {
    if (!this.wanted) return;
    this.teardown();
    let delay = this.backoff.next();
    let problem = error.message;
    if (error instanceof HttpError) {
      if (error.status === 429) problem = "You are being rate limited. Waiting before retrying.";
      if (error.status === 502) problem = `The AI service is not available: ${error.message}`;
      if (error.retryAfter) delay = Math.max(delay, error.retryAfter * 1000);
    } else if (error.kind === "signed_out") {
      this.wanted = false;
      this.setState("signed_out", { problem: error.message });
      return;
    } else if (error.kind === "unreachable" || error instanceof TypeError) {
      problem = "The voice server or the AI service cannot be reached.";
    }
    this.setState("reconnecting", { problem, retryInMs: delay });
    this.timer = setTimeout(() => this.open(), delay);
  }

  /** A client event on the data channel, queued while it is not open. */
  send(event) {
    if (this.channel?.readyState === "open") {
      this.channel.send(JSON.stringify(event));
      return;
    }
    this.queue.push(event);
    if (this.queue.length > MAX_QUEUE) this.queue.shift();
  }

  sendAudio() {
    return false; // the media track carries the audio
  }

  setPushToTalk(enabled) {
    this.pushToTalk = enabled;
    if (this.track) this.track.enabled = !enabled;
    if (this.ready) this.send(this.sessionUpdate());
  }

  beginTurn() {
    if (this.track) this.track.enabled = true;
    this.send({ type: "input_audio_buffer.clear" });
  }

  endTurn() {
    if (this.track && this.pushToTalk) this.track.enabled = false;
    this.send({ type: "input_audio_buffer.commit" });
    this.send({ type: "response.create" });
  }

  bargeIn() {
    this.send({ type: "response.cancel" });
    this.send({ type: "output_audio_buffer.clear" });
  }

  configure() {
    // Voice is fixed when the key is minted; tools and turn detection follow the page.
    if (this.ready) this.send(this.sessionUpdate());
  }

  /** The output of a tool the model called, then ask it to carry on. */
  toolResult(callId, output) {
    this.send({
      type: "conversation.item.create",
      item: { type: "function_call_output", call_id: callId, output: JSON.stringify(output) },
    });
    this.send({ type: "response.create" });
  }
}
