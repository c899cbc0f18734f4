// @ts-check
// The settings one click away: size with aspect presets, steps, guidance, images, seed. A
// disclosure whose summary says what is set; open by default when the widget is wide enough for
// two columns, until the user opens or closes it. Every control is bound to its trait.

import { h, listen, numberField, onAbort } from "./dom.js";
import { PRESETS, hasAspect, presetSize, settingsSummary } from "./format.js";
import { setTraits, watch } from "./observe.js";

/** @typedef {import("./types.js").Model} Model */

/** From this width (CSS px) the widget has two columns, and the settings start open. */
export const WIDE = 760;

/**
 * @param {{ model: Model, signal: AbortSignal, shell: HTMLElement }} props
 */
export function createSettings({ model, signal, shell }) {
  const limits = model.get("limits");
  const width = numberField("Width", "width", limits.min_size, limits.max_size, limits.size_step);
  const height = numberField("Height", "height", limits.min_size, limits.max_size, limits.size_step);
  const steps = numberField("Steps", "steps", 1, limits.max_steps, 1);
  // Shown only for Spaces that take a guidance scale (FLUX.1-dev); empty means the Space's default.
  const guidance = numberField("Guidance", "guidance", 0, 100, 0.1);
  guidance.input.placeholder = "default";
  const count = numberField("Images", "count", 1, limits.max_count, 1);
  const seed = numberField("Seed", "seed", 0, limits.max_seed, 1);
  seed.field.classList.add("flux-seed-field");
  const presetButtons = PRESETS.map(([label]) =>
    h("button", { type: "button", className: "flux-preset", textContent: label, title: `Aspect ${label}` }),
  );
  const randomize = h("input", { type: "checkbox", className: "flux-checkbox", name: "randomize_seed" });
  const summaryText = h("span", { className: "flux-settings-summary" });
  const summary = h("summary", { className: "flux-settings-toggle" }, [h("span", { className: "flux-settings-name", textContent: "Settings" }), summaryText]);
  const node = h("details", { className: "flux-settings" }, [
    summary,
    h("div", { className: "flux-settings-body" }, [
      h("div", { className: "flux-grid-fields" }, [width.field, height.field]),
      h("div", { className: "flux-presets", "@role": "group", "@aria-label": "Aspect ratio" }, presetButtons),
      h("div", { className: "flux-grid-fields" }, [steps.field, count.field, guidance.field]),
      h("div", { className: "flux-seed-row" }, [
        seed.field,
        h("label", { className: "flux-check" }, [randomize, h("span", { textContent: "Randomize seed" })]),
      ]),
    ]),
  ]);

  // Open when wide, closed when narrow, until the user chooses.
  let chosen = false;
  listen(summary, "click", () => {
    chosen = true;
  }, signal);
  const fit = () => {
    const wide = shell.getBoundingClientRect().width >= WIDE;
    shell.classList.toggle("flux-wide", wide);
    if (!chosen && shell.isConnected && shell.getBoundingClientRect().width > 0) node.open = wide;
  };
  const resizes = typeof ResizeObserver === "undefined" ? null : new ResizeObserver(fit);
  resizes?.observe(shell);
  onAbort(signal, () => resizes?.disconnect());
  if (!resizes) node.open = true;

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

  watch(model, ["guidance", "space_parameters"], () => {
    const value = model.get("guidance");
    guidance.input.value = value == null ? "" : String(value);
    guidance.field.hidden = !(model.get("space_parameters") || []).includes("guidance_scale");
  }, signal);
  watch(model, ["width", "height", "steps", "seed", "count", "randomize_seed"], () => {
    for (const [input, name] of whole) input.value = String(model.get(name));
    presetButtons.forEach((button, i) => {
      button.setAttribute("aria-pressed", String(hasAspect(model.get("width"), model.get("height"), PRESETS[i])));
    });
    randomize.checked = model.get("randomize_seed");
    seed.input.disabled = model.get("randomize_seed");
    summaryText.textContent = settingsSummary({
      width: model.get("width"), height: model.get("height"), steps: model.get("steps"), seed: model.get("seed"),
      randomize_seed: model.get("randomize_seed"), count: model.get("count"),
    });  
  }, signal);

  return { node };
}
