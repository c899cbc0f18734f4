// @ts-check
// Watching the model: listeners that go away with the view.

import { reuseValues } from "./state.js";

/** @typedef {import("./types.js").Model} Model */
/** @typedef {import("./types.js").Traits} Traits */

/**
 * Call `handler` now and whenever one of the traits `names` changes, until `signal` aborts.
 * @param {Model} model
 * @param {(keyof Traits)[]} names
 * @param {() => void} handler
 * @param {AbortSignal} signal
 */
export function watch(model, names, handler, signal) {
  for (const name of names) model.on(`change:${name}`, handler);
  signal.addEventListener("abort", () => {
    for (const name of names) model.off(`change:${name}`, handler);
  }, { once: true });
  handler();
}

/**
 * Set traits and send them to the kernel in one go.
 * @param {Model} model
 * @param {Partial<Traits>} values
 */
export function setTraits(model, values) {
  for (const [name, value] of Object.entries(values)) model.set(/** @type {keyof Traits} */ (name), /** @type {any} */ (value));
  model.save_changes();
}

/**
 * Make the controls those of an image, so Generate makes it again (the Reuse actions).
 * @param {Model} model
 * @param {import("./types.js").Params} params
 */
export function reuseImage(model, params) {
  setTraits(model, /** @type {Partial<Traits>} */ (reuseValues(params, optionalNames(model))));
}

/**
 * The names of the optional request parameters (`limits.optional`), for captions and Reuse.
 * @param {Model} model
 * @returns {string[]}
 */
export function optionalNames(model) {
  return (model.get("limits").optional || []).map((parameter) => parameter.name);
}

/**
 * The parameters of the image on show ({} when none).
 * @param {Model} model
 */
export function current(model) {
  return model.get("current") || {};
}

/**
 * Send a message to the kernel: one of the declared `ToKernel` messages, bytes (a file) as binary buffers.
 * @param {Model} model
 * @param {import("./types.js").ToKernel} message
 * @param {ArrayBuffer[]} [buffers]
 */
export function tell(model, message, buffers) {
  if (buffers) model.send(message, undefined, buffers);
  else model.send(message);
}
