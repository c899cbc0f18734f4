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
 * Set traits and send them to the kernel in one go; false when no kernel holds the model.
 * @param {Model} model
 * @param {Partial<Traits>} values
 */
export function setTraits(model, values) {
  for (const [name, value] of Object.entries(values)) model.set(/** @type {keyof Traits} */ (name), /** @type {any} */ (value));
  try {
    model.save_changes();
    // A closed comm may take the changes without a word: once a send has failed, say so each time.
    if (lostModels.has(model)) lost(model);
  } catch {
    lost(model); // no kernel holds the model any more (it was restarted or shut down)
  }
  return !lostModels.has(model);
}

/** Models a send to the kernel has failed for. @type {WeakSet<Model>} */
const lostModels = new WeakSet();

/** Who wants to know that a model lost its kernel. @type {WeakMap<Model, Set<() => void>>} */
const onLostHandlers = new WeakMap();

/**
 * Call `handler` whenever sending to the kernel fails (after a restart the comm is closed, and
 * `model.send` throws), until `signal` aborts.
 * @param {Model} model
 * @param {() => void} handler
 * @param {AbortSignal} signal
 */
export function onLost(model, handler, signal) {
  const handlers = onLostHandlers.get(model) || new Set();
  onLostHandlers.set(model, handlers);
  handlers.add(handler);
  signal.addEventListener("abort", () => handlers.delete(handler), { once: true });
}

/** @param {Model} model */
function lost(model) {
  lostModels.add(model);
  for (const handler of onLostHandlers.get(model) || []) handler();
}

/**
 * Make the controls those of an image, so Generate makes it again (the Reuse actions); false
 * when no kernel holds the model (whoever called `onLost` has said so).
 * @param {Model} model
 * @param {import("./types.js").Params} params
 */
export function reuseImage(model, params) {
  return setTraits(model, /** @type {Partial<Traits>} */ (reuseValues(params, optionalNames(model))));
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
 * Send a message to the kernel: one of the declared `ToKernel` messages, bytes (a file) as binary
 * buffers. False when it could not be sent: then whoever called `onLost` hears of it.
 * @param {Model} model
 * @param {import("./types.js").ToKernel} message
 * @param {ArrayBuffer[]} [buffers]
 */
export function tell(model, message, buffers) {
  try {
    if (buffers) model.send(message, undefined, buffers);
    else model.send(message);
    return true;
  } catch {
    lost(model);
    return false;
  }
}
