// What the assistant may do to this page: the state setters it is offered (PROTOCOL.md
// section 2, `context.stateSetters`) and, over direct WebRTC where no server sits between the
// model and the page, the tool calls the page answers itself: setters and navigation here,
// the site tools by the server's own search (POST /api/tools/<name>).

import { config, sitePages } from "./config.js";

export const STATE_SETTERS = {
  theme: {
    setTheme: {
      description: "Switch this page's colour theme to light or dark.",
      parameters: {
        type: "object",
        properties: { mode: { type: "string", enum: ["light", "dark"] } },
        required: ["mode"],
      },
    },
  },
};

/** The tool name the server gives a setter (voice/session/site_tools.py): set_<stateKey>__<setterKey>. */
function setterToolName(stateKey, setterKey) {
  return `set_${stateKey}__${setterKey}`.replace(/[^a-zA-Z0-9_-]/g, "_").slice(0, 64);
}

/** Tools for a Realtime session.update: the server's site tools plus this page's setters. */
export function realtimeTools() {
  const setters = Object.entries(STATE_SETTERS).flatMap(([stateKey, group]) =>
    Object.entries(group).map(([setterKey, spec]) => ({
      type: "function",
      name: setterToolName(stateKey, setterKey),
      description: spec.description,
      parameters: spec.parameters,
    })),
  );
  return [...config.siteTools, ...setters];
}

/** A site tool run by the server for the signed-in user; its answer is the model's output. */
async function runSiteTool(auth, name, args) {
  const response = await auth.post(`/api/tools/${encodeURIComponent(name)}`, args);
  const answer = await response.json().catch(() => ({}));
  if (response.ok) return answer;
  return { error: `the tool ${name} failed (HTTP ${response.status})`, detail: answer };
}

/**
 * Run a tool the model called over WebRTC. `page` offers {auth, navigate(where),
 * setState(change)}; resolves to the output for the model.
 */
export async function runTool(name, args, { auth, navigate, setState }) {
  for (const [stateKey, group] of Object.entries(STATE_SETTERS)) {
    for (const setterKey of Object.keys(group)) {
      if (setterToolName(stateKey, setterKey) === name) {
        setState({ stateKey, setterKey, args });
        return { ok: true, applied: `${stateKey}.${setterKey}` };
      }
    }
  }
  if (!config.siteTools.some((tool) => tool.name === name)) return { error: `unknown tool ${name}` };
  let output;
  try {
    output = await runSiteTool(auth, name, args);
  } catch (error) {
    return { error: error.message }; // signed out or unreachable: the model can say so
  }
  if (name === "navigate_to_page" && output.ok) {
    const known = sitePages.find((p) => p.path === output.path);
    navigate({ page: known?.slug || "", path: output.path, title: output.page });
  }
  return output;
}
