// @ts-check
// Keys typed in the widget are the widget's: the notebook's shortcuts (d d, b, arrows, Shift+Enter)
// must not act on its cell, and Ctrl/Cmd+S must still save.

import { listen } from "./dom.js";

/** Lumino skips its shortcuts for a key whose target carries this attribute. */
const SUPPRESS = "data-lm-suppress-shortcuts";

/**
 * Ctrl+S or Cmd+S: the one notebook shortcut that works from inside the widget.
 * @param {KeyboardEvent} event
 */
export function isSave(event) {
  return (event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s";
}

/**
 * Keep the notebook's shortcuts out of `root`. A window listener (capture) marks the key's target
 * before the notebook sees it, in JupyterLab (which listens while bubbling) and Notebook 7 (which
 * listens while capturing); JupyterLab's own bubbling listeners never see it at all.
 * @param {HTMLElement} root
 * @param {AbortSignal} signal
 */
export function keepKeys(root, signal) {
  listen(window, "keydown", (event) => {
    const target = event.target;
    if (!(target instanceof Element) || !root.contains(target)) return;
    if (isSave(event)) target.removeAttribute(SUPPRESS);
    else target.setAttribute(SUPPRESS, "true");
  }, signal, true);
  listen(root, "keydown", (event) => {
    if (!isSave(event)) event.stopPropagation();
  }, signal);
}
