// Sign-in with the REST token endpoints (PROTOCOL.md section 5).
//
// Tokens live in sessionStorage: they survive a reload of this tab but not the browser, and
// another tab has its own (refresh tokens rotate, so two tabs sharing one would revoke each other).
// The access token is refreshed shortly before it expires; each refresh returns a new refresh
// token that replaces the old one, which the server then blacklists.

const STORAGE_KEY = "voice.auth";
const REFRESH_LEAD_MS = 60_000; // refresh this long before expiry ...
const REFRESH_LEAD_FRACTION = 0.2; // ... or at 80% of a short token's lifetime
const STALE_MS = 5_000; // a token this close to expiry is not worth sending

/** Why signing in or refreshing failed: "credentials", "signed_out", "unreachable", "rate_limited", "server". */
export class AuthError extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind;
  }
}

/** The payload of a JWT (not verified: only used to read `exp`). */
function jwtPayload(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), "=")));
  } catch {
    return null;
  }
}

async function postJson(url, body, headers = {}) {
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", ...headers },
      body: JSON.stringify(body),
      credentials: "omit", // JWTs only: no cookie, so no CSRF exposure
    });
  } catch {
    throw new AuthError("unreachable", "The server cannot be reached. Check your connection.");
  }
  const data = await response.json().catch(() => ({}));
  return { status: response.status, data, headers: response.headers };
}

export class Auth extends EventTarget {
  constructor(storage = window.sessionStorage) {
    super();
    this.storage = storage;
    this.refreshes = 0;
    this.pending = null; // the refresh in flight, shared by every caller
    this.timer = null;
    this.schedule();
  }

  get tokens() {
    try {
      return JSON.parse(this.storage.getItem(STORAGE_KEY)) || null;
    } catch {
      return null;
    }
  }

  set tokens(value) {
    if (value) this.storage.setItem(STORAGE_KEY, JSON.stringify(value));
    else this.storage.removeItem(STORAGE_KEY);
  }

  get signedIn() {
    return Boolean(this.tokens?.refresh);
  }

  get username() {
    return this.tokens?.username || "";
  }

  async signIn(username, password) {
    const { status, data } = await postJson("/api/auth/token/", { username, password });
    if (status === 401 || status === 400) {
      throw new AuthError("credentials", "That username and password do not match an account.");
    }
    if (status === 429) throw new AuthError("rate_limited", "Too many attempts. Please wait a minute.");
    if (status !== 200 || !data.access) {
      throw new AuthError("server", `Signing in failed (HTTP ${status}). Please try again.`);
    }
    this.tokens = { access: data.access, refresh: data.refresh, username };
    this.schedule();
    this.dispatchEvent(new CustomEvent("change", { detail: { signedIn: true } }));
  }

  /** Forget the tokens; `reason` is shown to the user when it is not their own choice. */
  signOut(reason = "") {
    clearTimeout(this.timer);
    this.tokens = null;
    this.dispatchEvent(new CustomEvent("change", { detail: { signedIn: false, reason } }));
  }

  /** A usable access token, refreshed first when it is about to expire. */
  async accessToken() {
    const tokens = this.tokens;
    if (!tokens) throw new AuthError("signed_out", "You are signed out. Please sign in.");
    const exp = jwtPayload(tokens.access)?.exp;
    if (!exp || exp * 1000 - Date.now() < STALE_MS) return this.refresh();
    return tokens.access;
  }

  /** Exchange the refresh token for a new pair; concurrent callers share one request. */
  refresh() {
    this.pending ??= this.doRefresh().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  async doRefresh() {
    const tokens = this.tokens;
    if (!tokens) throw new AuthError("signed_out", "You are signed out. Please sign in.");
    const { status, data } = await postJson("/api/auth/token/refresh/", { refresh: tokens.refresh });
    if (status === 401 || status === 400) {
      this.signOut("Your sign-in has expired. Please sign in again.");
      throw new AuthError("signed_out", "Your sign-in has expired. Please sign in again.");
    }
    if (status !== 200 || !data.access) {
      throw new AuthError("server", `The server could not renew your sign-in (HTTP ${status}).`);
    }
    // With rotation the answer carries a new refresh token and the old one is now void.
    this.tokens = { ...tokens, access: data.access, refresh: data.refresh || tokens.refresh };
    this.refreshes += 1;
    this.schedule();
    this.dispatchEvent(new CustomEvent("refresh"));
    return data.access;
  }

  /** POST JSON with the access token; a rejected token is renewed once and the call retried. */
  async post(url, body, renewed = false) {
    const token = await this.accessToken();
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
      credentials: "omit",
    });
    if (response.status !== 401 || renewed) return response;
    await this.refresh();
    return this.post(url, body, true);
  }

  /** Whether the server accepts the current access token; throws AuthError when unreachable. */
  async verify() {
    const tokens = this.tokens;
    if (!tokens) return false;
    const { status } = await postJson("/api/auth/token/verify/", { token: tokens.access });
    return status === 200;
  }

  /** Arrange the next refresh ahead of the access token's expiry. */
  schedule() {
    clearTimeout(this.timer);
    const tokens = this.tokens;
    const payload = tokens && jwtPayload(tokens.access);
    if (!payload?.exp) return;
    const lifetime = (payload.exp - (payload.iat || payload.exp - 300)) * 1000;
    const lead = Math.min(REFRESH_LEAD_MS, lifetime * REFRESH_LEAD_FRACTION);
    const delay = Math.max(0, payload.exp * 1000 - Date.now() - lead);
    this.timer = setTimeout(() => {
      // A failure here is retried by the next accessToken() call; signing out is reported above.
      this.refresh().catch(() => {});
    }, delay);
  }
}
