// The Kling panel's view (and the progress rows of a job or batch shown on their own).
// Texts from the kernel are set as textContent; fields named *_html hold markup the kernel
// escaped. Every edit and click goes to the kernel as a custom message; the kernel answers by
// setting the traits drawn here. The clock of a running job moves here, between updates.

const TICK_MS = 1000;
const UPLOAD_CHUNK = 4 * 1024 * 1024;
const SILENCE_MS = 8000;
let uid = 0;

function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") el.className = value;
    else if (name === "text") el.textContent = value;
    else if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) if (child) el.append(child);
  return el;
}

function html(el, markup) {
  if (el.dataset.html !== markup) {
    el.innerHTML = markup || "";
    el.dataset.html = markup || "";
  }
}

function text(el, value) {
  if (el.textContent !== value) el.textContent = value;
}

function seconds(value) {
  const s = Math.max(0, Math.round(value));
  const m = Math.floor(s / 60);
  return m ? `${m}:${String(s % 60).padStart(2, "0")}` : `${s}s`;
}

function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

// -- theme -------------------------------------------------------------------------------

function darkTheme() {
  const body = document.body;
  if (body.dataset.jpThemeLight) return body.dataset.jpThemeLight === "false"; // JupyterLab, Notebook 7
  if (body.classList.contains("vscode-dark") || body.classList.contains("vscode-high-contrast")) return true;
  if (body.classList.contains("vscode-light")) return false;
  const root = document.documentElement;
  if (root.classList.contains("dark") || root.dataset.theme === "dark" || body.classList.contains("dark-theme")) return true;
  if (root.classList.contains("light") || root.dataset.theme === "light") return false;
  return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
}

function followTheme(root) {
  const apply = () => root.setAttribute("data-kling-theme", darkTheme() ? "dark" : "light");
  apply();
  const observer = new MutationObserver(apply);
  observer.observe(document.body, { attributes: true, attributeFilter: ["class", "data-jp-theme-light"] });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ["class", "data-theme"] });
  const media = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  if (media) media.addEventListener("change", apply);
  return () => { observer.disconnect(); if (media) media.removeEventListener("change", apply); };
}

// -- videos: bytes from the kernel, played from a blob: URL ---------------------------------

function videoLoader(model) {
  const waiting = new Map(); // token -> {parts, resolve, reject}
  const urls = new Map(); // token -> Promise of a blob: URL
  const onMessage = (message, buffers) => {
    if (!message || message.kind !== "video") return;
    const entry = waiting.get(message.token);
    if (!entry) return;
    if (message.error) { waiting.delete(message.token); entry.reject(new Error(message.error)); return; }
    entry.parts[message.index] = buffers[0];
    entry.count = message.count;
    if (entry.parts.filter(Boolean).length === message.count) {
      waiting.delete(message.token);
      const blob = new Blob(entry.parts.map((part) => (part.buffer ? new Uint8Array(part.buffer, part.byteOffset, part.byteLength) : part)),
        { type: message.mime || "video/mp4" });
      entry.resolve(URL.createObjectURL(blob));
    }
  };
  model.on("msg:custom", onMessage);
  return {
    url(token) {
      if (!urls.has(token)) {
        urls.set(token, new Promise((resolve, reject) => {
          waiting.set(token, { parts: [], resolve, reject });
          model.send({ kind: "video", token });
        }));
        urls.get(token).catch(() => urls.delete(token));
      }
      return urls.get(token);
    },
    dispose() {
      model.off("msg:custom", onMessage);
      for (const url of urls.values()) url.then((u) => URL.revokeObjectURL(u), () => {});
    },
  };
}

function player(result, videos) {
  const video = h("video", { controls: true, preload: "metadata", playsinline: true, class: "kling-video",
    "aria-label": `Video ${result.name}` });
  const link = h("a", { class: "kling-download", download: result.name, href: "#", text: "Download" });
  const problem = h("div", { class: "kling-note kling-bad" });
  if (result.remote) {
    video.src = result.remote;
    link.href = result.remote;
  } else {
    videos.url(result.token).then((url) => { video.src = url; link.href = url; },
      (error) => { problem.textContent = `The video could not be loaded: ${error.message}`; });
  }
  return h("div", { class: "kling-player" }, video,
    h("div", { class: "kling-links" }, link, h("span", { class: "kling-note kling-muted", text: ` ${result.name}` })), problem);
}

// -- progress rows ---------------------------------------------------------------------------

function rowView(state, ctx) {
  const id = `kling-row-${++uid}`;
  const title = h("span", { class: "kling-title", id: `${id}-title` });
  const phase = h("span", { class: "kling-phase" });
  const fill = h("div", { class: "kling-bar-fill" });
  const bar = h("div", { class: "kling-bar", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100",
    "aria-labelledby": `${id}-title` }, fill);
  const clock = h("span", { class: "kling-clock", "aria-hidden": "true" });
  const cancel = h("button", { type: "button", class: "kling-button kling-cancel", text: "Cancel",
    title: "Stop waiting (the server has no cancel call)", onclick: () => ctx.send({ kind: "cancel", job: view.state.number }) });
  const ident = h("div", { class: "kling-ident" });
  const message = h("div", { class: "kling-message" });
  const result = h("div", { class: "kling-result" });
  const el = h("div", { class: "kling-row", "data-job": String(state.number) },
    h("div", { class: "kling-row-head" }, title, phase, bar, clock, cancel), ident, message, result);
  const view = { el, cancel, state, received: performance.now(), shownResult: false };

  view.update = (next) => {
    view.state = next;
    view.received = performance.now();
    text(title, next.title);
    text(phase, next.words);
    phase.className = `kling-phase kling-${next.tone}`;
    const percent = next.phase === "completed" ? 100 : Math.round((next.fraction || 0) * 100);
    fill.style.width = `${percent}%`;
    bar.className = `kling-bar kling-bar-${next.phase}`;
    bar.setAttribute("aria-valuenow", String(percent));
    bar.setAttribute("aria-valuetext", `${next.words}, ${percent}%`);
    cancel.hidden = next.final || !ctx.cancellable();
    if (next.generation_id && !ident.textContent) {
      ident.append(h("span", { class: "kling-note kling-muted", text: "generation id: " }),
        h("code", { class: "kling-code", text: next.generation_id }));
    }
    html(message, next.message_html);
    if (next.result && !view.shownResult) {
      view.shownResult = true;
      result.append(player(next.result, ctx.videos),
        h("div", { class: "kling-details" }));
      html(result.querySelector(".kling-details"), next.result.details_html);
      if (next.result.code) result.append(codeBox(next.result.code));
    }
    view.tick();
  };
  view.tick = () => {
    const s = view.state;
    const since = s.final ? 0 : (performance.now() - view.received) / 1000;
    let words = `${seconds(s.elapsed + since)} elapsed`;
    if (!s.final && s.eta !== null && s.eta !== undefined) {
      const left = s.eta - since;
      words += left >= 1 ? ` \u00b7 ~${seconds(left)} left` : " \u00b7 any moment now";
    }
    text(clock, words);
  };
  view.update(state);
  return view;
}

function codeBox(code) {
  const pre = h("pre", { class: "kling-code-block", tabindex: "0", "aria-label": "Python code for this generation", text: code });
  const copied = h("span", { class: "kling-note kling-muted", role: "status" });
  const copy = h("button", { type: "button", class: "kling-button", text: "Copy",
    onclick: () => {
      const done = () => { copied.textContent = " Copied."; };
      if (navigator.clipboard) navigator.clipboard.writeText(code).then(done, () => selectAll(pre));
      else selectAll(pre);
    } });
  return h("details", { class: "kling-codebox" }, h("summary", { text: "Copy as code" }), h("div", {}, copy, copied), pre);
}

function selectAll(el) {
  const range = document.createRange();
  range.selectNodeContents(el);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}

function rowsList(ctx, announce, onNewRow) {
  const el = h("div", { class: "kling-rows" });
  const views = new Map();
  const timer = setInterval(() => { for (const view of views.values()) if (!view.state.final) view.tick(); }, TICK_MS);
  return {
    el,
    update(rows) {
      for (const state of rows || []) {
        const known = views.get(state.number);
        if (!known) {
          const view = rowView(state, ctx);
          views.set(state.number, view);
          el.append(view.el);
          announce(`${state.title}: ${state.words}`);
          onNewRow(view);
        } else {
          if (known.state.phase !== state.phase) announce(`${state.title.split(" \u00b7 ")[0]}: ${state.words}`);
          known.update(state);
        }
      }
    },
    dispose() { clearInterval(timer); },
  };
}

// -- the panel -------------------------------------------------------------------------------

function field(labelText, control, extra) {
  const id = `kling-field-${++uid}`;
  control.id = id;
  return h("div", { class: "kling-field" },
    h("div", { class: "kling-label-line" }, h("label", { for: id, class: "kling-label", text: labelText }), extra), control);
}

function panelView({ model, el }) {
  // Edits typed are sent after a short pause, and always before any other message (a click on
  // Generate right after typing sends the text first); a field with an edit not sent yet is
  // never overwritten by the state coming back.
  const unsent = new Map();
  let editTimer = null;
  const flush = () => {
    clearTimeout(editTimer);
    for (const [field, value] of unsent) model.send({ kind: "set", field, value });
    unsent.clear();
  };
  // Every action asks the kernel for a sign of life: without one for a while, the panel says
  // why nothing happens (a cell is running, or the kernel was restarted and has no panel).
  const silence = h("div", { class: "kling-note kling-warn kling-silence", role: "alert", hidden: true });
  let pingTimer = null;
  let pings = 0;
  const expectAnswer = () => {
    if (pingTimer) return;
    const asked = ++pings;
    model.send({ kind: "ping", n: asked });
    pingTimer = setTimeout(() => {
      silence.textContent = `The kernel has not answered for ${SILENCE_MS / 1000} s: it is busy running a cell, `
        + "or it was restarted (then run this cell again to use the panel).";
      silence.hidden = false;
    }, SILENCE_MS);
  };
  const send = (content, buffers) => { flush(); model.send(content, undefined, buffers); expectAnswer(); };
  const setLater = (field, value) => {
    unsent.set(field, value);
    clearTimeout(editTimer);
    editTimer = setTimeout(flush, 250);
  };
  const editing = (field, control) => unsent.has(field) || document.activeElement === control;
  const videos = videoLoader(model);
  const live = h("div", { class: "kling-live", "aria-live": "polite", role: "status" });
  const announce = (words) => { live.textContent = words; };
  const disposers = [() => videos.dispose()];
  const ctx = { send, videos, cancellable: () => true };
  const root = h("div", { class: "kling-root kling-panel" });
  disposers.push(followTheme(root));

  // header and key
  const badge = h("span", { class: "kling-badge" });
  const header = h("div", { class: "kling-header" }, h("span", { class: "kling-heading", role: "heading", "aria-level": "2" }), badge);
  const keyInput = h("input", { type: "password", class: "kling-input kling-key-input", autocomplete: "off",
    placeholder: "paste your AI/ML API key and press Enter", "aria-label": "API key" });
  const useKey = () => {
    const key = keyInput.value.trim();
    keyInput.value = ""; // first, before anything can fail
    if (key) send({ kind: "key", key });
  };
  keyInput.addEventListener("keydown", (event) => { if (event.key === "Enter") useKey(); });
  const keyButton = h("button", { type: "button", class: "kling-button", text: "Use key", onclick: useKey });
  const demoButton = h("button", { type: "button", class: "kling-button", text: "Back to demo mode",
    onclick: () => send({ kind: "demo_mode" }) });
  const keyStatus = h("div", { class: "kling-key-status" });
  const keyBox = h("div", { class: "kling-key" },
    h("div", { class: "kling-inline" }, h("label", { class: "kling-label", text: "API key", for: "" }), keyInput, keyButton, demoButton), keyStatus);
  keyBox.querySelector("label").htmlFor = keyInput.id = `kling-key-${++uid}`;

  // image
  const urlInput = h("input", { type: "url", class: "kling-input", placeholder: "https://... image URL (jpg or png)" });
  const sendUrl = debounce(() => send({ kind: "image_url", url: urlInput.value }), 300);
  urlInput.addEventListener("input", sendUrl);
  const fileInput = h("input", { type: "file", accept: ".jpg,.jpeg,.png,image/*", class: "kling-file", tabindex: "-1", "aria-hidden": "true" });
  const imageLocal = h("div", { class: "kling-note kling-bad", role: "alert" });
  let imageState = {};
  fileInput.addEventListener("change", async () => {
    const file = fileInput.files && fileInput.files[0];
    fileInput.value = "";
    if (!file) return;
    urlInput.value = "";
    if (file.size > imageState.max_bytes) {
      imageLocal.textContent = `${file.name} is over the ${imageState.limit_text} limit for an input image: it was not sent.`;
      send({ kind: "upload_refused", name: file.name, size: file.size });
      return;
    }
    imageLocal.textContent = "";
    const bytes = await file.arrayBuffer();
    const count = Math.max(1, Math.ceil(bytes.byteLength / UPLOAD_CHUNK));
    const upload = `${Date.now()}-${++uid}`;
    for (let index = 0; index < count; index++) {
      send({ kind: "upload", name: file.name, size: file.size, upload, index, count },
        [bytes.slice(index * UPLOAD_CHUNK, (index + 1) * UPLOAD_CHUNK)]);
    }
  });
  const uploadButton = h("button", { type: "button", class: "kling-button", text: "Upload image",
    title: "Choose an image file from this computer", onclick: () => fileInput.click() });
  const demoImage = h("button", { type: "button", class: "kling-button", text: "Demo image",
    title: "Use the bundled Mona Lisa image", onclick: () => { urlInput.value = ""; imageLocal.textContent = ""; send({ kind: "demo_image" }); } });
  const preview = h("img", { class: "kling-preview", alt: "Preview of the input image" });
  const imageStatus = h("div", { class: "kling-image-status" });
  const imageBox = h("section", { class: "kling-image", "aria-label": "Image" },
    h("div", { class: "kling-section-title", text: "Image (first frame of the video)" }),
    field("Image URL", urlInput),
    h("div", { class: "kling-inline" }, uploadButton, demoImage, fileInput),
    preview, imageLocal, imageStatus);

  // controls
  const modelSelect = h("select", { class: "kling-input" });
  for (const [id, name] of model.get("models")) modelSelect.append(h("option", { value: id, text: name }));
  modelSelect.addEventListener("change", () => send({ kind: "set", field: "model", value: modelSelect.value }));
  const counted = (name, rows, placeholder) => {
    const area = h("textarea", { class: "kling-input", rows: String(rows), placeholder });
    const counter = h("span", { class: "kling-counter kling-note kling-muted", "aria-live": "off" });
    area.addEventListener("input", () => { count(); setLater(name, area.value); });
    area.addEventListener("change", flush);
    const count = () => {
      const limit = area.dataset.limit ? Number(area.dataset.limit) : 2500;
      counter.textContent = `${area.value.length} / ${limit} characters`;
      counter.className = `kling-counter kling-note ${area.value.length > limit ? "kling-bad" : "kling-muted"}`;
    };
    return { area, counter, count };
  };
  const prompt = counted("prompt", 3, "Describe the motion, e.g. 'She smiles and puts on glasses.'");
  const negative = counted("negative_prompt", 2, "What to avoid, e.g. 'blur, distort, and low quality'");
  const promptField = field("Prompt", prompt.area, prompt.counter);
  promptField.classList.add("kling-prompt");
  const negativeField = field("Negative prompt", negative.area, negative.counter);
  const durations = h("div", { class: "kling-durations", role: "group", "aria-label": "Video length" });
  const wait = h("span", { class: "kling-note kling-muted kling-wait" });
  const audio = h("input", { type: "checkbox", onchange: () => send({ kind: "set", field: "generate_audio", value: audio.checked }) });
  const audioField = h("label", { class: "kling-check" }, audio, " Generate audio with the video");
  const endImage = h("input", { type: "url", class: "kling-input", placeholder: "https://... last frame (optional)" });
  endImage.addEventListener("input", () => setLater("end_image", endImage.value));
  const endField = field("End frame URL", endImage);
  // advanced
  const sendCfg = h("input", { type: "checkbox", onchange: () => send({ kind: "set", field: "send_cfg", value: sendCfg.checked }) });
  const cfg = h("input", { type: "range", min: "0", max: "1", step: "0.05", class: "kling-range", "aria-label": "cfg_scale value" });
  const cfgValue = h("output", { class: "kling-note kling-muted" });
  cfg.addEventListener("input", () => { cfgValue.textContent = Number(cfg.value).toFixed(2); setLater("cfg_scale", Number(cfg.value)); });
  const cfgField = h("div", { class: "kling-inline" }, h("label", { class: "kling-check" }, sendCfg, " send cfg_scale"), cfg, cfgValue);
  const cfgNote = h("div", { class: "kling-note kling-warn" });
  const camera = h("select", { class: "kling-input", onchange: () => send({ kind: "set", field: "camera", value: camera.value }) });
  const axis = h("select", { class: "kling-input", "aria-label": "Camera axis", onchange: () => send({ kind: "set", field: "axis", value: axis.value }) });
  const amount = h("input", { type: "range", min: "-10", max: "10", step: "1", class: "kling-range", "aria-label": "Camera amount" });
  amount.addEventListener("input", () => setLater("amount", Number(amount.value)));
  const cameraField = h("div", {}, field("Camera control", camera), h("div", { class: "kling-inline" }, axis, amount));
  const cameraNote = h("div", { class: "kling-note kling-warn" });
  const provider = h("select", { class: "kling-input", onchange: () => send({ kind: "set", field: "provider", value: provider.value }) });
  const providerField = field("Provider", provider);
  const advanced = h("details", { class: "kling-advanced" },
    h("summary", { text: "Advanced (sent only when set)" }), cfgField, cfgNote, cameraField, cameraNote, providerField,
    h("div", { class: "kling-note kling-muted", text: "Which backend runs the job: auto tries native Kling first, then the fal.ai mirror." }));
  let advancedOpened = false;
  const controlsBox = h("section", { class: "kling-controls", "aria-label": "Request" },
    field("Model", modelSelect), promptField, negativeField,
    h("div", { class: "kling-inline" }, h("span", { class: "kling-label", text: "Video length" }), durations, wait),
    audioField, endField, advanced);

  // generate
  let focusNewRow = false;
  const generate = h("button", { type: "button", class: "kling-button kling-primary kling-generate", text: "Generate",
    onclick: () => {
      if (generate.getAttribute("aria-disabled") === "true") return;
      focusNewRow = true;
      send({ kind: "generate", again: false });
    } });
  const cost = h("div", { class: "kling-cost" });
  const reason = h("div", { class: "kling-note kling-bad kling-reason" });
  const question = h("div", { class: "kling-question", role: "alert" });
  const actions = h("div", { class: "kling-actions" }, generate, h("div", { class: "kling-action-text" }, cost, reason));

  // rows
  const rows = rowsList(ctx, announce, (view) => {
    if (focusNewRow && !view.cancel.hidden) view.cancel.focus();
    focusNewRow = false;
  });
  disposers.push(() => rows.dispose());

  // unfinished and uncertain
  const pending = h("section", { class: "kling-pending", "aria-label": "Unfinished generations" });
  const uncertain = h("section", { class: "kling-uncertain", "aria-label": "Submissions with an unknown outcome" });

  // history
  const historyBody = h("div", { class: "kling-history-body" });
  const history = h("details", { class: "kling-history" }, h("summary", { text: "History" }), historyBody);
  let historyPage = 0;
  history.addEventListener("toggle", () => { if (history.open) send({ kind: "history", page: historyPage }); });

  root.append(header, silence, keyBox, h("div", { class: "kling-main" }, imageBox, controlsBox), actions, question,
    rows.el, pending, uncertain, history, live);
  el.append(root);

  // -- drawing the traits --
  const drawHeader = () => {
    const state = model.get("header") || {};
    text(header.firstChild, state.title || "Kling");
    text(badge, state.mode || "");
    badge.className = `kling-badge ${state.demo ? "kling-badge-demo" : "kling-badge-live"}`;
  };
  const drawKey = () => {
    const state = model.get("key") || {};
    demoButton.hidden = !state.live;
    html(keyStatus, state.status_html);
  };
  const drawImage = () => {
    imageState = model.get("image") || {};
    if (document.activeElement !== urlInput && urlInput.value !== imageState.url) urlInput.value = imageState.url || "";
    if (imageState.preview) { preview.src = imageState.preview; preview.hidden = false; }
    else { preview.removeAttribute("src"); preview.hidden = true; }
    html(imageStatus, imageState.status_html);
    if (imageState.ok) imageLocal.textContent = "";
  };
  const drawControls = () => {
    const state = model.get("controls") || {};
    const v = state.values || {};
    const spec = state.model || {};
    const takes = new Set(spec.takes || []);
    modelSelect.value = v.model;
    prompt.area.dataset.limit = spec.max_prompt;
    negative.area.dataset.limit = spec.max_negative;
    for (const [part, field] of [[prompt, "prompt"], [negative, "negative_prompt"]]) {
      if (!editing(field, part.area) && part.area.value !== v[field]) part.area.value = v[field] || "";
      part.count();
    }
    text(promptField.querySelector("label"), spec.prompt_required ? "Prompt (required by this model)" : "Prompt");
    negativeField.hidden = !takes.has("negative_prompt");
    // Rebuilt only when the model's durations change: a button replaced under the pointer (any
    // state update redraws the controls) would swallow the click being made on it.
    const offered = (spec.durations || []).join(",");
    if (durations.dataset.offered !== offered) {
      durations.dataset.offered = offered;
      durations.replaceChildren(...(spec.durations || []).map((d) => h("button", {
        type: "button", class: "kling-button kling-toggle", text: `${d} s`, "data-duration": String(d),
        onclick: () => send({ kind: "set", field: "duration", value: d }) })));
    }
    for (const button of durations.children) {
      button.setAttribute("aria-pressed", String(Number(button.dataset.duration) === v.duration));
    }
    text(wait, state.wait || "");
    audioField.hidden = !spec.audio;
    audio.checked = Boolean(v.generate_audio);
    endField.hidden = !spec.end_frame;
    if (!editing("end_image", endImage)) endImage.value = v.end_image || "";
    cfgField.hidden = !takes.has("cfg_scale");
    sendCfg.checked = Boolean(v.send_cfg);
    cfg.disabled = !v.send_cfg;
    if (!editing("cfg_scale", cfg)) {
      cfg.value = v.cfg_scale;
      cfgValue.textContent = Number(v.cfg_scale).toFixed(2);
    }
    text(cfgNote, (state.notes || {}).cfg_scale || "");
    cameraField.hidden = !takes.has("camera_control");
    if (!camera.options.length) {
      camera.append(h("option", { value: "", text: "not sent" }), ...(state.cameras || []).map((c) => h("option", { value: c, text: c })));
      axis.append(...(state.axes || []).map((a) => h("option", { value: a, text: a })));
      provider.append(h("option", { value: "", text: "not sent (gateway default: auto)" }),
        ...(state.providers || []).map((p) => h("option", { value: p, text: p })));
    }
    camera.value = v.camera;
    axis.value = v.axis;
    if (!editing("amount", amount)) amount.value = v.amount;
    axis.disabled = amount.disabled = v.camera !== "simple";
    text(cameraNote, (state.notes || {}).camera_control || "");
    providerField.hidden = !takes.has("provider");
    provider.value = v.provider;
    if (state.advanced_open && !advancedOpened) { advanced.open = true; advancedOpened = true; }
  };
  const drawReady = () => {
    const state = model.get("ready") || {};
    html(cost, state.cost_html);
    text(reason, state.reason || "");
    generate.setAttribute("aria-disabled", String(!state.can_generate));
    generate.textContent = state.busy ? "Generate (sending\u2026)" : "Generate";
    generate.title = state.reason || "Start a generation (runs in the background)";
    if (state.question) {
      if (question.dataset.text !== state.question) {
        question.dataset.text = state.question;
        const again = h("button", { type: "button", class: "kling-button kling-warn-button", text: "Yes, send it again",
          onclick: () => { focusNewRow = true; send({ kind: "generate", again: true }); } });
        const keep = h("button", { type: "button", class: "kling-button", text: "No, keep the one sent",
          onclick: () => { send({ kind: "keep" }); generate.focus(); } });
        question.replaceChildren(h("span", { class: "kling-note kling-warn", text: state.question }), again, keep);
        again.focus();
      }
      question.hidden = false;
    } else {
      question.dataset.text = "";
      question.replaceChildren();
      question.hidden = true;
    }
  };
  const drawPending = () => {
    const state = model.get("pending") || {};
    const entries = state.entries || [];
    const running = state.running || [];
    const notes = state.notes || [];
    pending.hidden = !entries.length && !running.length && !notes.length;
    if (pending.hidden) { pending.replaceChildren(); return; }
    const left = entries.filter((e) => !e.resumed).length;
    pending.replaceChildren(
      h("div", { class: "kling-inline" },
        h("span", { class: "kling-section-title", text: "Unfinished generations" }),
        h("span", { class: "kling-note kling-muted", text: "(submitted earlier: resuming only waits and downloads)" }),
        h("button", { type: "button", class: "kling-button", text: left ? "Resume all" : "Resumed", "aria-disabled": String(!left),
          onclick: () => left && send({ kind: "resume_all" }) })),
      ...entries.map((e) => h("div", { class: "kling-inline kling-entry" },
        h("button", { type: "button", class: "kling-button", text: e.resumed ? "Resumed" : "Resume", "aria-disabled": String(e.resumed),
          "aria-label": `${e.resumed ? "Resumed" : "Resume"} ${e.id}`, onclick: () => !e.resumed && send({ kind: "resume", id: e.id }) }),
        h("span", { text: e.text }), h("code", { class: "kling-code", text: e.id }))),
      ...running.map((e) => h("div", { class: "kling-entry" },
        h("span", { class: "kling-note kling-muted", text: "Running in another panel (or cell) of this kernel, saved there: " }),
        h("span", { text: e.text }), " ", h("code", { class: "kling-code", text: e.id }))),
      ...notes.map((n) => h("div", { class: "kling-note kling-warn", text: n })));
  };
  const drawUncertain = () => {
    const items = model.get("uncertain") || [];
    uncertain.hidden = !items.length;
    uncertain.replaceChildren(...(items.length ? [h("div", {},
      h("span", { class: "kling-section-title", text: "Submissions with an unknown outcome " }),
      h("span", { class: "kling-note kling-warn", text: "(check these before you click Generate again: generating again may pay twice)" }))] : []),
    ...items.map((item) => {
      const found = h("input", { type: "text", class: "kling-input", placeholder: "generation id from the dashboard",
        "aria-label": `Generation id for row ${item.row}` });
      const status = h("span", { class: "kling-note kling-bad", "data-row": String(item.row), role: "status" });
      return h("div", { class: "kling-entry kling-uncertain-item" },
        h("div", { class: "kling-strong", text: item.title }), h("div", { text: item.what }), h("div", { text: item.check }),
        h("div", {}, "From a terminal: ", h("code", { class: "kling-code", text: item.cli[0] }), " or ", h("code", { class: "kling-code", text: item.cli[1] })),
        h("div", { class: "kling-inline" }, found,
          h("button", { type: "button", class: "kling-button", text: "Record id", onclick: () => send({ kind: "settle", row: item.row, generation_id: found.value }) }),
          h("button", { type: "button", class: "kling-button", text: "Not created", onclick: () => send({ kind: "settle", row: item.row, generation_id: null }) }),
          status));
    }));
  };
  const drawHistory = (message, buffers) => {
    historyPage = message.page;
    const player_ = h("div", { class: "kling-history-player" });
    const notice = h("div", { class: "kling-note kling-info", role: "status" });
    const cards = message.items.map((item) => {
      const picture = item.thumb !== null && buffers[item.thumb]
        ? h("img", { class: "kling-thumb", alt: `First frame of ${item.name}` })
        : h("div", { class: "kling-thumb kling-thumb-empty", text: item.video ? "no preview" : "no video yet" });
      if (picture.tagName === "IMG") {
        const data = buffers[item.thumb];
        picture.src = URL.createObjectURL(new Blob([data.buffer ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : data], { type: "image/jpeg" }));
      }
      return h("div", { class: "kling-card" }, picture,
        h("div", { class: "kling-card-prompt", text: item.prompt || "(no prompt)" }),
        h("div", { class: "kling-note kling-muted", text: item.facts }),
        h("div", { class: "kling-note kling-muted", text: item.created }),
        item.generation_id ? h("code", { class: "kling-code kling-small", text: item.generation_id }) : null,
        h("div", { class: "kling-inline" },
          h("button", { type: "button", class: "kling-button", text: "Play", "aria-label": `Play ${item.name || "video"}`, "aria-disabled": String(!item.video),
            onclick: () => item.video && player_.replaceChildren(player({ token: item.video, name: item.name, remote: null }, videos)) }),
          h("button", { type: "button", class: "kling-button", text: "Re-run", "aria-disabled": String(!item.rerun),
            title: item.rerun_note || "edit and generate again",
            onclick: () => item.rerun && send({ kind: "rerun", row: item.row }) })));
    });
    historyBody.replaceChildren(
      h("div", { class: "kling-inline" },
        h("button", { type: "button", class: "kling-button", text: "Refresh", onclick: () => send({ kind: "history", page: historyPage }) }),
        h("button", { type: "button", class: "kling-button", text: "\u2190 Newer", "aria-disabled": String(message.page <= 0),
          onclick: () => message.page > 0 && send({ kind: "history", page: message.page - 1 }) }),
        h("span", { text: message.header }),
        h("button", { type: "button", class: "kling-button", text: "Older \u2192", "aria-disabled": String(message.page >= message.pages - 1),
          onclick: () => message.page < message.pages - 1 && send({ kind: "history", page: message.page + 1 }) })),
      notice, player_, h("div", { class: "kling-grid" }, cards));
  };

  const onMessage = (message, buffers) => {
    if (!message) return;
    if (message.kind === "pong") {
      clearTimeout(pingTimer);
      pingTimer = null;
      silence.hidden = true;
    } else if (message.kind === "history") drawHistory(message, buffers || []);
    else if (message.kind === "rerun") {
      const notice = historyBody.querySelector(".kling-info");
      if (notice) notice.textContent = message.text;
      prompt.area.focus();
    } else if (message.kind === "settled") {
      const status = uncertain.querySelector(`[data-row="${message.row}"]`);
      if (status) status.textContent = message.error;
    }
  };
  model.on("msg:custom", onMessage);
  disposers.push(() => model.off("msg:custom", onMessage));

  const draws = { header: drawHeader, key: drawKey, image: drawImage, controls: drawControls, ready: drawReady,
    rows: () => rows.update(model.get("rows")), pending: drawPending, uncertain: drawUncertain };
  for (const [name, draw] of Object.entries(draws)) {
    draw();
    model.on(`change:${name}`, draw);
    disposers.push(() => model.off(`change:${name}`, draw));
  }
  return () => { for (const dispose of disposers) dispose(); };
}

function jobsView({ model, el }) {
  const videos = videoLoader(model);
  const live = h("div", { class: "kling-live", "aria-live": "polite", role: "status" });
  const ctx = { send: (content) => model.send(content), videos, cancellable: () => model.get("cancellable") };
  const rows = rowsList(ctx, (words) => { live.textContent = words; }, () => {});
  const head = h("div", { class: "kling-batch" });
  const root = h("div", { class: "kling-root kling-jobs" }, head, rows.el, live);
  const stopTheme = followTheme(root);
  el.append(root);
  const draw = () => rows.update(model.get("rows"));
  const drawBatch = () => {
    const state = model.get("batch");
    if (!state) return;
    head.replaceChildren(
      h("div", { class: `kling-note kling-${state.tone}`, role: "status", text: state.summary }),
      h("div", { class: "kling-inline" },
        h("button", { type: "button", class: "kling-button kling-primary", text: state.confirm, title: state.confirm_title,
          "aria-disabled": String(state.confirmed), onclick: () => !state.confirmed && model.send({ kind: "confirm" }) }),
        h("button", { type: "button", class: "kling-button", text: "Stop waiting", "aria-disabled": String(!state.stoppable),
          onclick: () => state.stoppable && model.send({ kind: "stop" }) })),
      ...state.titles.map((title) => h("div", { class: "kling-strong", text: title })));
  };
  draw();
  drawBatch();
  model.on("change:rows", draw);
  model.on("change:batch", drawBatch);
  return () => {
    model.off("change:rows", draw);
    model.off("change:batch", drawBatch);
    rows.dispose(); videos.dispose(); stopTheme();
  };
}

// Hide this model's static stand-in (an output of its own, shown where no view runs).
function hideFallback(model) {
  const id = model.get("fallback_id") || "";
  if (!id || document.querySelector(`style[data-kling-fallback="${id}"]`)) return;
  const style = document.createElement("style");
  style.dataset.klingFallback = id;
  style.textContent = `.kling-fallback[data-kling-model="${CSS.escape(id)}"] { display: none !important; }`;
  document.head.appendChild(style);
}

export function render({ model, el }) {
  hideFallback(model);
  return model.get("view") === "panel" ? panelView({ model, el }) : jobsView({ model, el });
}
