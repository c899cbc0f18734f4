// @ts-check
// flux-widget frontend for anywidget, made of components that each own their state, DOM and
// cleanup (form, status, result, batch grid, history strip, full-size view). Everything shown is
// a trait or arrives in a message; limits and names come from Python (the `limits` trait). User and
// Space text is always set with textContent, never parsed as HTML.

import { createBatchGrid } from "./batch-grid.js";
import { h, listen } from "./dom.js";
import { createEntries } from "./entries.js";
import { isBusy } from "./format.js";
import { createForm } from "./form.js";
import { createHistoryStrip } from "./history-strip.js";
import { keepKeys } from "./keys.js";
import { watch } from "./observe.js";
import { createResult } from "./result.js";
import { createStatus } from "./status.js";
import { createViewer } from "./viewer.js";
import "./widget.css"; // bundled into flux_widget/static/widget.css

/** @typedef {import("./types.js").Traits} Traits */

/** @type {import("@anywidget/types").Render<Traits>} */
function render({ model, el }) {
  const controller = new AbortController();
  const signal = controller.signal;
  const root = h("div", { className: "flux-widget" });

  const generate = () => {
    if (isBusy(model.get("status"))) return;
    form.commitPrompt();
    // Trait updates are serialized asynchronously and can reach the kernel after a custom
    // message sent at the same moment: the request carries the values it was made with.
    const params = Object.fromEntries(model.get("limits").controls.map((name) => [name, model.get(/** @type {keyof Traits} */ (name))]));
    model.send({ type: "generate", params });
    status.expectAnswer();
  };
  const entries = createEntries({ model, signal });
  const form = createForm({ model, signal, onGenerate: generate });
  const status = createStatus({ model, signal, onRetry: generate, onDismiss: () => form.focusPrompt() });
  /** @param {number} index */
  const open = (index) => viewer.open(index);
  const result = createResult({ model, signal, root, onOpen: open });
  const grid = createBatchGrid({ model, entries, signal, onOpen: open });
  const strip = createHistoryStrip({ model, entries, signal });
  const viewer = createViewer({ model, entries, signal, fallbackFocus: () => result.button });
  const source = h("div", { className: "flux-source" });

  root.append(form.node, ...status.nodes, result.node, grid.node, strip.node, source, status.announcer, viewer.node);
  el.replaceChildren(root);

  keepKeys(root, signal);
  listen(root, "keydown", (event) => {
    if (event.key === "Escape" && !viewer.isOpen && isBusy(model.get("status"))) {
      event.preventDefault();
      model.send({ type: "cancel" });
    }
  }, signal);
  watch(model, ["status"], () => {
    root.dataset.status = model.get("status");
  }, signal);
  watch(model, ["source"], () => {
    source.textContent = model.get("source") ? `Images from ${model.get("source")}` : "";
  }, signal);

  return () => {
    controller.abort();
    el.replaceChildren();
  };
}

export default { render };
