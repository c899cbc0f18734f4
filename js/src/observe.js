// @ts-check
// Watching the model: listeners that go away with the view.

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
 * The parameters of the image on show ({} when none).
 * @param {Model} model
 */
export function current(model) {
  return model.get("current") || {};
}
