/* Tawasul web chat. Talks to /webchat/api (channels/web/README.md); keeps the conversation
   token in localStorage so a reload continues the conversation, replayed from the server's
   history. Plain JavaScript: no framework, no build step, nothing from another host.
   Every text shown comes from /webchat/i18n.json (channels/web/texts.yml) or from the bot,
   and is put in the page with textContent, never as HTML. */
(() => {
  "use strict";

  const API = "/webchat/api/conversations";
  const TOKEN_KEY = "tawasul.webchat.token";
  const LANG_KEY = "tawasul.webchat.language";
  const HISTORY_PAGE = 500;
  const SEND_ATTEMPTS = 4;

  const $ = (id) => document.getElementById(id);
  const log = $("log");
  const statusBar = $("status");
  const input = $("text");

  const state = {
    strings: { ar: {}, en: {} },
    lang: localStorage.getItem(LANG_KEY) === "en" ? "en" : "ar",
    token: localStorage.getItem(TOKEN_KEY),
    lastSeq: 0, // the newest entry received from the server (history or socket)
    shown: new Set(), // seqs on screen
    pending: new Map(), // client_message_id -> bubble not yet confirmed by a seq
    socket: null,
    reconnectDelay: 500,
    socketFailures: 0,
  };

  const t = (key) => state.strings[state.lang][key] || state.strings.ar[key] || key;

  function applyLanguage(lang) {
    state.lang = lang;
    const root = document.documentElement;
    root.lang = lang;
    root.dir = lang === "ar" ? "rtl" : "ltr";
    document.title = t("title");
    for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
    for (const el of document.querySelectorAll("[data-i18n-placeholder]")) {
      el.placeholder = t(el.dataset.i18nPlaceholder);
    }
    $("language").lang = lang === "ar" ? "en" : "ar";
  }

  function showStatus(key) {
    statusBar.textContent = t(key);
    statusBar.hidden = false;
  }

  function hideStatus() {
    statusBar.hidden = true;
  }

  function clientId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  // --- rendering ------------------------------------------------------------------------

  function bubble(role) {
    const el = document.createElement("div");
    el.className = `msg ${role}`;
    el.dir = "auto";
    el.setAttribute("aria-label", t(role === "user" ? "you" : "bot"));
    return el;
  }

  function addText(el, text) {
    if (!text) return;
    const p = document.createElement("p");
    p.className = "text";
    p.dir = "auto";
    p.textContent = text;
    el.appendChild(p);
  }

  function addImage(el, src, expiredKey) {
    const img = document.createElement("img");
    img.alt = t("photo_sent");
    img.src = src;
    if (expiredKey) {
      img.addEventListener("error", () => {
        img.remove();
        addText(el, t(expiredKey));
      });
    }
    el.appendChild(img);
  }

  function addLocation(el, location) {
    addText(el, t("location_sent"));
    const coords = document.createElement("span");
    coords.className = "coords";
    coords.dir = "ltr";
    coords.textContent = `${Number(location.lat).toFixed(5)}, ${Number(location.long).toFixed(5)}`;
    el.appendChild(coords);
  }

  function addChips(el, entry) {
    const buttons = entry.buttons || [];
    if (!buttons.length && !entry.request_location) return;
    const row = document.createElement("div");
    row.className = "chips";
    for (const button of buttons) {
      const chip = document.createElement("button");
      chip.type = "button";
      chip.className = "chip";
      chip.dir = "auto";
      chip.textContent = button.title;
      chip.dataset.payload = button.payload;
      chip.addEventListener("click", () => {
        chip.classList.add("chosen");
        send({ payload: button.payload, text: button.title });
      });
      row.appendChild(chip);
    }
    if (entry.request_location) {
      const chip = document.createElement("button");
      chip.type = "button";
      chip.className = "chip location-chip";
      chip.textContent = t("share_location");
      chip.addEventListener("click", shareLocation);
      row.appendChild(chip);
      $("share-location").classList.add("attention");
    }
    el.appendChild(row);
  }

  function disableChips() {
    for (const chip of log.querySelectorAll(".chip")) chip.disabled = true;
    $("share-location").classList.remove("attention");
  }

  function userBubble(fields, previewUrl) {
    const el = bubble("user");
    if (fields.location) addLocation(el, fields.location);
    if (previewUrl) addImage(el, previewUrl, "photo_expired");
    else if (fields.photo) addText(el, t("photo_expired"));
    addText(el, fields.text || (fields.location || fields.photo ? "" : fields.payload));
    return el;
  }

  function botBubble(entry) {
    const el = bubble("bot");
    addText(el, entry.text);
    if (entry.image_url) addImage(el, entry.image_url, null);
    addChips(el, entry);
    return el;
  }

  function render(entry) {
    if (state.shown.has(entry.seq)) return;
    state.shown.add(entry.seq);
    state.lastSeq = Math.max(state.lastSeq, entry.seq);
    if (entry.role === "user") {
      disableChips();
      const mine = state.pending.get(entry.client_message_id);
      if (mine) {
        confirm(mine, entry.client_message_id, entry.seq);
        return;
      }
    }
    const el = entry.role === "user" ? userBubble(entry, entry.image_url) : botBubble(entry);
    el.dataset.seq = entry.seq;
    log.appendChild(el);
    scrollDown();
  }

  function confirm(el, id, seq) {
    state.pending.delete(id);
    state.shown.add(seq);
    el.dataset.seq = seq;
    el.classList.remove("pending", "failed");
  }

  // --- sending --------------------------------------------------------------------------

  async function post(path, body, isForm) {
    const headers = { "Accept-Language": state.lang };
    if (!isForm) headers["Content-Type"] = "application/json";
    for (let attempt = 1; ; attempt += 1) {
      try {
        const response = await fetch(path, {
          method: "POST",
          headers,
          body: isForm ? body : JSON.stringify(body),
        });
        if (response.status !== 503 || attempt >= SEND_ATTEMPTS) return response;
      } catch (err) {
        if (attempt >= SEND_ATTEMPTS) throw err;
      }
      await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** attempt));
    }
  }

  function failed(el, status) {
    el.classList.remove("pending");
    el.classList.add("failed");
    const keys = { 429: "error_rate_limited", 413: "error_photo_too_large", 415: "error_photo_type" };
    showStatus(keys[status] || "error_generic");
  }

  async function deliver(el, id, path, body, isForm) {
    state.pending.set(id, el);
    el.classList.add("pending");
    log.appendChild(el);
    scrollDown();
    disableChips();
    let response;
    try {
      response = await post(path, body, isForm);
    } catch (err) {
      failed(el, 0);
      return;
    }
    if (response.status === 202) {
      const answer = await response.json();
      if (state.pending.has(id)) confirm(el, id, answer.seq);
      hideStatus();
    } else if (response.status === 404) {
      failed(el, 404);
      await startConversation();
    } else {
      failed(el, response.status);
    }
  }

  function send(fields) {
    if (!state.token) return;
    const id = clientId();
    const body = { ...fields, client_message_id: id, language: state.lang };
    deliver(userBubble(fields, null), id, `${API}/${state.token}/messages`, body, false);
  }

  function sendPhoto(file) {
    if (!state.token || !file) return;
    const id = clientId();
    const form = new FormData();
    form.append("photo", file);
    form.append("client_message_id", id);
    form.append("language", state.lang);
    const el = userBubble({}, URL.createObjectURL(file));
    deliver(el, id, `${API}/${state.token}/photos`, form, true);
  }

  function shareLocation() {
    if (!navigator.geolocation) {
      showStatus("location_unsupported");
      return;
    }
    navigator.geolocation.getCurrentPosition(
      (position) => {
        const { latitude, longitude } = position.coords;
        send({ location: { lat: latitude, long: longitude } });
      },
      () => showStatus("location_denied"),
      { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 },
    );
  }

  // --- the conversation -----------------------------------------------------------------

  function reset() {
    if (state.socket) {
      const old = state.socket;
      state.socket = null;
      old.close();
    }
    log.textContent = "";
    state.lastSeq = 0;
    state.shown.clear();
    state.pending.clear();
  }

  async function startConversation() {
    reset();
    localStorage.removeItem(TOKEN_KEY);
    state.token = null;
    const response = await post(API, { language: state.lang }, false);
    if (response.status !== 201) {
      showStatus(response.status === 429 ? "error_rate_limited" : "error_generic");
      return;
    }
    state.token = (await response.json()).token;
    localStorage.setItem(TOKEN_KEY, state.token);
    connect();
    send({ payload: "/greet", text: t("hello") });
  }

  /** Replays the saved conversation; false when the server no longer has it. */
  async function replay() {
    for (;;) {
      const url = `${API}/${state.token}/messages?after=${state.lastSeq}&limit=${HISTORY_PAGE}`;
      const response = await fetch(url, { headers: { "Accept-Language": state.lang } });
      if (response.status === 404) return false;
      if (!response.ok) throw new Error(`history: ${response.status}`);
      const page = await response.json();
      page.messages.forEach(render);
      if (page.messages.length < HISTORY_PAGE) return true;
    }
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const url = `${scheme}://${location.host}${API}/${state.token}/ws?after=${state.lastSeq}`;
    const socket = new WebSocket(url);
    state.socket = socket;
    socket.addEventListener("open", () => {
      state.reconnectDelay = 500;
      state.socketFailures = 0;
      hideStatus();
    });
    socket.addEventListener("message", (event) => {
      const frame = JSON.parse(event.data);
      if (frame.type === "message") render(frame.message);
    });
    socket.addEventListener("close", () => {
      if (state.socket !== socket) return; // replaced on purpose
      state.socketFailures += 1;
      showStatus("offline");
      setTimeout(reconnect, state.reconnectDelay);
      state.reconnectDelay = Math.min(state.reconnectDelay * 2, 15000);
    });
  }

  async function reconnect() {
    if (!state.token) return;
    if (state.socketFailures >= 3) {
      try {
        if (!(await replay())) {
          await startConversation();
          return;
        }
      } catch (err) {
        // the server is unreachable: keep trying
      }
    }
    connect();
  }

  function bind() {
    $("composer").addEventListener("submit", (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      input.value = "";
      send({ text });
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        $("composer").requestSubmit();
      }
    });
    $("share-location").addEventListener("click", shareLocation);
    $("photo").addEventListener("change", (event) => {
      sendPhoto(event.target.files[0]);
      event.target.value = "";
    });
    $("new-conversation").addEventListener("click", startConversation);
    $("language").addEventListener("click", () => {
      applyLanguage(state.lang === "ar" ? "en" : "ar");
      localStorage.setItem(LANG_KEY, state.lang);
      send({ text: t("switch_request") });
    });
  }

  async function main() {
    const response = await fetch("/webchat/i18n.json");
    state.strings = await response.json();
    applyLanguage(state.lang);
    bind();
    if (state.token && (await replay())) {
      connect();
    } else {
      await startConversation();
    }
    document.body.dataset.ready = "true";
  }

  main().catch(() => showStatus("error_generic"));
})();
