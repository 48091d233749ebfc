// What the assistant may do to this page: the state setters it is offered (PROTOCOL.md
// section 2, `context.stateSetters`) and, over direct WebRTC where no server runs tools, the
// site tools answered from the page list the server rendered into the page.

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

const SITE_TOOLS = [
  {
    name: "search_site",
    description: "Search this website's pages. Returns matching pages with titles and summaries.",
    parameters: {
      type: "object",
      properties: { query: { type: "string", description: "what to look for" } },
      required: ["query"],
    },
  },
  {
    name: "navigate_to_page",
    description: "Take the user to a page of this website, by its name or path.",
    parameters: {
      type: "object",
      properties: {
        page: { type: "string", description: "page name, e.g. 'pricing'" },
        path: { type: "string", description: "URL path if known" },
      },
      required: ["page"],
    },
  },
  {
    name: "get_site_info",
    description: "General information about this website, or about one topic of it.",
    parameters: { type: "object", properties: { topic: { type: "string" } } },
  },
];

/** The tool name the server gives a setter (voice/session/site_tools.py): set_<stateKey>__<setterKey>. */
export function setterToolName(stateKey, setterKey) {
  return `set_${stateKey}__${setterKey}`.replace(/[^a-zA-Z0-9_-]/g, "_").slice(0, 64);
}

/** Tools for a Realtime session.update: the site tools plus this page's setters. */
export function realtimeTools() {
  const setters = Object.entries(STATE_SETTERS).flatMap(([stateKey, group]) =>
    Object.entries(group).map(([setterKey, spec]) => ({
      name: setterToolName(stateKey, setterKey),
      description: spec.description,
      parameters: spec.parameters,
    })),
  );
  return [...SITE_TOOLS, ...setters].map((tool) => ({ type: "function", ...tool }));
}

export function findPage(pages, { page = "", path = "" } = {}) {
  const byPath = path && pages.find((p) => p.path === path);
  if (byPath) return byPath;
  const name = String(page).trim().toLowerCase().replace(/ page$/, "");
  return (
    pages.find((p) => p.slug === name.replace(/ /g, "-") || p.title.toLowerCase() === name) ||
    searchPages(pages, name)[0] ||
    null
  );
}

export function searchPages(pages, query, limit = 5) {
  const words = String(query).toLowerCase().match(/\w{3,}/g) || [];
  return pages
    .map((p) => {
      const text = `${p.title} ${p.summary}`.toLowerCase();
      return { p, score: words.filter((w) => text.includes(w)).length };
    })
    .filter(({ score }) => score > 0)
    .sort((a, b) => b.score - a.score)
    .slice(0, limit)
    .map(({ p }) => ({ title: p.title, path: p.path, summary: p.summary }));
}

/**
 * Run a tool the model called over WebRTC. `page` offers {pages, navigate(event),
 * setState(event)}; returns the output for the model.
 */
export function runTool(name, args, page) {
  if (name === "navigate_to_page") {
    const found = findPage(page.pages, args);
    if (!found) return { ok: false, error: `no page called ${JSON.stringify(args.page || "")}` };
    page.navigate({ page: found.slug, path: found.path, title: found.title });
    return { ok: true, page: found.title, path: found.path };
  }
  if (name === "search_site") return { results: searchPages(page.pages, args.query || "") };
  if (name === "get_site_info") {
    if (args.topic) return { topic: args.topic, pages: searchPages(page.pages, args.topic) };
    return { pages: page.pages.map(({ title, path, summary }) => ({ title, path, summary })) };
  }
  for (const [stateKey, group] of Object.entries(STATE_SETTERS)) {
    for (const setterKey of Object.keys(group)) {
      if (setterToolName(stateKey, setterKey) === name) {
        page.setState({ stateKey, setterKey, args });
        return { ok: true, applied: `${stateKey}.${setterKey}` };
      }
    }
  }
  return { error: `unknown tool ${name}` };
}
