// @ts-check
// The prompt bar: the prompt (a box that grows with its text, as chat boxes do), the examples
// shown while it is empty, and Generate / Cancel. Enter generates; Shift+Enter is a new line.

import { h, listen, onAbort } from "./dom.js";
import { grownHeight } from "./sizes.js";
import { isBusy } from "./state.js";
import { EXAMPLES } from "./text.js";
import { setTraits, tell, watch } from "./observe.js";

/** @typedef {import("./types.js").Model} Model */

/** The box's height: two lines at least, about ten at most (then it scrolls). */
const MIN_HEIGHT = 52;
const MAX_HEIGHT = 220;

/**
 * @param {{ model: Model, signal: AbortSignal, onGenerate: () => void }} props
 */
export function createPromptBar({ model, signal, onGenerate }) {
  const prompt = h("textarea", {
    className: "flux-input flux-prompt",
    rows: 2,
    placeholder: "A tiny astronaut hatching from an egg on the moon",
    name: "prompt",
    dir: "auto",
  });
  const generateButton = h("button", { type: "button", className: "flux-button flux-generate", textContent: "Generate" });
  const cancelButton = h("button", { type: "button", className: "flux-button flux-cancel", textContent: "Cancel" });
  const waitNote = h("span", { className: "flux-wait-note", id: `flux-wait-${Math.random().toString(36).slice(2)}` });
  const exampleButtons = EXAMPLES.map((text) => h("button", { type: "button", className: "flux-example", textContent: text, title: text }));
  const examples = h("div", { className: "flux-examples", "@role": "group", "@aria-label": "Examples" }, [
    h("span", { className: "flux-label", textContent: "Try" }),
    ...exampleButtons,
  ]);
  // Once the prompt holds text, the examples' room (kept, so Generate stays put) says the keys instead.
  const keysHint = h("p", { className: "flux-keys-hint flux-gone", textContent: "Enter generates · Shift+Enter starts a new line" });
  const suggest = (/** @type {boolean} */ typed) => {
    examples.classList.toggle("flux-gone", typed);
    keysHint.classList.toggle("flux-gone", !typed);
  };
  const node = h("div", { className: "flux-compose" }, [
    h("label", { className: "flux-field flux-prompt-field" }, [h("span", { className: "flux-label", textContent: "Prompt" }), prompt]),
    h("div", { className: "flux-suggest" }, [examples, keysHint]),
    h("div", { className: "flux-actions" }, [generateButton, cancelButton, waitNote]),
  ]);
  /** Seconds left of a quota wait (Generate is disabled meanwhile, in step with Retry). */
  let waiting = 0;

  // The box grows with its text; measured again when the widget's width changes.
  const grow = () => {
    prompt.style.height = "auto";
    prompt.style.height = `${grownHeight(prompt.scrollHeight + 2, MIN_HEIGHT, MAX_HEIGHT)}px`;
    prompt.style.overflowY = prompt.scrollHeight + 2 > MAX_HEIGHT ? "auto" : "hidden";
  };
  const resizes = typeof ResizeObserver === "undefined" ? null : new ResizeObserver(() => grow());
  resizes?.observe(node);
  onAbort(signal, () => resizes?.disconnect());

  // While a job runs Generate stays enabled: a press queues the prompt (the queue shows under the image).
  const showButtons = () => {
    const busy = isBusy(model.get("status"));
    const focused = document.activeElement;
    generateButton.disabled = waiting > 0;
    generateButton.textContent = busy ? "Add to queue" : "Generate";
    cancelButton.disabled = !busy;
    // A button that disables itself would drop focus to the page: hand it to its partner.
    if (!busy && focused === cancelButton) generateButton.focus();
  };

  listen(prompt, "input", () => {
    setTraits(model, { prompt: prompt.value });
    suggest(prompt.value.trim() !== "");
    grow();
  }, signal);
  listen(prompt, "keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      if (!generateButton.disabled) onGenerate();
    }
  }, signal);
  listen(generateButton, "click", onGenerate, signal);
  listen(cancelButton, "click", () => tell(model, { type: "cancel" }), signal);
  for (const button of exampleButtons) {
    listen(button, "click", () => {
      setTraits(model, { prompt: button.textContent || "" });
      prompt.focus();
    }, signal);
  }
  watch(model, ["prompt"], () => {
    if (prompt.value !== model.get("prompt")) prompt.value = model.get("prompt");
    suggest(model.get("prompt").trim() !== "");
    grow();
  }, signal);
  watch(model, ["status"], showButtons, signal);

  return {
    node,
    /** Send the prompt as typed (before a generate request carries it). */
    commitPrompt: () => setTraits(model, { prompt: prompt.value }),
    /**
     * Put `text` back into the prompt box (and the trait), focused, its caret at the end.
     * @param {string} text
     */
    putBack(text) {
      prompt.value = text;
      prompt.focus();
      prompt.setSelectionRange(text.length, text.length);
      prompt.dispatchEvent(new Event("input", { bubbles: true })); // the trait, the box's height and the examples follow
    },
    focusPrompt: () => prompt.focus(),
    /** The prompt box (files pasted into it go to the reference tray). */
    prompt,
    /**
     * A quota wait: Generate is disabled while it lasts and says why.
     * @param {number} seconds Left of the wait (0: over).
     * @param {string} text "Try again in 12:31", or "".
     */
    setWait(seconds, text) {
      waiting = seconds;
      waitNote.textContent = seconds > 0 ? text : "";
      if (seconds > 0) generateButton.setAttribute("aria-describedby", waitNote.id);
      else generateButton.removeAttribute("aria-describedby");
      showButtons();
    },
  };
}
