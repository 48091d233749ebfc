// What the page does with the normalized events of any transport: transcripts, streamed
// audio, barge-in, navigation and state setters. `state` is the page's observable state
// (app.js), updated here as the conversation goes.

import { config, sitePages } from "./config.js";
import { runTool } from "./tools.js";
import { describeError, isSerious } from "./wires/messages.js";

const HISTORY_LIMIT = 10; // turns sent back as context after a reconnection
const HISTORY_TEXT_LIMIT = 500;
const ERRORS_KEPT = 10;

export class Conversation {
  constructor({ ui, player, state, auth }) {
    Object.assign(this, { ui, player, state, auth });
    this.history = [];
    this.acceptingAudio = false; // false after a barge-in, until the next response's audio
    this.responding = false;
    this.logged = false; // the current response's text is in the transcript
    this.remotePlaying = false; // WebRTC: the service's own playback
    this.transport = null;
  }

  /** The assistant is audible now, or is about to be. */
  get assistantSpeaking() {
    return this.player.active || this.remotePlaying;
  }

  /**
   * `context` plus the recent turns, so a new session after a reconnection knows what was
   * said; the oldest turns are left out until it fits the server's limit on a context.
   */
  withHistory(context, maxBytes = config.limits.maxContextBytes) {
    const conversation = this.history
      .slice(-HISTORY_LIMIT)
      .map(({ role, text }) => ({ role, text: text.slice(0, HISTORY_TEXT_LIMIT) }));
    const encoder = new TextEncoder();
    const size = () => encoder.encode(JSON.stringify({ ...context, conversation })).length;
    while (conversation.length && size() > maxBytes) conversation.shift();
    return { ...context, conversation };
  }

  /** Stop the assistant: local playback at once, and the server's response when asked to. */
  bargeIn(source, { tellServer = true } = {}) {
    const wasSpeaking = this.assistantSpeaking || this.responding;
    if (this.responding && !this.logged) this.logAssistant(`${this.state.assistantText} …`);
    this.player.stop();
    this.acceptingAudio = false;
    this.responding = false;
    if (!wasSpeaking) return false;
    this.state.bargeIns += 1;
    this.state.lastBargeIn = source;
    if (tellServer) this.transport?.bargeIn();
    this.ui.status("Interrupted. Listening…");
    return true;
  }

  handle(event) {
    const handler = this[`on_${event.type}`];
    if (handler) handler.call(this, event);
  }

  on_session({ sessionId }) {
    this.state.sessionId = sessionId;
    this.state.sessions += 1;
    if (this.state.sessions > 1) this.state.reconnects += 1;
  }

  on_vad({ active }) {
    if (this.transport?.name !== "webrtc") this.state.serverVad = true;
    this.ui.status(active ? "Listening…" : "Thinking…");
  }

  on_user({ text, final }) {
    this.state.userTranscript = text;
    this.ui.userLive(text);
    if (final && text.trim()) {
      this.ui.addLog("user", text);
      this.history.push({ role: "user", text });
      this.ui.status("Thinking…");
    }
  }

  on_assistant_start() {
    this.responding = true;
    this.logged = false;
    this.state.assistantText = "";
    this.ui.assistantStart();
  }

  on_assistant_delta({ text }) {
    // /voice-ws has no response start: the first delta after the last answer is one.
    if (!this.responding || this.logged) this.on_assistant_start();
    this.state.assistantText += text;
    this.ui.assistantDelta(text);
  }

  on_assistant_done({ text }) {
    this.state.assistantText = text;
    this.ui.assistantDone(text);
    this.logAssistant(text);
  }

  /** The assistant's words into the transcript and the history sent after a reconnection. */
  logAssistant(text) {
    this.logged = true;
    if (!text.trim() || text.trim() === "…") return;
    this.ui.addLog("assistant", text);
    this.history.push({ role: "assistant", text });
  }

  on_audio_start() {
    this.acceptingAudio = true;
    this.responding = true;
    this.ui.status("Speaking…");
  }

  on_audio({ pcm }) {
    if (!this.acceptingAudio) return; // the rest of an interrupted response
    this.state.audioChunks += 1;
    this.player.enqueue(pcm);
  }

  on_audio_end() {
    this.player.end();
    this.responding = false;
  }

  on_remote_audio({ playing }) {
    this.remotePlaying = playing;
  }

  on_barge_in({ latency }) {
    // The server stopped the response (our barge_in, or speech it detected): drop the queue.
    this.state.serverBargeIns += 1;
    if (latency !== undefined) this.state.bargeInLatencyMs = latency;
    this.bargeIn("server", { tellServer: false });
  }

  on_navigation({ page, path, title }) {
    const known = sitePages.find((p) => p.path === path || (page && p.slug === page));
    const where = {
      page: page || known?.slug || "",
      path: path || known?.path || "/",
      title: title || known?.title || page || path,
      summary: known?.summary || "",
    };
    this.state.navigation = where;
    this.ui.showNavigation(where);
  }

  on_set_state({ stateKey, setterKey, args }) {
    this.applyState({ stateKey, setterKey, args }, "the assistant");
  }

  applyState({ stateKey, setterKey, args }, source) {
    if (stateKey === "theme" && setterKey === "setTheme" && ["light", "dark"].includes(args?.mode)) {
      this.state.theme = args.mode;
      this.ui.setTheme(args.mode, source);
    }
  }

  async on_tool_call({ name, callId, args }) {
    // Only over WebRTC: no server between the model and the page runs the tools.
    const transport = this.transport; // the call belongs to this connection's session
    const output = await runTool(name, args, {
      auth: this.auth,
      navigate: (where) => this.on_navigation(where),
      setState: (change) => this.applyState(change, "the assistant"),
    });
    transport?.toolResult(callId, output);
  }

  on_error({ code, message }) {
    this.state.errors = [...this.state.errors, { code, message }].slice(-ERRORS_KEPT);
    const words = describeError(code, message);
    if (isSerious(code)) this.ui.alert(words);
    else this.ui.status(words);
  }
}
