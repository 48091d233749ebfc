// The page's DOM: what the user sees and operates. No protocol or audio logic here.

const $ = (id) => document.getElementById(id);
const SETTINGS_KEY = "voice.settings";
const LOG_LIMIT = 200; // transcript entries kept on screen

const CONNECTION_WORDS = {
  idle: "Not connected",
  connecting: "Connecting…",
  negotiated: "Connecting to the AI service…",
  ready: "Connected",
  reconnecting: "Reconnecting…",
  signed_out: "Signed out",
  ended: "Conversation ended",
};

export class UI {
  constructor() {
    this.app = $("app");
    this.assistantText = "";
    this.level = 0;
    this.meterQueued = false;
  }

  // ---- account ---------------------------------------------------------------------------

  showSignedIn(username) {
    $("signin-panel").hidden = true;
    $("talk-panel").hidden = false;
    $("account").hidden = false;
    $("account-name").textContent = username;
  }

  showSignedOut() {
    $("signin-panel").hidden = false;
    $("talk-panel").hidden = true;
    $("account").hidden = true;
  }

  onSignIn(handler) {
    $("signin-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const form = new FormData(event.target);
      handler(String(form.get("username")), String(form.get("password")));
    });
  }

  clearPassword() {
    $("password").value = "";
  }

  onSignOut(handler) {
    $("sign-out").addEventListener("click", handler);
  }

  // ---- connection and messages -----------------------------------------------------------

  setConnection(state, retryInMs) {
    let words = CONNECTION_WORDS[state] || state;
    if (state === "reconnecting" && retryInMs) words = `Reconnecting in ${Math.ceil(retryInMs / 1000)} s…`;
    $("connection").textContent = words;
    $("connection").dataset.state = state;
    this.app.dataset.connection = state;
  }

  setRunning(running) {
    $("start").textContent = running ? "Stop conversation" : "Start conversation";
  }

  setPushToTalkEnabled(enabled) {
    $("ptt").disabled = !enabled;
  }

  /** An error the user must notice (role=alert); null clears it. */
  alert(message) {
    $("alert").textContent = message || "";
    $("alert").hidden = !message;
  }

  status(message) {
    $("status").textContent = message || "";
  }

  // ---- transcripts ------------------------------------------------------------------------

  userLive(text) {
    $("user-live").textContent = text;
  }

  assistantStart() {
    this.assistantText = "";
    $("assistant-live").textContent = "";
  }

  assistantDelta(text) {
    this.assistantText += text;
    $("assistant-live").textContent = this.assistantText;
  }

  assistantDone(text) {
    this.assistantText = text;
    $("assistant-live").textContent = text;
  }

  addLog(role, text) {
    if (!text) return;
    const item = document.createElement("li");
    item.className = `entry ${role}`;
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = role === "user" ? "You: " : "Assistant: ";
    item.append(who, document.createTextNode(text));
    const log = $("log");
    log.append(item);
    while (log.children.length > LOG_LIMIT) log.firstElementChild.remove();
    log.scrollTop = log.scrollHeight; // within the log only: the page itself stays put
  }

  /** The microphone's level, drawn at most once per animation frame. */
  setLevel(level) {
    this.level = level;
    if (this.meterQueued) return;
    this.meterQueued = true;
    requestAnimationFrame(() => {
      this.meterQueued = false;
      // RMS of speech sits around 0.05-0.3: a square root spreads it over the meter.
      $("level").value = Math.min(1, Math.sqrt(this.level) * 1.5);
    });
  }

  setPlayback({ playedMs, playing }) {
    this.app.dataset.playedMs = String(playedMs);
    this.app.dataset.playing = String(playing);
  }

  // ---- navigation and demo state -----------------------------------------------------------

  showNavigation({ title, path, summary }) {
    $("where").textContent = `You are here: ${title} (${path})`;
    $("where-page").hidden = false;
    $("where-page-title").textContent = title;
    $("where-page-summary").textContent = summary || "";
  }

  setTheme(mode, source) {
    document.documentElement.dataset.theme = mode;
    $("theme-value").textContent = mode;
    $("theme-source").textContent = source ? `(set by ${source})` : "";
    $("theme-toggle").setAttribute("aria-pressed", String(mode === "dark"));
  }

  onThemeToggle(handler) {
    $("theme-toggle").addEventListener("click", handler);
  }

  // ---- controls -----------------------------------------------------------------------------

  onStart(handler) {
    $("start").addEventListener("click", handler);
  }

  /** Push-to-talk by pointer (hold the button) or keyboard (hold Space or Enter on it). */
  onPushToTalk(press, release) {
    const button = $("ptt");
    let held = null; // what is holding it: "pointer" or "key"
    const down = (how) => {
      if (held || button.disabled) return;
      held = how;
      button.setAttribute("aria-pressed", "true");
      press();
    };
    const up = (how) => {
      if (held !== how) return;
      held = null;
      button.setAttribute("aria-pressed", "false");
      release();
    };
    button.addEventListener("pointerdown", (event) => {
      button.setPointerCapture(event.pointerId);
      down("pointer");
    });
    button.addEventListener("pointerup", () => up("pointer"));
    button.addEventListener("pointercancel", () => up("pointer"));
    // Space works anywhere except where it types or operates another control.
    const ownsSpace = (target) =>
      target === button || !target.closest("input, select, textarea, button, a, [contenteditable]");
    document.addEventListener("keydown", (event) => {
      const isKey = event.code === "Space" || (event.key === "Enter" && event.target === button);
      if (!isKey || !ownsSpace(event.target) || button.disabled) return;
      event.preventDefault(); // no page scroll, no button click
      if (!event.repeat) down("key");
    });
    document.addEventListener("keyup", (event) => {
      if (event.code === "Space" || event.key === "Enter") {
        if (held === "key") event.preventDefault();
        up("key");
      }
    });
    window.addEventListener("blur", () => up("key"));
  }

  // ---- settings -----------------------------------------------------------------------------

  readSettings() {
    const form = $("settings");
    return {
      voiceId: form.elements.voiceId.value,
      language: form.elements.language.value,
      transport: form.elements.transport.value,
      mode: form.elements.mode.value,
    };
  }

  restoreSettings() {
    let saved = {};
    try {
      saved = JSON.parse(window.localStorage.getItem(SETTINGS_KEY)) || {};
    } catch {
      saved = {};
    }
    const form = $("settings");
    for (const name of ["voiceId", "language", "transport", "mode"]) {
      const field = form.elements[name];
      if (saved[name] && [...(field.options || field)].some((o) => o.value === saved[name])) {
        field.value = saved[name];
      }
    }
  }

  onSettingsChange(handler) {
    $("settings").addEventListener("change", () => {
      const settings = this.readSettings();
      window.localStorage.setItem(SETTINGS_KEY, JSON.stringify(settings));
      handler(settings);
    });
  }

  remoteAudio() {
    return $("remote-audio");
  }
}
