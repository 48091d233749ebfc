// The voice page: sign in, pick a transport, talk. Wires the modules together.
//
// Modules share nothing through `window`; the one exception is `window.voiceTest`, the hook
// through which tests (or anyone in the browser's console) read the page's state (state.js).

import { Microphone, MicrophoneError } from "./audio/microphone.js";
import { Player } from "./audio/player.js";
import { EnergyVad } from "./audio/vad.js";
import { Auth, AuthError } from "./auth.js";
import { Conversation } from "./conversation.js";
import { state } from "./state.js";
import { STATE_SETTERS } from "./tools.js";
import { RtcTransport } from "./transports/rtc.js";
import { SocketTransport } from "./transports/socket.js";
import { UI } from "./ui.js";
import { JsonWire } from "./wires/json.js";
import { StreamWire } from "./wires/stream.js";

const PREROLL_MS = 300; // audio kept before the VAD fires, so the first syllable is not lost

window.voiceTest = Object.freeze({ state });

class VoicePage {
  constructor() {
    this.ui = new UI();
    this.auth = new Auth();
    this.mic = new Microphone();
    this.player = new Player();
    this.vad = new EnergyVad();
    this.transport = null;
    this.running = false;
    this.starting = false;
    this.held = false; // push-to-talk is down
    this.utterance = false; // an explicit-turn utterance is open (JSON socket)
    this.preroll = [];
    this.conversation = new Conversation({
      ui: this.ui,
      player: this.player,
      state,
      auth: this.auth,
    });
  }

  init() {
    this.ui.restoreSettings();
    this.settings = this.ui.readSettings();
    if (this.auth.signedIn) this.ui.showSignedIn(this.auth.username);
    else this.ui.showSignedOut();
    this.bindAccount();
    this.bindControls();
    this.bindAudio();
  }

  bindAccount() {
    this.ui.onSignIn((username, password) => this.signIn(username, password));
    this.ui.onSignOut(() => this.auth.signOut());
    this.auth.addEventListener("change", ({ detail }) => {
      if (detail.signedIn) return;
      this.stop();
      this.ui.showSignedOut();
      if (detail.reason) this.ui.alert(detail.reason);
    });
    this.auth.addEventListener("refresh", () => {
      state.tokenRefreshes = this.auth.refreshes;
    });
  }

  bindControls() {
    this.ui.onStart(() => (this.running ? this.stop() : this.start()));
    this.ui.onPushToTalk(
      () => this.press(),
      () => this.release(),
    );
    this.ui.onSettingsChange((settings) => this.changeSettings(settings));
    this.ui.onThemeToggle(() => {
      const mode = state.theme === "dark" ? "light" : "dark";
      this.conversation.applyState({ stateKey: "theme", setterKey: "setTheme", args: { mode } }, "you");
      this.transport?.configure(this.settings, this.context());
    });
  }

  bindAudio() {
    this.mic.addEventListener("frame", ({ detail }) => this.onFrame(detail));
    this.player.addEventListener("change", () => {
      if (state.playing && !this.player.active && this.transport?.ready) this.showIdleStatus();
      state.playedMs = this.player.playedMs;
      state.queuedMs = this.player.queuedMs;
      state.playing = this.player.active;
      this.ui.setPlayback(state);
    });
  }

  async signIn(username, password) {
    try {
      await this.auth.signIn(username, password);
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      this.ui.alert(error.message);
      return;
    }
    this.ui.clearPassword();
    this.ui.alert(null);
    this.ui.showSignedIn(username);
  }

  async start() {
    if (this.starting) return; // a second click while the microphone prompt is open
    this.starting = true;
    this.ui.alert(null);
    try {
      await this.player.open();
      await this.mic.open();
    } catch (error) {
      this.mic.close();
      state.microphone = error.kind || "failed";
      const known = error instanceof MicrophoneError;
      this.ui.alert(known ? error.message : `Audio could not be started (${error.message}).`);
      return;
    } finally {
      this.starting = false;
    }
    state.microphone = "on";
    this.running = true;
    this.ui.setRunning(true);
    this.connect();
  }

  stop() {
    this.running = false;
    this.transport?.disconnect();
    this.transport = null;
    this.mic.close();
    this.player.stop();
    state.microphone = "off";
    this.ui.setLevel(0);
    this.ui.setRunning(false);
    this.ui.setPushToTalkEnabled(false);
    this.ui.setConnection("idle");
    state.connection = "idle";
  }

  /** Settings and context, read afresh at every (re)connection. */
  setup() {
    return { settings: this.settings, context: this.context() };
  }

  context() {
    return this.conversation.withHistory({
      page: { title: document.title, path: window.location.pathname, shown: state.navigation },
      state: { theme: state.theme },
      stateSetters: STATE_SETTERS,
    });
  }

  connect() {
    const kind = this.settings.transport;
    const setup = () => this.setup();
    if (kind === "webrtc") {
      this.transport = new RtcTransport(this.auth, this.mic, this.ui.remoteAudio(), setup);
      this.transport.setPushToTalk(this.pushToTalk);
    } else {
      const wire = kind === "api-voice-ws" ? new JsonWire() : new StreamWire();
      this.transport = new SocketTransport(wire, this.auth, setup);
    }
    state.transport = kind;
    state.serverVad = false;
    this.conversation.transport = this.transport;
    this.mic.setFormat(this.transport.captureFormat.rate, this.transport.captureFormat.frameMs);
    this.transport.addEventListener("event", ({ detail }) => this.conversation.handle(detail));
    this.transport.addEventListener("state", ({ detail }) => this.onConnection(detail));
    this.transport.connect();
  }

  get pushToTalk() {
    return this.settings.mode === "push-to-talk";
  }

  onConnection({ state: connection, problem, retryInMs }) {
    state.connection = connection;
    this.ui.setConnection(connection, retryInMs);
    this.ui.setPushToTalkEnabled(connection === "ready" && this.pushToTalk);
    if (connection === "ready") {
      this.ui.alert(null);
      this.vad.reset();
      this.utterance = false;
      this.showIdleStatus();
    } else if (problem) {
      const retry = retryInMs ? ` Retrying in ${Math.ceil(retryInMs / 1000)} s.` : "";
      this.ui.alert(problem + retry);
    }
    if (connection === "signed_out" && this.auth.signedIn) this.auth.signOut(problem);
    if (connection === "ended") this.stop();
  }

  showIdleStatus() {
    this.ui.status(this.pushToTalk ? "Hold to talk." : "Listening. Speak when you are ready.");
  }

  changeSettings(settings) {
    const reconnect = settings.transport !== this.settings.transport;
    this.settings = settings;
    if (this.running && reconnect) {
      this.transport.disconnect();
      this.connect();
      return;
    }
    this.transport?.setPushToTalk?.(this.pushToTalk);
    this.transport?.configure(settings, this.context());
    this.ui.setPushToTalkEnabled(Boolean(this.transport?.ready) && this.pushToTalk);
  }

  // ---- microphone -------------------------------------------------------------------------

  onFrame({ pcm, level }) {
    this.ui.setLevel(level);
    const transport = this.transport;
    if (!transport?.ready || transport.name === "webrtc") return; // WebRTC sends its own track
    if (this.pushToTalk) {
      if (this.held) this.send(pcm);
      return;
    }
    const verdict = this.vad.push(level, transport.captureFormat.frameMs, {
      assistantSpeaking: this.conversation.assistantSpeaking,
    });
    if (verdict === "start") this.speechStarted();
    if (transport.continuous || this.utterance) this.send(pcm);
    else this.keepPreroll(pcm);
    if (verdict === "end") this.speechEnded();
  }

  send(pcm) {
    if (this.transport.sendAudio(pcm)) state.framesSent += 1;
  }

  keepPreroll(pcm) {
    this.preroll.push(pcm);
    const keep = Math.ceil(PREROLL_MS / this.transport.captureFormat.frameMs);
    if (this.preroll.length > keep) this.preroll.shift();
  }

  speechStarted() {
    state.talking = true;
    const transport = this.transport;
    // On the JSON socket start_listening is itself the barge-in; /voice-ws needs barge_in.
    this.conversation.bargeIn("page", { tellServer: transport.continuous });
    if (!transport.continuous) {
      this.utterance = true;
      transport.beginTurn();
      this.preroll.splice(0).forEach((pcm) => this.send(pcm));
    }
  }

  speechEnded() {
    state.talking = false;
    const transport = this.transport;
    if (!transport.continuous) {
      this.utterance = false;
      transport.endTurn();
    } else if (!state.serverVad) {
      transport.endTurn(); // the engine does not find turns itself: say where this one ended
    }
  }

  // ---- push-to-talk -------------------------------------------------------------------------

  press() {
    if (!this.transport?.ready) return;
    this.held = true;
    state.talking = true;
    this.conversation.bargeIn("page", { tellServer: this.transport.continuous });
    this.transport.beginTurn();
    this.ui.status("Listening… release to send.");
  }

  release() {
    if (!this.held) return;
    this.held = false;
    state.talking = false;
    this.transport?.endTurn();
    this.ui.status("Thinking…");
  }
}

new VoicePage().init();
