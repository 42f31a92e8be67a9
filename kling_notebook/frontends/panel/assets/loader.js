// The widget's ESM: a small loader kept in the saved widget state. It asks the kernel for the
// real view (panel.js and panel.css) and draws it; without a kernel it says what to do.
const loaded = new Map(); // version -> Promise of the view module

function importText(code) {
  const url = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
  return import(/* webpackIgnore: true */ url).finally(() => URL.revokeObjectURL(url));
}

// marimo draws widgets inside a shadow root, which the page's stylesheets do not reach: the style
// goes into the root the view is drawn in (the page's head everywhere else).
function addStyle(css, version, el) {
  const root = el.getRootNode();
  const scope = root instanceof ShadowRoot ? root : document;
  const target = root instanceof ShadowRoot ? root : document.head;
  if (scope.querySelector(`style[data-kling-css="${version}"]`)) return;
  for (const old of scope.querySelectorAll("style[data-kling-css]")) old.remove();
  const style = document.createElement("style");
  style.dataset.klingCss = version;
  style.textContent = css;
  target.appendChild(style);
}

function render({ model, el }) {
  const waiting = document.createElement("div");
  waiting.className = "kling-loading";
  waiting.textContent =
    "Kling panel: loading\u2026 If this stays, the kernel is not running: run this cell to use the panel.";
  el.appendChild(waiting);
  let cleanup = null;
  let gone = false;
  const onMessage = (message) => {
    if (!message || message.kind !== "code" || cleanup || gone) return;
    model.off("msg:custom", onMessage);
    if (!loaded.has(message.version)) loaded.set(message.version, importText(message.js));
    addStyle(message.css, message.version, el);
    loaded.get(message.version).then((view) => {
      if (gone) return;
      waiting.remove();
      cleanup = view.render({ model, el }) || (() => {});
    }).catch((error) => {
      waiting.textContent = `Kling panel: the view could not load (${error}). Run this cell again.`;
    });
  };
  model.on("msg:custom", onMessage);
  model.send({ kind: "code" });
  return () => {
    gone = true;
    model.off("msg:custom", onMessage);
    if (cleanup) cleanup();
  };
}

export default { render };
