// The live sessions table: rows arrive over /console/ws; nothing here polls the server.
"use strict";

(() => {
  const table = document.getElementById("live-sessions");
  if (!table) return;
  const body = table.tBodies[0];
  const template = document.getElementById("session-row");
  const status = document.getElementById("socket-status");
  const notice = document.getElementById("console-notice");
  const empty = document.getElementById("no-sessions");
  const count = document.getElementById("live-count");
  const csrfToken = document.querySelector("[name=csrfmiddlewaretoken]").value;
  const FORBIDDEN = 4403;
  const PING_MS = 60000; // keeps the group membership fresh (Redis expires it after a day)
  const rows = new Map(); // session id -> {tr, row}
  let retryMs = 500;

  function setStatus(state, text) {
    status.dataset.state = state;
    status.textContent = text;
  }

  function field(tr, name) {
    return tr.querySelector(`[data-field="${name}"]`);
  }

  function duration(ms) {
    const total = Math.max(0, Math.floor(ms / 1000));
    const h = Math.floor(total / 3600);
    const m = String(Math.floor((total % 3600) / 60)).padStart(2, "0");
    const s = String(total % 60).padStart(2, "0");
    return `${h}:${m}:${s}`;
  }

  function fill(tr, row) {
    tr.dataset.sessionId = row.id;
    tr.dataset.state = row.state;
    field(tr, "user").textContent = row.user;
    field(tr, "transport").textContent = row.transport;
    field(tr, "engine").textContent = row.engine;
    const started = field(tr, "started");
    started.dateTime = row.startedAt;
    started.textContent = new Date(row.startedAt).toLocaleTimeString();
    field(tr, "duration").textContent = duration(Date.now() - Date.parse(row.startedAt));
    field(tr, "turns").textContent = String(row.turns);
    field(tr, "latency").textContent =
      row.lastLatencyMs === null ? "–" : `${row.lastLatencyMs} ms`;
    field(tr, "state").textContent = row.state;
    const detail = field(tr, "detail");
    detail.href = row.detailUrl;
    detail.setAttribute("aria-label", `Details of session ${row.id}`);
    tr.querySelector("form").action = row.endUrl;
    const reason = field(tr, "reason");
    reason.id = `reason-${row.id}`;
    field(tr, "reason-label").htmlFor = reason.id;
    field(tr, "reason-label").textContent = `Reason for ending session of ${row.user}`;
    field(tr, "end").setAttribute("aria-label", `End session of ${row.user}`);
  }

  function refreshCount() {
    count.textContent = String(rows.size);
    empty.hidden = rows.size > 0;
  }

  function upsert(row) {
    const known = rows.get(row.id);
    if (known) {
      fill(known.tr, row); // keeps a half-typed reason in its input
      known.row = row;
    } else {
      const tr = template.content.firstElementChild.cloneNode(true);
      fill(tr, row);
      rows.set(row.id, { tr, row });
      body.append(tr); // the snapshot is oldest first; new sessions start now
    }
    refreshCount();
  }

  function remove(id) {
    const known = rows.get(id);
    if (!known) return;
    known.tr.remove();
    rows.delete(id);
    refreshCount();
  }

  function onMessage(event) {
    const message = JSON.parse(event.data);
    if (message.type === "snapshot") {
      const ids = new Set(message.rows.map((row) => row.id));
      for (const id of [...rows.keys()]) if (!ids.has(id)) remove(id);
      message.rows.forEach(upsert);
    } else if (message.type === "row") {
      upsert(message.row);
    } else if (message.type === "removed") {
      remove(message.id);
    }
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}${table.dataset.socket}`);
    let pinger = null;
    socket.addEventListener("open", () => {
      retryMs = 500;
      setStatus("live", "Live: updates as sessions change.");
      pinger = setInterval(() => socket.send(JSON.stringify({ type: "ping" })), PING_MS);
    });
    socket.addEventListener("message", onMessage);
    socket.addEventListener("close", (event) => {
      clearInterval(pinger);
      if (event.code === FORBIDDEN) {
        setStatus("closed", "Only staff may watch live sessions.");
        return;
      }
      // Back off on reconnects: a restarting server should not be hammered.
      setStatus("reconnecting", "Disconnected; reconnecting…");
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 10000);
    });
  }

  async function endSession(form) {
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken },
      });
      const answer = await response.json();
      notice.textContent = answer.ended
        ? `Session ended (${answer.reason}).`
        : "That session had already ended.";
    } catch (error) {
      notice.textContent = "Could not end the session; try again.";
      button.disabled = false;
    }
  }

  body.addEventListener("submit", (event) => {
    event.preventDefault();
    endSession(event.target);
  });

  // Durations tick locally; the rows themselves change only when the server says so.
  setInterval(() => {
    const now = Date.now();
    for (const { tr, row } of rows.values()) {
      field(tr, "duration").textContent = duration(now - Date.parse(row.startedAt));
    }
  }, 1000);

  refreshCount();
  connect();
})();
