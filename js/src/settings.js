// @ts-check
// The settings one click away: size with aspect presets, steps, images, the optional parameters
// the backend takes (from Python's parameter table), seed. A
// disclosure whose summary says what is set; open by default when the widget is wide enough for
// two columns, until the user opens or closes it. Every control is bound to its trait.

import { h, listen, numberField, onAbort } from "./dom.js";
import { hasAspect, PRESETS, presetSize, snapNote } from "./sizes.js";
import { settingsSummary } from "./text.js";
import { setTraits, watch } from "./observe.js";

/** @typedef {import("./types.js").Model} Model */
/** @typedef {import("./types.js").Traits} Traits */

/** From this width (CSS px) the widget has two columns, and the settings start open. */
export const WIDE = 760;

/**
 * @param {{ model: Model, signal: AbortSignal, shell: HTMLElement, onLayout?: (wide: boolean) => void }} props
 *   `onLayout` hears when the widget turns wide (two columns) or narrow.
 */
export function createSettings({ model, signal, shell, onLayout = () => {} }) {
  const limits = model.get("limits");
  const width = numberField("Width", "width", limits.min_size, limits.max_size, limits.size_step);
  const height = numberField("Height", "height", limits.min_size, limits.max_size, limits.size_step);
  const steps = numberField("Steps", "steps", 1, limits.max_steps, 1);
  // One field per optional parameter, shown only where the backend takes its input; empty means its default.
  const optional = (limits.optional || []).map((parameter) => {
    const made = numberField(parameter.label, parameter.name, parameter.min, parameter.max, parameter.step);
    made.input.placeholder = "default";
    return { ...made, parameter };
  });
  const count = numberField("Images", "count", 1, limits.max_count, 1);
  const seed = numberField("Seed", "seed", 0, limits.max_seed, 1);
  seed.field.classList.add("flux-seed-field");
  const presetButtons = PRESETS.map(([label]) =>
    h("button", { type: "button", className: "flux-preset", textContent: label, title: `Aspect ${label}` }),
  );
  const sizeFields = h("div", { className: "flux-grid-fields" }, [width.field, height.field]);
  // A typed size the backend does not take is said beside the fields, not snapped silently.
  const sizeNote = h("p", { className: "flux-field-note", "@role": "status" });
  const presets = h("div", { className: "flux-presets", "@role": "group", "@aria-label": "Aspect ratio" }, presetButtons);
  const randomize = h("input", { type: "checkbox", className: "flux-checkbox", name: "randomize_seed" });
  // Off by default; a folder every image is saved to as it arrives (its images show in the next widget too).
  const saveTo = h("input", { type: "text", className: "flux-input", name: "save_to", placeholder: "off", spellcheck: false });
  const saveField = h("label", { className: "flux-field flux-save-field" }, [h("span", { className: "flux-label", textContent: "Save to folder" }), saveTo]);
  const summaryText = h("span", { className: "flux-settings-summary" });
  const summary = h("summary", { className: "flux-settings-toggle" }, [h("span", { className: "flux-settings-name", textContent: "Settings" }), summaryText]);
  const node = h("details", { className: "flux-settings" }, [
    summary,
    h("div", { className: "flux-settings-body" }, [
      sizeFields,
      sizeNote,
      presets,
      h("div", { className: "flux-grid-fields" }, [steps.field, count.field, ...optional.map(({ field }) => field)]),
      h("div", { className: "flux-seed-row" }, [
        seed.field,
        h("label", { className: "flux-check" }, [randomize, h("span", { textContent: "Randomize seed" })]),
      ]),
      saveField,
    ]),
  ]);

  // Open when wide, closed when narrow, until the user chooses.
  let chosen = false;
  listen(summary, "click", () => {
    chosen = true;
  }, signal);
  const fit = () => {
    const wide = shell.getBoundingClientRect().width >= WIDE;
    if (wide !== shell.classList.contains("flux-wide")) onLayout(wide);
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
      if (name === "width" || name === "height") sizeNote.textContent = input.value.trim() === "" ? "" : snapNote(value, model.get("limits"));
      if (input.value.trim() !== "" && Number.isFinite(value)) setTraits(model, { [name]: value });
      input.value = String(model.get(name)); // the value actually used (Python snaps and clamps it too)
    }, signal);
  }
  for (const { input, parameter } of optional) {
    listen(input, "change", () => {
      const value = Number.parseFloat(input.value);
      setTraits(model, { [parameter.name]: input.value.trim() === "" || !Number.isFinite(value) ? null : value });
    }, signal);
  }
  listen(randomize, "change", () => setTraits(model, { randomize_seed: randomize.checked }), signal);
  listen(saveTo, "change", () => setTraits(model, { save_to: saveTo.value.trim() }), signal);
  watch(model, ["save_to"], () => {
    if (document.activeElement !== saveTo) saveTo.value = model.get("save_to") || "";
  }, signal);
  presetButtons.forEach((button, i) => {
    listen(button, "click", () => setTraits(model, presetSize(model.get("width"), model.get("height"), PRESETS[i], limits)), signal);
  });

  const optionalTraits = /** @type {(keyof Traits)[]} */ (optional.map(({ parameter }) => parameter.name));
  // A Space that takes no size (Kontext: the edit has its input's size) shows no size fields.
  const takesSize = () => {
    const names = model.get("space_parameters") || [];
    return !names.length || names.includes("width") || names.includes("height");
  };
  watch(model, [...optionalTraits, "space_parameters"], () => {
    for (const { field, input, parameter } of optional) {
      const value = model.get(/** @type {keyof Traits} */ (parameter.name));
      input.value = value == null ? "" : String(value);
      field.hidden = !(model.get("space_parameters") || []).includes(parameter.wire);
    }
    sizeFields.hidden = presets.hidden = !takesSize();
  }, signal);
  watch(model, ["width", "height", "steps", "seed", "count", "randomize_seed", "space_parameters"], () => {
    for (const [input, name] of whole) input.value = String(model.get(name));
    presetButtons.forEach((button, i) => {
      button.setAttribute("aria-pressed", String(hasAspect(model.get("width"), model.get("height"), PRESETS[i])));
    });
    randomize.checked = model.get("randomize_seed");
    seed.input.disabled = model.get("randomize_seed");
    summaryText.textContent = settingsSummary({
      width: model.get("width"), height: model.get("height"), steps: model.get("steps"), seed: model.get("seed"),
      randomize_seed: model.get("randomize_seed"), count: model.get("count"), sized: takesSize(),
    });
  }, signal);

  return { node };
}
