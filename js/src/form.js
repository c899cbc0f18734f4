// @ts-check
// The form: prompt, examples, size with aspect presets, steps, guidance, images, seed, and the
// Generate / Cancel buttons. Every control is bound to its trait.

import { h, listen, numberField } from "./dom.js";
import { EXAMPLES, PRESETS, hasAspect, isBusy, presetSize } from "./format.js";
import { setTraits, watch } from "./observe.js";

/** @typedef {import("./types.js").Model} Model */

/**
 * @param {{ model: Model, signal: AbortSignal, onGenerate: () => void }} props
 */
export function createForm({ model, signal, onGenerate }) {
  const limits = model.get("limits");
  const prompt = h("textarea", {
    className: "flux-input flux-prompt",
    rows: 2,
    placeholder: "A tiny astronaut hatching from an egg on the moon",
    name: "prompt",
    dir: "auto",
  });
  const width = numberField("Width", "width", limits.min_size, limits.max_size, limits.size_step);
  const height = numberField("Height", "height", limits.min_size, limits.max_size, limits.size_step);
  const steps = numberField("Steps", "steps", 1, limits.max_steps, 1);
  // Shown only for Spaces that take a guidance scale (FLUX.1-dev); empty means the Space's default.
  const guidance = numberField("Guidance", "guidance", 0, 100, 0.1);
  guidance.input.placeholder = "Space default";
  guidance.field.classList.add("flux-guidance-field");
  const count = numberField("Images", "count", 1, limits.max_count, 1);
  count.field.classList.add("flux-count-field");
  const seed = numberField("Seed", "seed", 0, limits.max_seed, 1);
  seed.field.classList.add("flux-seed-field");
  const presetButtons = PRESETS.map(([label]) =>
    h("button", { type: "button", className: "flux-preset", textContent: label, title: `Aspect ${label}` }),
  );
  const randomize = h("input", { type: "checkbox", className: "flux-checkbox", name: "randomize_seed" });
  const generateButton = h("button", { type: "button", className: "flux-button flux-generate", textContent: "Generate" });
  const cancelButton = h("button", { type: "button", className: "flux-button flux-cancel", textContent: "Cancel" });
  const exampleButtons = EXAMPLES.map((text) => h("button", { type: "button", className: "flux-example", textContent: text }));
  const examples = h("div", { className: "flux-examples", "@role": "group", "@aria-label": "Examples" }, [
    h("span", { className: "flux-label", textContent: "Try" }),
    ...exampleButtons,
  ]);
  const node = h("div", { className: "flux-controls" }, [
    h("label", { className: "flux-field flux-prompt-field" }, [h("span", { className: "flux-label", textContent: "Prompt" }), prompt]),
    examples,
    h("div", { className: "flux-row" }, [
      width.field,
      height.field,
      h("div", { className: "flux-presets", "@role": "group", "@aria-label": "Aspect ratio" }, presetButtons),
    ]),
    h("div", { className: "flux-row" }, [
      steps.field,
      guidance.field,
      count.field,
      seed.field,
      h("label", { className: "flux-check" }, [randomize, h("span", { textContent: "Randomize seed" })]),
    ]),
    h("div", { className: "flux-row flux-actions" }, [generateButton, cancelButton]),
  ]);

  // ---------------------------------------------------------------- controls -> traits
  listen(prompt, "input", () => {
    setTraits(model, { prompt: prompt.value });
    examples.hidden = prompt.value.trim() !== "";
  }, signal);
  listen(prompt, "keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      onGenerate();
    }
  }, signal);
  /** @type {[HTMLInputElement, "width" | "height" | "steps" | "count" | "seed"][]} */
  const whole = [[width.input, "width"], [height.input, "height"], [steps.input, "steps"], [count.input, "count"], [seed.input, "seed"]];
  for (const [input, name] of whole) {
    listen(input, "change", () => {
      const value = Math.round(Number(input.value)); // "1e3" is 1000, as the field shows it
      if (input.value.trim() !== "" && Number.isFinite(value)) setTraits(model, { [name]: value });
      input.value = String(model.get(name)); // the value actually used (Python snaps and clamps it too)
    }, signal);
  }
  listen(guidance.input, "change", () => {
    const value = Number.parseFloat(guidance.input.value);
    setTraits(model, { guidance: guidance.input.value.trim() === "" || !Number.isFinite(value) ? null : value });
  }, signal);
  listen(randomize, "change", () => setTraits(model, { randomize_seed: randomize.checked }), signal);
  presetButtons.forEach((button, i) => {
    listen(button, "click", () => setTraits(model, presetSize(model.get("width"), model.get("height"), PRESETS[i], limits)), signal);
  });
  listen(generateButton, "click", onGenerate, signal);
  listen(cancelButton, "click", () => model.send({ type: "cancel" }), signal);
  for (const button of exampleButtons) {
    listen(button, "click", () => {
      setTraits(model, { prompt: button.textContent || "" });
      prompt.focus();
    }, signal);
  }

  // ---------------------------------------------------------------- traits -> controls
  watch(model, ["prompt"], () => {
    if (prompt.value !== model.get("prompt")) prompt.value = model.get("prompt");
    examples.hidden = model.get("prompt").trim() !== "";
  }, signal);
  watch(model, ["guidance", "space_parameters"], () => {
    const value = model.get("guidance");
    guidance.input.value = value == null ? "" : String(value);
    guidance.field.hidden = !(model.get("space_parameters") || []).includes("guidance_scale");
  }, signal);
  watch(model, ["width", "height", "steps", "seed", "count"], () => {
    for (const [input, name] of whole) input.value = String(model.get(name));
    presetButtons.forEach((button, i) => {
      button.setAttribute("aria-pressed", String(hasAspect(model.get("width"), model.get("height"), PRESETS[i])));
    });
  }, signal);
  watch(model, ["randomize_seed"], () => {
    randomize.checked = model.get("randomize_seed");
    seed.input.disabled = model.get("randomize_seed");
  }, signal);
  watch(model, ["status"], () => {
    const busy = isBusy(model.get("status"));
    const focused = document.activeElement;
    generateButton.disabled = busy;
    cancelButton.disabled = !busy;
    // A button that disables itself would drop focus to the page: hand it to its partner.
    if (busy && focused === generateButton) cancelButton.focus();
    if (!busy && focused === cancelButton) generateButton.focus();
  }, signal);

  return {
    node,
    /** Send the prompt as typed (before a generate request carries it). */
    commitPrompt: () => setTraits(model, { prompt: prompt.value }),
    focusPrompt: () => prompt.focus(),
  };
}
