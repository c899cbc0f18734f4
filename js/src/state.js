// @ts-check
// The widget's state, read and derived: whether a job runs, what Reuse sets, where the history's
// focus goes after a removal. Pure: no DOM, no model; tested with `node --test` (js/test/).

/** @typedef {import("./types.js").Params} Params */
/** @typedef {import("./types.js").Status} Status */

/**
 * Whether a job is under way: the one place this is decided.
 * @param {Status | string} status
 */
export function isBusy(status) {
  return status === "queued" || status === "running";
}

/**
 * The value of an optional parameter in `params`, or null when it was not used.
 * @param {Params} params
 * @param {string} name
 * @returns {unknown}
 */
export function optionalValue(params, name) {
  return /** @type {Record<string, unknown>} */ (params)[name] ?? null;
}

/**
 * The traits that make an image again as it was (the Reuse action): its prompt, size, steps and
 * the optional parameters it used, its seed with randomizing off, and one image (a batch would
 * make seed, seed+1, …).
 * @param {Params} params
 * @param {string[]} [optional] The optional parameters' names (`limits.optional`).
 */
export function reuseValues(params, optional = []) {
  /** @type {Record<string, unknown>} */
  const values = { seed: params.seed, randomize_seed: false, count: 1 };
  for (const name of /** @type {const} */ (["prompt", "width", "height", "steps"])) {
    if (params[name] != null) values[name] = params[name];
  }
  for (const name of optional) {
    if (optionalValue(params, name) != null) values[name] = optionalValue(params, name);
  }
  return values;
}

/**
 * Where focus goes in a list after the item at `at` is removed: the next item, else the one
 * before, given as its index after the removal (indexes past the removed one shift down).
 * @param {number[]} indexes The items' indexes, in the order shown.
 * @param {number} at The position of the removed item in `indexes`.
 * @returns {number | null}
 */
export function indexAfterRemoval(indexes, at) {
  const removed = indexes[at];
  const kept = indexes[at + 1] ?? indexes[at - 1];
  if (kept == null) return null;
  return kept > removed ? kept - 1 : kept;
}

/**
 * The one order the history strip and the full-size view show entries in (→ is the next in it):
 * the newest run (press of Generate) first, a batch's images in the batch's own order.
 * @param {({ run?: number } | null | undefined)[]} entries The history, oldest first (gaps left out).
 * @returns {number[]} Their indexes, in that order.
 */
export function shownOrder(entries) {
  return entries
    .map((entry, index) => ({ entry, index }))
    .filter(({ entry }) => entry != null)
    .map(({ entry, index }) => ({ index, run: typeof entry?.run === "number" && entry.run !== 0 ? entry.run : index - entries.length }))
    .sort((a, b) => b.run - a.run || a.index - b.index)
    .map(({ index }) => index);
}
