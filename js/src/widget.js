// @ts-check
// flux-widget frontend for anywidget, made of components that each own their state, DOM and
// cleanup: the prompt bar, the view (status, result, batch grid), the settings, the history strip
// and the full-size view. Everything shown is a trait or arrives in a message; limits and names
// come from Python (the `limits` trait). User and Space text is always set with textContent.
//
// Layout: the prompt, Generate and the image come first; the settings are one click away. When the
// widget is wide (760 px and more) it has two columns, the prompt and settings beside the image.

import { createBatchGrid } from "./batch-grid.js";
import { h, listen } from "./dom.js";
import { createEntries } from "./entries.js";
import { isBusy } from "./state.js";
import { createFullImages } from "./full-images.js";
import { createHistoryStrip } from "./history-strip.js";
import { keepKeys } from "./keys.js";
import { current, tell, watch } from "./observe.js";
import { createPromptBar } from "./prompt-bar.js";
import { createQueueList } from "./queue-list.js";
import { createReferenceTray } from "./reference-tray.js";
import { createRequests } from "./requests.js";
import { createResult } from "./result.js";
import { createSettings } from "./settings.js";
import { createStatus } from "./status.js";
import { createViewer } from "./viewer.js";
import "./widget.css"; // bundled into flux_widget/static/widget.css

/** @typedef {import("./types.js").Traits} Traits */

/** @type {import("@anywidget/types").Render<Traits>} */
function render({ model, el }) {
  const controller = new AbortController();
  const signal = controller.signal;
  const root = h("div", { className: "flux-widget" });
  const shell = h("div", { className: "flux-shell" }, [root]);

  const generate = () => {
    const queued = isBusy(model.get("status")); // the kernel queues a press made while a job runs
    promptBar.commitPrompt();
    // Trait updates are serialized asynchronously and can reach the kernel after a custom
    // message sent at the same moment: the request carries the values it was made with.
    const params = Object.fromEntries(model.get("limits").controls.map((name) => [name, model.get(/** @type {keyof Traits} */ (name))]));
    tell(model, { type: "generate", params });
    if (!queued) status.expectAnswer();
  };
  const requests = createRequests({ model, signal });
  const entries = createEntries({ model, signal });
  const images = createFullImages({ model, entries, requests, signal });
  const promptBar = createPromptBar({ model, signal, onGenerate: generate });
  // Tab follows what the eye reads: wide, the settings sit under the prompt (before the image);
  // narrow, under the image. The grid places them either way; the DOM order is what Tab follows.
  const settings = createSettings({
    model, signal, shell, onLayout: (wide) => (wide ? view.before(settings.node) : view.after(settings.node)),
  });
  const status = createStatus({
    model, signal, onRetry: generate, onDismiss: () => promptBar.focusPrompt(),
    onWait: (seconds, text) => promptBar.setWait(seconds, text),
  });
  /** @param {string} text */
  const say = (text) => status.say(text);
  const result = createResult({ model, signal, root, onOpen: (index) => viewer.open(index, () => result.button), onSay: say });
  const grid = createBatchGrid({ model, entries, images, signal, onOpen: (index, back) => viewer.open(index, back), onSay: say });
  // Showing an entry sets its prompt: a prompt typed and not yet sent is offered back, never lost.
  const select = (/** @type {number} */ index) => {
    const typed = promptBar.prompt.value;
    const entry = entries.list()[index];
    if (!tell(model, { type: "select", index })) return;
    if (typed.trim() && entry && typed !== entry.prompt && typed !== current(model).prompt) {
      status.say("The prompt is this image's now.", "Put back what you typed", () => promptBar.putBack(typed));
    }
  };
  const strip = createHistoryStrip({ model, entries, requests, signal, onEmpty: () => promptBar.focusPrompt(), onSelect: select });
  const viewer = createViewer({ model, entries, images, requests, signal, fallbackFocus: () => result.button });
  const tray = createReferenceTray({ model, signal, onSay: say });
  const source = h("div", { className: "flux-source" });
  const queue = createQueueList({ model, signal });
  const view = h("div", { className: "flux-view" }, [...status.nodes, queue.node, result.node, result.empty, grid.node]);

  promptBar.node.prepend(tray.node); // above the prompt, in its column
  root.append(promptBar.node, view, settings.node, strip.node, source, status.announcer, viewer.node);
  if (shell.classList.contains("flux-wide")) view.before(settings.node);
  // Files dropped anywhere on the widget, or images pasted into the prompt, go to the reference tray.
  listen(root, "dragover", (event) => {
    if (Array.from(event.dataTransfer?.types || []).includes("Files")) event.preventDefault();
  }, signal);
  listen(root, "drop", (event) => {
    const files = Array.from(event.dataTransfer?.files || []);
    if (!files.length) return;
    event.preventDefault();
    tray.addFiles(files);
  }, signal);
  listen(promptBar.prompt, "paste", (event) => {
    const files = Array.from(event.clipboardData?.items || [])
      .filter((item) => item.kind === "file" && item.type.startsWith("image/"))
      .map((item) => item.getAsFile())
      .filter((file) => file != null);
    if (!files.length) return;
    event.preventDefault();
    tray.addFiles(/** @type {File[]} */ (files));
  }, signal);
  el.replaceChildren(shell);

  keepKeys(root, signal);
  // Escape cancels a running job; with none, it hands focus back to the notebook (JupyterLab's
  // command mode, as Escape in a cell's editor does).
  listen(root, "keydown", (event) => {
    if (event.key !== "Escape" || viewer.isOpen || event.defaultPrevented) return;
    event.preventDefault();
    if (isBusy(model.get("status"))) tell(model, { type: "cancel" });
    else /** @type {HTMLElement | null} */ (root.closest(".jp-Notebook, .jp-Cell"))?.focus();
  }, signal);
  watch(model, ["status"], () => {
    root.dataset.status = model.get("status");
  }, signal);
  watch(model, ["source", "save_to"], () => {
    const from = model.get("source") ? `Images from ${model.get("source")}` : "";
    source.textContent = [from, model.get("save_to") ? `saved to ${model.get("save_to")}` : ""].filter(Boolean).join(" · ");
  }, signal);

  return () => {
    controller.abort();
    el.replaceChildren();
  };
}

export default { render };
