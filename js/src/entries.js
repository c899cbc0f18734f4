// @ts-check
// The history's entries, resolved: each is a widget model of its own, sent once; `history` lists
// references to them ("IPY_MODEL_…"). Resolved entries are kept by reference, so a new generation
// resolves one. Plain objects (a notebook saved by an older version) are taken as they are.

import { watch } from "./observe.js";

/** @typedef {import("./types.js").Model} Model */
/** @typedef {import("./types.js").Entry} Entry */

const MODEL_REF = "IPY_MODEL_";

/**
 * @param {{ model: Model, signal: AbortSignal }} props
 * @returns {{ list: () => (Entry | null)[], subscribe: (listener: () => void) => void }}
 */
export function createEntries({ model, signal }) {
  /** @type {Map<unknown, Promise<Entry | null>>} */
  const known = new Map();
  /** @type {(Entry | null)[]} */
  let resolved = [];
  /** @type {(() => void)[]} */
  const listeners = [];
  let ticket = 0;

  /** @param {any} entry */
  const fieldsOf = (entry) => {
    const read = typeof entry.get === "function" ? (/** @type {string} */ name) => entry.get(name) : (/** @type {string} */ name) => entry[name];
    return /** @type {Entry} */ (Object.fromEntries(model.get("limits").entry_fields.map((name) => [name, read(name)])));
  };
  /** @param {string | Entry} ref */
  const resolve = (ref) => {
    let found = known.get(ref);
    if (!found) {
      const source =
        typeof ref === "string" && ref.startsWith(MODEL_REF)
          ? model.widget_manager.get_model(ref.slice(MODEL_REF.length))
          : Promise.resolve(ref);
      found = source.then(fieldsOf).catch(() => null);
      known.set(ref, found);
    }
    return found;
  };

  watch(model, ["history"], async () => {
    const mine = ++ticket;
    const list = await Promise.all((model.get("history") || []).map(resolve));
    if (mine !== ticket || signal.aborted) return; // a newer list, or the view is gone
    resolved = list;
    for (const listener of listeners) listener();
  }, signal);

  return {
    list: () => resolved,
    subscribe: (listener) => {
      listeners.push(listener);
    },
  };
}
