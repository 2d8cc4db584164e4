// Talos console: a client of the v2alpha1 API of the same origin and nothing else (docs/console.md).
// The admin key lives in sessionStorage only (gone with the tab); no key secret is ever stored anywhere.

const KEY_STORAGE = "talos.adminKey";
const PAGE_SIZE = 25;
const REASONS = [
  ["REVOCATION_REASON_KEY_COMPROMISE", "Key compromise"],
  ["REVOCATION_REASON_SUPERSEDED", "Superseded"],
  ["REVOCATION_REASON_CESSATION_OF_OPERATION", "Cessation of operation"],
  ["REVOCATION_REASON_AFFILIATION_CHANGED", "Affiliation changed"],
  ["REVOCATION_REASON_PRIVILEGE_WITHDRAWN", "Privilege withdrawn"],
];
const PERMISSIONS = ["keys.read", "keys.write", "keys.verify", "tokens.derive", "revocations.watch", "admin_keys.manage", "*"];

const state = {
  authRequired: false,
  permissions: new Set(),
  feed: null, // AbortController of the open revocation stream
};

// ---------------------------------------------------------------- API

class ApiError extends Error {
  constructor(status, body) {
    const envelope = body && body.error;
    super(envelope && envelope.message ? envelope.message : `HTTP ${status}`);
    this.status = status;
    const info = envelope && (envelope.details || []).find((d) => d.reason);
    this.reason = info ? info.reason : "";
  }
}

function adminKey() {
  return sessionStorage.getItem(KEY_STORAGE) || "";
}

function headers(extra = {}, key = adminKey()) {
  const result = { Accept: "application/json", ...extra };
  if (key) result.Authorization = `Bearer ${key}`;
  return result;
}

async function api(method, path, body, options = {}) {
  const init = { method, headers: headers(body === undefined ? options.headers : { "Content-Type": "application/json", ...options.headers }, options.key) };
  if (body !== undefined) init.body = JSON.stringify(body);
  const response = await fetch(path, init);
  const text = await response.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  if (!response.ok && !options.allow?.includes(response.status)) throw new ApiError(response.status, json);
  return { status: response.status, json, headers: response.headers };
}

// ---------------------------------------------------------------- DOM helpers

function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "class") element.className = value;
    else element.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  return h("div", { class: control.dataset.wide ? "wide" : "" }, h("label", { for: id }, label), control, hint ? h("span", { class: "hint" }, hint) : null);
}

function input(name, attributes = {}) {
  return h("input", { name, autocomplete: "off", spellcheck: "false", ...attributes });
}

function select(name, options, value) {
  return h("select", { name }, options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)));
}

function mount(...nodes) {
  const view = document.getElementById("view");
  view.replaceChildren(...nodes.filter(Boolean));
}

function showError(error) {
  const box = document.getElementById("error");
  if (!error) {
    box.hidden = true;
    box.textContent = "";
    return;
  }
  box.textContent = error instanceof ApiError ? error.message : String(error.message || error);
  box.hidden = false;
}

function formatTime(value) {
  if (!value) return "—";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z").replace(/:\d\dZ$/, "Z");
}

function statusBadge(status) {
  const name = (status || "").replace("KEY_STATUS_", "");
  return h("span", { class: `badge ${name.toLowerCase()}` }, name.charAt(0) + name.slice(1).toLowerCase());
}

function copyButton(getText, label = "Copy") {
  const button = h("button", { type: "button", class: "ghost small" }, label);
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(getText());
      button.textContent = "Copied";
    } catch {
      button.textContent = "Select and copy";
    }
    setTimeout(() => { button.textContent = label; }, 1500);
  });
  return button;
}

function secretPanel(secret, title, detailHref) {
  const output = h("output", { "aria-label": "New secret" }, secret);
  return h("section", { class: "card", "aria-labelledby": "secret-title" },
    h("h2", { id: "secret-title" }, title),
    h("p", { class: "warning" }, "This secret is shown once. Copy it now: Talos stores only its checksum and cannot show it again."),
    h("div", { class: "secret" }, output, copyButton(() => output.textContent)),
    detailHref ? h("p", {}, h("a", { href: detailHref }, "Open the key")) : null);
}

function confirmDialog(title, body, confirmLabel) {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-body").replaceChildren(...body);
  const ok = document.getElementById("confirm-ok");
  ok.textContent = confirmLabel;
  return new Promise((resolve) => {
    const done = (value) => {
      dialog.removeEventListener("close", onClose);
      document.getElementById("confirm-cancel").onclick = null;
      resolve(value);
    };
    const onClose = () => done(dialog.returnValue === "ok");
    document.getElementById("confirm-cancel").onclick = () => dialog.close("cancel");
    ok.value = "ok";
    dialog.returnValue = "";
    dialog.addEventListener("close", onClose);
    dialog.showModal();
  });
}

function can(permission) {
  return !state.authRequired || state.permissions.has("*") || state.permissions.has(permission);
}

function needs(permission) {
  return can(permission) ? null : h("p", { class: "warning" }, `Read only: this admin key does not hold ${permission}.`);
}

function parseList(text) {
  return text.split(",").map((s) => s.trim()).filter(Boolean);
}

function parseMetadata(text) {
  if (!text.trim()) return undefined;
  let value;
  try { value = JSON.parse(text); } catch { throw new Error("Metadata must be a JSON object."); }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("Metadata must be a JSON object.");
  return value;
}

function kindOf(id) {
  return /^[0-9a-f]{64}$/i.test(id) ? "imported" : "issued";
}

// ---------------------------------------------------------------- Session

async function probe(method, path, body, allowed) {
  try {
    const reply = await api(method, path, body, { allow: [400, 403, 404] });
    return allowed.includes(reply.status);
  } catch {
    return false;
  }
}

async function loadPermissions() {
  state.permissions = new Set();
  if (!state.authRequired) return;
  // Each probe is refused before it does anything: 400 (the empty request) means the permission is held, 403 not.
  const checks = [
    ["keys.read", probe("GET", "/v2alpha1/admin/issuedApiKeys?page_size=1", undefined, [200])],
    ["keys.write", probe("POST", "/v2alpha1/admin/issuedApiKeys", {}, [400])],
    ["keys.verify", probe("POST", "/v2alpha1/admin/apiKeys:verify", {}, [400])],
    ["tokens.derive", probe("POST", "/v2alpha1/admin/apiKeys:derive", {}, [400])],
    ["admin_keys.manage", probe("GET", "/v2alpha1/admin/adminKeys?page_size=1", undefined, [200])],
    ["revocations.watch", watchAllowed()],
  ];
  for (const [name, check] of checks) if (await check) state.permissions.add(name);
}

async function watchAllowed() {
  const controller = new AbortController();
  try {
    const response = await fetch("/v2alpha1/admin/revocations:watch", { headers: headers({ Accept: "text/event-stream" }), signal: controller.signal });
    return response.ok;
  } catch {
    return false;
  } finally {
    controller.abort();
  }
}

async function start() {
  document.getElementById("sign-out").addEventListener("click", signOut);
  window.addEventListener("hashchange", route);
  // Without a key: 200 means the server runs without admin authentication.
  const open = await api("GET", "/v2alpha1/admin/issuedApiKeys?page_size=1", undefined, { allow: [401, 403], key: "" }).catch((e) => e);
  state.authRequired = !(open && open.status === 200);
  if (state.authRequired && adminKey()) {
    const check = await api("GET", "/v2alpha1/admin/issuedApiKeys?page_size=1", undefined, { allow: [401, 403] }).catch(() => null);
    if (!check || check.status === 401) sessionStorage.removeItem(KEY_STORAGE);
  }
  await afterSignIn();
}

async function afterSignIn() {
  const signedIn = !state.authRequired || adminKey();
  if (signedIn) await loadPermissions();
  document.getElementById("nav").hidden = !signedIn;
  document.getElementById("session").hidden = !(state.authRequired && signedIn);
  document.getElementById("nav-admin-keys").hidden = !(signedIn && can("admin_keys.manage"));
  const who = document.getElementById("who");
  const held = [...state.permissions];
  who.textContent = !state.authRequired ? "" : held.length >= PERMISSIONS.length - 1 ? "All permissions" : held.length ? held.join(", ") : "No permissions";
  who.title = held.length ? `This admin key holds ${held.join(", ")}` : "";
  route();
}

function signOut() {
  sessionStorage.removeItem(KEY_STORAGE);
  stopFeed();
  state.permissions = new Set();
  location.hash = "#/sign-in";
  afterSignIn();
}

function signInView() {
  const key = input("admin_key", { type: "password", required: true, autocomplete: "off" });
  const form = h("form", { class: "fields", onsubmit: async (event) => {
    event.preventDefault();
    showError(null);
    const candidate = key.value.trim();
    try {
      const reply = await api("GET", "/v2alpha1/admin/issuedApiKeys?page_size=1", undefined, { allow: [403], key: candidate });
      sessionStorage.setItem(KEY_STORAGE, candidate);
      key.value = "";
      if (reply.status === 403 && location.hash.startsWith("#/keys")) location.hash = "#/verify";
      if (location.hash === "#/sign-in") location.hash = "#/keys/issued";
      await afterSignIn();
    } catch (error) {
      showError(error);
    }
  } },
  field("Admin key", key, "An admin key made by `talos admin-keys create` or by another admin. Kept in this tab only."),
  h("div", { class: "actions wide" }, h("button", { type: "submit" }, "Sign in")));
  mount(h("section", { class: "card signin" }, h("h1", {}, "Sign in"),
    h("p", { class: "sub" }, "This server requires an admin key for its admin API."), form));
  key.focus();
}

// ---------------------------------------------------------------- Routing

function route() {
  showError(null);
  stopFeed();
  const signedIn = !state.authRequired || adminKey();
  const hash = location.hash || "#/keys/issued";
  if (!signedIn) return signInView();
  const parts = hash.slice(2).split("/");
  const section = parts[0] === "key" ? "keys" : parts[0];
  for (const link of document.querySelectorAll("nav a")) {
    if (link.dataset.section === section) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const views = {
    "keys": () => keysView(parts[1] === "imported" ? "imported" : "issued"),
    "key": () => keyView(parts[1], decodeURIComponent(parts[2] || "")),
    "issue": issueView,
    "import": importView,
    "verify": verifyView,
    "derive": deriveView,
    "feed": feedView,
    "admin-keys": adminKeysView,
    "sign-in": () => { location.hash = "#/keys/issued"; },
  };
  (views[parts[0]] || views.keys)();
  document.getElementById("view").focus({ preventScroll: true });
}

// ---------------------------------------------------------------- Keys

const listState = { issued: { tokens: [""], page: 0, actor: "", status: "" }, imported: { tokens: [""], page: 0, actor: "", status: "" } };

function filterText(actor, status) {
  const terms = [];
  if (actor) terms.push(`actor_id = "${actor.replace(/["\\]/g, (c) => "\\" + c)}"`);
  if (status) terms.push(`status = KEY_STATUS_${status}`);
  return terms.join(" AND ");
}

async function keysView(kind) {
  const list = listState[kind];
  const collection = kind === "issued" ? "issuedApiKeys" : "importedApiKeys";
  const actor = input("actor", { value: list.actor, type: "search", placeholder: "any actor" });
  const status = select("status", [["", "Any status"], ["ACTIVE", "Active"], ["REVOKED", "Revoked"], ["EXPIRED", "Expired"]], list.status);
  const body = h("tbody", {}, h("tr", {}, h("td", { colspan: 7, class: "muted" }, "Loading…")));
  const table = h("table", {}, h("caption", {}, "Keys"),
    h("thead", {}, h("tr", {}, ["Name", "Actor", "Status", "Key ID", "Created", "Expires", "Last used"].map((c) => h("th", { scope: "col" }, c)))),
    body);
  const previous = h("button", { type: "button", class: "ghost", disabled: list.page === 0 }, "Previous page");
  const next = h("button", { type: "button", class: "ghost", disabled: true }, "Next page");
  const pageLabel = h("span", { class: "muted", "aria-live": "polite" }, `Page ${list.page + 1}`);
  const apply = (event) => {
    event.preventDefault();
    list.actor = actor.value.trim();
    list.status = status.value;
    list.tokens = [""];
    list.page = 0;
    keysView(kind);
  };
  previous.addEventListener("click", () => { list.page -= 1; keysView(kind); });
  next.addEventListener("click", () => { list.page += 1; keysView(kind); });
  mount(
    h("div", { class: "head" },
      h("div", {}, h("h1", {}, "API keys"), h("p", { class: "sub" }, "Issued keys are minted by Talos; imported keys were created elsewhere and stored as hashes.")),
      h("div", { class: "tabs", role: "group", "aria-label": "Key type" },
        h("a", { href: "#/keys/issued", "aria-current": kind === "issued" ? "page" : null }, "Issued"),
        h("a", { href: "#/keys/imported", "aria-current": kind === "imported" ? "page" : null }, "Imported"))),
    h("form", { class: "filters", onsubmit: apply, role: "search" },
      field("Actor", actor), field("Status", status),
      h("div", {}, h("button", { type: "submit", class: "ghost" }, "Filter"))),
    h("div", { class: "table-wrap" }, table),
    h("div", { class: "pager" }, previous, pageLabel, next));
  if (!can("keys.read")) {
    body.replaceChildren(h("tr", {}, h("td", { colspan: 7 }, "This admin key does not hold keys.read.")));
    return;
  }
  try {
    const query = new URLSearchParams({ page_size: String(PAGE_SIZE), page_token: list.tokens[list.page] || "", filter: filterText(list.actor, list.status) });
    const reply = await api("GET", `/v2alpha1/admin/${collection}?${query}`);
    const keys = reply.json[kind === "issued" ? "issued_api_keys" : "imported_api_keys"] || [];
    const token = reply.json.next_page_token || "";
    list.tokens[list.page + 1] = token;
    next.disabled = !token;
    pageLabel.textContent = `Page ${list.page + 1} · ${keys.length} key${keys.length === 1 ? "" : "s"}`;
    body.replaceChildren(...(keys.length ? keys.map((key) => h("tr", {},
      h("td", {}, h("a", { href: `#/key/${kind}/${encodeURIComponent(key.key_id)}` }, key.name || "(unnamed)")),
      h("td", {}, key.actor_id || "—"),
      h("td", {}, statusBadge(key.status)),
      h("td", { class: "id" }, key.key_id.length > 36 ? key.key_id.slice(0, 16) + "…" : key.key_id),
      h("td", {}, formatTime(key.create_time)),
      h("td", {}, key.expire_time ? formatTime(key.expire_time) : "never"),
      h("td", {}, formatTime(key.last_used_time)))) : [h("tr", {}, h("td", { colspan: 7, class: "muted" }, "No keys match."))]));
  } catch (error) {
    showError(error);
    body.replaceChildren();
  }
}

async function keyView(kind, keyID) {
  const collection = kind === "imported" ? "importedApiKeys" : "issuedApiKeys";
  mount(h("p", { class: "muted" }, "Loading…"));
  let key;
  try {
    const reply = await api("GET", `/v2alpha1/admin/${collection}/${encodeURIComponent(keyID)}`);
    key = reply.json[kind === "imported" ? "imported_api_key" : "issued_api_key"] || reply.json;
  } catch (error) {
    mount(h("p", {}, h("a", { href: `#/keys/${kind}` }, "← All keys")));
    return showError(error);
  }
  const active = key.status === "KEY_STATUS_ACTIVE";
  const writable = can("keys.write");
  const policy = key.rate_limit_policy;
  const facts = [
    ["Key ID", h("code", {}, key.key_id)], ["Name", key.name || "—"], ["Actor", key.actor_id || "—"],
    ["Status", statusBadge(key.status)], ["Scopes", (key.scopes || []).length ? key.scopes.join(", ") : "—"],
    ["Visibility", (key.visibility || "").replace("KEY_VISIBILITY_", "").toLowerCase()],
    ["Created", formatTime(key.create_time)], ["Updated", formatTime(key.update_time)],
    ["Expires", key.expire_time ? formatTime(key.expire_time) : "never"], ["Last used", formatTime(key.last_used_time)],
    ["Rate limit", policy ? `${policy.quota} per ${policy.window}` : "none"],
    ["Allowed networks", (key.ip_restriction?.allowed_cidrs || []).join(", ") || "any"],
  ];
  if (key.revocation_reason) facts.push(["Revocation reason", key.revocation_reason.replace("REVOCATION_REASON_", "").replaceAll("_", " ").toLowerCase()]);
  if (key.revocation_description) facts.push(["Revocation note", key.revocation_description]);
  const rotate = h("button", { type: "button", class: "ghost", disabled: !writable || !active || kind !== "issued", onclick: () => rotateKey(key) }, "Rotate");
  const revoke = h("button", { type: "button", class: "danger", disabled: !writable || key.status === "KEY_STATUS_REVOKED", onclick: () => revokeKey(key, kind) }, "Revoke");
  const remove = kind === "imported" ? h("button", { type: "button", class: "ghost", disabled: !writable, onclick: () => deleteKey(key) }, "Delete") : null;
  const usage = h("section", { class: "card", "aria-labelledby": "usage-title" }, h("h2", { id: "usage-title" }, "Usage"), h("p", { class: "muted" }, "Loading…"));
  mount(
    h("p", {}, h("a", { href: `#/keys/${kind}` }, "← All keys")),
    h("div", { class: "head" }, h("div", {}, h("h1", {}, key.name || key.key_id), h("p", { class: "sub" }, `${kind === "issued" ? "Issued" : "Imported"} key`)),
      h("div", { class: "actions" }, rotate, revoke, remove)),
    needs("keys.write"),
    usage,
    h("div", { class: "grid" },
      h("section", { class: "card", "aria-labelledby": "facts-title" }, h("h2", { id: "facts-title" }, "Details"),
        h("dl", { class: "facts" }, facts.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)])),
        h("details", {}, h("summary", {}, "Metadata"), h("pre", {}, JSON.stringify(key.metadata || {}, null, 2)))),
      updateForm(key, kind, writable)));
  renderUsage(usage, key.key_id, "HOUR");
}

function updateForm(key, kind, writable) {
  const name = input("name", { value: key.name || "", required: true, maxlength: 255 });
  const scopes = input("scopes", { value: (key.scopes || []).join(", ") });
  const metadata = h("textarea", { name: "metadata", "data-wide": "1" }, JSON.stringify(key.metadata || {}, null, 2));
  const collection = kind === "imported" ? "importedApiKeys" : "issuedApiKeys";
  const form = h("form", { class: "fields", onsubmit: async (event) => {
    event.preventDefault();
    showError(null);
    try {
      const body = { name: name.value.trim(), scopes: parseList(scopes.value), metadata: parseMetadata(metadata.value) || {} };
      await api("PATCH", `/v2alpha1/admin/${collection}/${encodeURIComponent(key.key_id)}?update_mask=name,scopes,metadata`, body);
      keyView(kind, key.key_id);
    } catch (error) {
      showError(error);
    }
  } }, h("fieldset", { class: "fields", disabled: !writable }, field("Name", name), field("Scopes", scopes, "Comma-separated."), field("Metadata", metadata, "A JSON object."),
    h("div", { class: "actions wide" }, h("button", { type: "submit" }, "Save changes"))));
  return h("section", { class: "card", "aria-labelledby": "update-title" }, h("h2", { id: "update-title" }, "Edit"), form);
}

async function renderUsage(card, keyID, granularity) {
  const span = granularity === "HOUR" ? 48 * 3600e3 : 30 * 86400e3;
  const width = granularity === "HOUR" ? 3600e3 : 86400e3;
  const end = new Date();
  const startMs = Math.floor((end.getTime() - span) / width) * width + width;
  const query = new URLSearchParams({ start_time: new Date(startMs).toISOString(), end_time: end.toISOString(), granularity });
  const toggle = h("div", { class: "tabs", role: "group", "aria-label": "Usage range" },
    ...[["HOUR", "48 hours"], ["DAY", "30 days"]].map(([g, text]) => h("a", { href: "#", "aria-current": g === granularity ? "page" : null,
      onclick: (event) => { event.preventDefault(); renderUsage(card, keyID, g); } }, text)));
  let buckets = [];
  try {
    buckets = (await api("GET", `/v2alpha1/admin/apiKeys/${encodeURIComponent(keyID)}/usage?${query}`)).json.buckets || [];
  } catch (error) {
    card.replaceChildren(h("h2", { id: "usage-title" }, "Usage"), h("p", { class: "muted" }, error.message));
    return;
  }
  const count = Math.round((end.getTime() - startMs) / width) + 1;
  const valid = new Array(count).fill(0);
  const invalid = new Array(count).fill(0);
  const failures = {};
  for (const bucket of buckets) {
    const index = Math.round((Date.parse(bucket.start_time) - startMs) / width);
    if (index < 0 || index >= count) continue;
    valid[index] += Number(bucket.valid || 0);
    for (const [code, n] of Object.entries(bucket.invalid || {})) {
      invalid[index] += Number(n);
      failures[code] = (failures[code] || 0) + Number(n);
    }
  }
  const totalValid = valid.reduce((a, b) => a + b, 0);
  const totalInvalid = invalid.reduce((a, b) => a + b, 0);
  const total = totalValid + totalInvalid;
  const peak = Math.max(1, ...valid.map((v, i) => v + invalid[i]));
  const svgNS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(svgNS, "svg");
  svg.setAttribute("class", "chart");
  svg.setAttribute("viewBox", `0 0 ${count * 10} 100`);
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `Usage chart: ${total} verifications over the last ${granularity === "HOUR" ? "48 hours" : "30 days"}, ${totalInvalid} failed`);
  const base = document.createElementNS(svgNS, "line");
  for (const [k, v] of [["x1", 0], ["y1", 99.5], ["x2", count * 10], ["y2", 99.5]]) base.setAttribute(k, v);
  svg.append(base);
  valid.forEach((v, i) => {
    const good = (v / peak) * 96;
    const bad = (invalid[i] / peak) * 96;
    for (const [height, y, cls] of [[good, 100 - good, "bar"], [bad, 100 - good - bad, "bad"]]) {
      if (height <= 0) continue;
      const rect = document.createElementNS(svgNS, "rect");
      for (const [k, value] of [["x", i * 10 + 1], ["y", y], ["width", 8], ["height", height]]) rect.setAttribute(k, value);
      rect.setAttribute("class", cls);
      const title = document.createElementNS(svgNS, "title");
      title.textContent = `${new Date(startMs + i * width).toISOString().slice(0, granularity === "HOUR" ? 13 : 10).replace("T", " ")}${granularity === "HOUR" ? ":00" : ""}: ${v} valid, ${invalid[i]} failed`;
      rect.append(title);
      svg.append(rect);
    }
  });
  const failureText = Object.entries(failures).sort().map(([code, n]) => `${code.toLowerCase().replaceAll("_", " ")} ${n}`).join(", ");
  card.replaceChildren(
    h("div", { class: "head" }, h("h2", { id: "usage-title" }, "Usage"), toggle),
    h("p", {}, h("span", { class: "total", "aria-label": "Total verifications" }, String(total)), " verifications",
      h("span", { class: "muted" }, ` · ${totalValid} valid · ${totalInvalid} failed${failureText ? ` (${failureText})` : ""}`)),
    svg,
    h("div", { class: "axis", "aria-hidden": "true" }, h("span", {}, formatTime(new Date(startMs).toISOString())), h("span", {}, "now")),
    h("div", { class: "legend" }, h("span", {}, h("span", { class: "swatch" }), "valid"), h("span", {}, h("span", { class: "swatch bad" }), "failed"),
      h("span", {}, `Counts are written every few seconds (usage.flush_interval).`)));
}

async function rotateKey(key) {
  const ok = await confirmDialog("Rotate this key?", [h("p", {}, "A new key with the same attributes is issued and this one is revoked as superseded. Callers must switch to the new secret.")], "Rotate key");
  if (!ok) return;
  try {
    const reply = await api("POST", `/v2alpha1/admin/issuedApiKeys/${encodeURIComponent(key.key_id)}:rotate`, {});
    const fresh = reply.json.issued_api_key;
    mount(h("p", {}, h("a", { href: "#/keys/issued" }, "← All keys")), h("h1", {}, "Key rotated"),
      h("p", { class: "sub" }, `${key.name} now has the id ${fresh.key_id}.`),
      secretPanel(reply.json.secret, "New secret", `#/key/issued/${encodeURIComponent(fresh.key_id)}`));
  } catch (error) {
    showError(error);
  }
}

async function revokeKey(key, kind) {
  const reason = select("reason", REASONS, "REVOCATION_REASON_KEY_COMPROMISE");
  const description = h("textarea", { name: "description", maxlength: 1024 });
  const note = field("Description", description, "Only for “Privilege withdrawn”.");
  note.hidden = true;
  reason.addEventListener("change", () => { note.hidden = reason.value !== "REVOCATION_REASON_PRIVILEGE_WITHDRAWN"; });
  const ok = await confirmDialog("Revoke this key?", [h("p", {}, `${key.name || key.key_id} stops verifying on every replica within a second. This cannot be undone.`), field("Reason", reason), note], "Confirm revocation");
  if (!ok) return;
  const body = { reason: reason.value };
  if (!note.hidden && description.value.trim()) body.description = description.value.trim();
  try {
    await api("POST", `/v2alpha1/admin/apiKeys/${encodeURIComponent(key.key_id)}:revoke`, body);
    keyView(kind, key.key_id);
  } catch (error) {
    showError(error);
  }
}

async function deleteKey(key) {
  const ok = await confirmDialog("Delete this imported key?", [h("p", {}, "The stored hash is removed; the raw key stops verifying.")], "Delete key");
  if (!ok) return;
  try {
    await api("DELETE", `/v2alpha1/admin/importedApiKeys/${encodeURIComponent(key.key_id)}`);
    location.hash = "#/keys/imported";
  } catch (error) {
    showError(error);
  }
}

// ---------------------------------------------------------------- Issue and import

function keyFields(withVisibility = true) {
  const controls = {
    name: input("name", { required: true, maxlength: 255 }),
    actor: input("actor_id", { required: true, maxlength: 255 }),
    scopes: input("scopes", { placeholder: "read, write" }),
    ttl: input("ttl", { placeholder: "720h" }),
    quota: input("quota", { inputmode: "numeric", placeholder: "e.g. 100" }),
    window: input("window", { placeholder: "e.g. 60s" }),
    cidrs: input("cidrs", { placeholder: "10.0.0.0/8, 192.168.1.0/24" }),
    visibility: select("visibility", [["KEY_VISIBILITY_SECRET", "Secret"], ["KEY_VISIBILITY_PUBLIC", "Public"]], "KEY_VISIBILITY_SECRET"),
    requestID: input("request_id", { placeholder: "optional idempotency token" }),
    metadata: h("textarea", { name: "metadata", "data-wide": "1", placeholder: "{\"team\": \"payments\"}" }),
  };
  const nodes = [
    field("Name", controls.name), field("Actor", controls.actor, "Who the key belongs to."),
    field("Scopes", controls.scopes, "Comma-separated."), field("TTL", controls.ttl, "A duration such as 24h or 720h; empty for the server's default."),
    field("Rate limit quota", controls.quota, "Requests per window; empty for no limit."), field("Rate limit window", controls.window),
    field("Allowed networks", controls.cidrs, "Comma-separated CIDRs; empty for any."),
    withVisibility ? field("Visibility", controls.visibility) : null,
    field("Request ID", controls.requestID, "Repeating it returns the same key."),
    field("Metadata", controls.metadata, "A JSON object."),
  ];
  const body = () => {
    const result = { name: controls.name.value.trim(), actor_id: controls.actor.value.trim() };
    const scopes = parseList(controls.scopes.value);
    if (scopes.length) result.scopes = scopes;
    if (controls.ttl.value.trim()) result.ttl = controls.ttl.value.trim();
    if (controls.quota.value.trim() || controls.window.value.trim()) result.rate_limit_policy = { quota: controls.quota.value.trim(), window: controls.window.value.trim() };
    const cidrs = parseList(controls.cidrs.value);
    if (cidrs.length) result.ip_restriction = { allowed_cidrs: cidrs };
    if (withVisibility) result.visibility = controls.visibility.value;
    if (controls.requestID.value.trim()) result.request_id = controls.requestID.value.trim();
    const metadata = parseMetadata(controls.metadata.value);
    if (metadata) result.metadata = metadata;
    return result;
  };
  return { nodes, body, controls };
}

function issueView() {
  const { nodes, body, controls } = keyFields();
  const result = h("div", {});
  const form = h("form", { class: "fields", onsubmit: async (event) => {
    event.preventDefault();
    showError(null);
    try {
      const reply = await api("POST", "/v2alpha1/admin/issuedApiKeys", body());
      const key = reply.json.issued_api_key;
      form.reset();
      result.replaceChildren(secretPanel(reply.json.secret, `Issued “${key.name}”`, `#/key/issued/${encodeURIComponent(key.key_id)}`));
      result.querySelector("output").focus?.();
    } catch (error) {
      showError(error);
    }
  } }, h("fieldset", { class: "fields", disabled: !can("keys.write") }, nodes, h("div", { class: "actions wide" }, h("button", { type: "submit" }, "Issue key"))));
  mount(h("h1", {}, "Issue a key"), h("p", { class: "sub" }, "Talos mints the secret; it is shown once."), needs("keys.write"), result, h("section", { class: "card" }, form));
  controls.name.focus();
}

function importView() {
  const raw = input("raw_key", { type: "password", required: true, autocomplete: "new-password" });
  const { nodes, body } = keyFields();
  const done = h("div", {});
  const form = h("form", { class: "fields", onsubmit: async (event) => {
    event.preventDefault();
    showError(null);
    try {
      const reply = await api("POST", "/v2alpha1/admin/importedApiKeys", { raw_key: raw.value, ...body() });
      const key = reply.json.imported_api_key || reply.json;
      form.reset();
      raw.value = "";
      done.replaceChildren(h("p", { class: "success", role: "status" }, `Imported “${key.name}”. `, h("a", { href: `#/key/imported/${encodeURIComponent(key.key_id)}` }, "Open the key")));
    } catch (error) {
      raw.value = "";
      showError(error);
    }
  } }, h("fieldset", { class: "fields", disabled: !can("keys.write") }, field("Raw key", raw, "The key as your callers send it. It is hashed and never shown again."), nodes,
    h("div", { class: "actions wide" }, h("button", { type: "submit" }, "Import key"))));
  mount(h("h1", {}, "Import a key"), h("p", { class: "sub" }, "Bring a key made elsewhere; Talos stores only its hash."), needs("keys.write"), done, h("section", { class: "card" }, form));
}

// ---------------------------------------------------------------- Verify and derive

function verifyView() {
  const credential = input("credential", { required: true });
  const skip = h("input", { type: "checkbox", name: "no_cache", id: "no-cache" });
  const out = h("div", {});
  const form = h("form", { class: "fields", onsubmit: async (event) => {
    event.preventDefault();
    showError(null);
    try {
      const reply = await api("POST", "/v2alpha1/admin/apiKeys:verify", { credential: credential.value.trim() }, { headers: skip.checked ? { "Cache-Control": "no-cache" } : {} });
      const result = reply.json;
      const cache = reply.headers.get("Ory-Talos-Cache") || "—";
      const rows = [["Result", h("span", { class: `badge ${result.is_valid ? "valid" : "invalid"}` }, result.is_valid ? "Valid" : "Invalid")], ["Cache", cache]];
      if (!result.is_valid) rows.push(["Error", result.error_code], ["Message", result.error_message || ""]);
      else rows.push(["Key ID", h("code", {}, result.key_id)], ["Actor", result.actor_id || "—"], ["Scopes", (result.scopes || []).join(", ") || "—"], ["Expires", result.expire_time ? formatTime(result.expire_time) : "never"]);
      if (result.rate_limit_remaining !== undefined) rows.push(["Rate limit remaining", String(result.rate_limit_remaining)]);
      out.replaceChildren(h("section", { class: "card", "aria-label": "Verification result" }, h("dl", { class: "facts" }, rows.map(([t, v]) => [h("dt", {}, t), h("dd", {}, v)])),
        h("details", {}, h("summary", {}, "Response"), h("pre", {}, JSON.stringify(result, null, 2)))));
    } catch (error) {
      showError(error);
    }
  } }, h("fieldset", { class: "fields", disabled: !can("keys.verify") }, h("div", { class: "wide" }, h("label", { for: "verify-credential" }, "Credential"), Object.assign(credential, { id: "verify-credential" })),
    h("label", { class: "check wide", for: "no-cache" }, skip, "Skip the cache (Cache-Control: no-cache)"),
    h("div", { class: "actions wide" }, h("button", { type: "submit" }, "Verify"))));
  mount(h("h1", {}, "Verify playground"), h("p", { class: "sub" }, "Check an API key, JWT or macaroon exactly as your services do."), needs("keys.verify"), h("section", { class: "card" }, form), out);
  credential.focus();
}

function base64urlDecode(text) {
  const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

function decodeJWT(token) {
  const [header, payload] = token.split(".");
  const text = (part) => JSON.parse(new TextDecoder().decode(base64urlDecode(part)));
  return { header: text(header), payload: text(payload) };
}

function deriveView() {
  const credential = input("credential", { required: true });
  const algorithm = select("algorithm", [["TOKEN_ALGORITHM_JWT", "JWT"], ["TOKEN_ALGORITHM_MACAROON", "Macaroon"]], "TOKEN_ALGORITHM_JWT");
  const ttl = input("ttl", { placeholder: "5m" });
  const scopes = input("scopes", { placeholder: "a subset of the key's scopes" });
  const audiences = input("audiences", { placeholder: "https://api.example.com" });
  const out = h("div", {});
  const form = h("form", { class: "fields", onsubmit: async (event) => {
    event.preventDefault();
    showError(null);
    const body = { credential: credential.value.trim(), algorithm: algorithm.value };
    if (ttl.value.trim()) body.ttl = ttl.value.trim();
    if (parseList(scopes.value).length) body.scopes = parseList(scopes.value);
    if (parseList(audiences.value).length) body.audiences = parseList(audiences.value);
    try {
      const token = (await api("POST", "/v2alpha1/admin/apiKeys:derive", body)).json.token;
      const output = h("output", { "aria-label": "Derived token" }, token.token);
      const claims = algorithm.value === "TOKEN_ALGORITHM_JWT" ? decodeJWT(token.token) : { claims: token.claims };
      out.replaceChildren(h("section", { class: "card", "aria-labelledby": "token-title" }, h("h2", { id: "token-title" }, "Derived token"),
        h("p", { class: "muted" }, `Expires ${formatTime(token.expire_time)}. Derived tokens cannot be revoked; keep their lifetime short.`),
        h("div", { class: "secret" }, output, copyButton(() => output.textContent)),
        h("h2", {}, "Decoded claims"), h("pre", { "aria-label": "Decoded claims" }, JSON.stringify(claims, null, 2))));
    } catch (error) {
      showError(error);
    }
  } }, h("fieldset", { class: "fields", disabled: !can("tokens.derive") }, h("div", { class: "wide" }, h("label", { for: "derive-credential" }, "Credential"), Object.assign(credential, { id: "derive-credential" })),
    field("Algorithm", algorithm), field("TTL", ttl), field("Scopes", scopes, "Comma-separated."), field("Audiences", audiences, "Comma-separated."),
    h("div", { class: "actions wide" }, h("button", { type: "submit" }, "Derive token"))));
  mount(h("h1", {}, "Derive a token"), h("p", { class: "sub" }, "Mint a short-lived JWT or macaroon from an API key."), needs("tokens.derive"), h("section", { class: "card" }, form), out);
}

// ---------------------------------------------------------------- Revocation feed

function stopFeed() {
  if (state.feed) state.feed.abort();
  state.feed = null;
}

function feedView() {
  const list = h("ol", { class: "events", "aria-label": "Revocations" });
  const status = h("span", { role: "status" }, h("span", { class: "dot" }), "Connecting…");
  const empty = h("p", { class: "muted" }, "Waiting for revocations. Keys revoked, deleted or rotated away appear here as it happens.");
  mount(h("div", { class: "head" }, h("div", {}, h("h1", {}, "Live revocations"), h("p", { class: "sub" }, "The revocation feed of this tenant, as Server-Sent Events.")), status),
    needs("revocations.watch"), h("section", { class: "card" }, empty, list));
  if (!can("revocations.watch")) return;
  const controller = new AbortController();
  state.feed = controller;
  let lastID = "";
  const setStatus = (on, text) => status.replaceChildren(h("span", { class: `dot${on ? " on" : ""}` }), text);
  const add = (event, data) => {
    empty.hidden = true;
    let payload = {};
    try { payload = JSON.parse(data); } catch { payload = {}; }
    const item = event === "reset"
      ? h("li", {}, h("span", {}, formatTime(new Date().toISOString())), h("strong", {}, "reset"), h("span", { class: "muted" }, "Events may have been missed: re-check cached keys."))
      : h("li", {}, h("span", {}, formatTime(payload.time)), h("span", {}, h("span", { class: "badge revoked" }, "revoked")),
        h("span", {}, h("code", {}, payload.key_id || ""), h("span", { class: "muted" }, ` · ${payload.type || "api"} key`)));
    list.prepend(item);
  };
  (async () => {
    let delay = 500;
    while (!controller.signal.aborted) {
      try {
        const extra = { Accept: "text/event-stream" };
        if (lastID) extra["Last-Event-ID"] = lastID;
        const response = await fetch("/v2alpha1/admin/revocations:watch", { headers: headers(extra), signal: controller.signal });
        if (!response.ok) {
          const body = await response.json().catch(() => null);
          throw new ApiError(response.status, body);
        }
        setStatus(true, "Live");
        delay = 500;
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end;
          while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, "");
            let event = "message", data = [];
            for (const line of block.split(/\r?\n/)) {
              if (line.startsWith(":")) continue;
              const [name, ...rest] = line.split(":");
              const text = rest.join(":").replace(/^ /, "");
              if (name === "event") event = text;
              else if (name === "data") data.push(text);
              else if (name === "id") lastID = text;
            }
            if (data.length || event === "reset") add(event, data.join("\n"));
          }
        }
        setStatus(false, "Reconnecting…");
      } catch (error) {
        if (controller.signal.aborted) return;
        if (error instanceof ApiError && [401, 403].includes(error.status)) {
          setStatus(false, "Not allowed");
          return showError(error);
        }
        setStatus(false, "Reconnecting…");
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 10000);
    }
  })();
}

// ---------------------------------------------------------------- Admin keys

async function adminKeysView() {
  const name = input("name", { required: true, maxlength: 255 });
  const ttl = input("ttl", { placeholder: "720h (empty: never expires)" });
  const boxes = PERMISSIONS.map((permission) => h("label", { class: "check" }, h("input", { type: "checkbox", name: "permissions", value: permission }), permission));
  const created = h("div", {});
  const body = h("tbody", {});
  const form = h("form", { class: "fields", onsubmit: async (event) => {
    event.preventDefault();
    showError(null);
    const permissions = [...form.querySelectorAll("input[name=permissions]:checked")].map((box) => box.value);
    try {
      const request = { name: name.value.trim(), permissions };
      if (ttl.value.trim()) request.ttl = ttl.value.trim();
      const reply = await api("POST", "/v2alpha1/admin/adminKeys", request);
      form.reset();
      created.replaceChildren(secretPanel(reply.json.secret, `Admin key “${reply.json.admin_key.name}”`));
      load();
    } catch (error) {
      showError(error);
    }
  } }, field("Name", name), field("TTL", ttl),
    h("fieldset", { class: "wide" }, h("legend", {}, "Permissions"), h("div", { class: "checks" }, boxes)),
    h("div", { class: "actions wide" }, h("button", { type: "submit" }, "Create admin key")));
  const load = async () => {
    try {
      const keys = (await api("GET", "/v2alpha1/admin/adminKeys?page_size=1000")).json.admin_keys || [];
      body.replaceChildren(...keys.map((key) => h("tr", {},
        h("td", {}, key.name), h("td", {}, (key.permissions || []).join(", ")), h("td", {}, statusBadge(key.status)),
        h("td", { class: "id" }, key.key_id), h("td", {}, formatTime(key.create_time)), h("td", {}, key.expire_time ? formatTime(key.expire_time) : "never"),
        h("td", {}, formatTime(key.last_used_time)),
        h("td", {}, h("button", { type: "button", class: "ghost small", disabled: key.status !== "KEY_STATUS_ACTIVE", "aria-label": `Revoke admin key ${key.name}`, onclick: async () => {
          if (!(await confirmDialog("Revoke this admin key?", [h("p", {}, `${key.name} stops authenticating on every replica within a second.`)], "Confirm revocation"))) return;
          try { await api("POST", `/v2alpha1/admin/adminKeys/${encodeURIComponent(key.key_id)}:revoke`, {}); load(); } catch (error) { showError(error); }
        } }, "Revoke")))));
    } catch (error) {
      showError(error);
    }
  };
  mount(h("h1", {}, "Admin keys"), h("p", { class: "sub" }, "Who may use the admin API. Each key holds a set of permissions."), created,
    h("section", { class: "card", "aria-labelledby": "create-admin-title" }, h("h2", { id: "create-admin-title" }, "Create an admin key"), form),
    h("div", { class: "table-wrap" }, h("table", {}, h("caption", {}, "Admin keys"),
      h("thead", {}, h("tr", {}, ["Name", "Permissions", "Status", "Key ID", "Created", "Expires", "Last used", ""].map((c) => h("th", { scope: "col" }, c)))), body)));
  load();
}

start().catch(showError);
