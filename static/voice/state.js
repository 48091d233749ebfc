// The page's observable state: what the connection, the microphone and the conversation are
// doing now. app.js and conversation.js keep it current; tests read it through the page's
// one test hook, window.voiceTest (app.js).

export const state = {
  connection: "idle",
  transport: null,
  sessionId: null,
  sessions: 0,
  reconnects: 0,
  tokenRefreshes: 0,
  framesSent: 0,
  audioChunks: 0,
  playedMs: 0,
  queuedMs: 0,
  playing: false,
  talking: false,
  serverVad: false,
  bargeIns: 0,
  serverBargeIns: 0,
  lastBargeIn: null,
  bargeInLatencyMs: null,
  userTranscript: "",
  assistantText: "",
  navigation: null,
  theme: "light",
  microphone: "off",
  errors: [],
};
